// Conversions of IR data into ONNX protobuf data (element types, tensors as raw_data, attributes of
// every IR kind, value types), the inverses of onnx_tensor.cpp, and inlining of external data so
// that a model becomes one self-contained message. Used by the plan writer (plan_io.cpp).
#include "frontend/onnx_internal.h"
#include "support/error.h"

namespace fc::frontend::detail {

using ir::DType;

int32_t dtype_to_onnx(DType t) {
  for (int32_t onnx_type = 0; onnx_type <= kOnnxMaxDataType; ++onnx_type)
    if (t != DType::Undefined && dtype_from_onnx(onnx_type) == t) return onnx_type;
  fail("ONNX writer: a tensor of undefined element type cannot be written");
}

onnx::TensorProto tensor_to_onnx(const ir::Tensor& t, const std::string& name) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(dtype_to_onnx(t.dtype()));
  for (int64_t d : t.dims()) p.add_dims(d);
  // raw_data is little-endian, as is every host we build for; bool is one byte per element in both.
  // Set even when empty, so that a zero-element tensor still says where its (no) data is.
  if (t.dtype() == DType::I4 || t.dtype() == DType::U4) {  // two per byte, low nibble first
    std::string packed((t.numel() + 1) / 2, '\0');
    const auto* elements = static_cast<const uint8_t*>(t.raw());
    for (size_t i = 0; i < t.numel(); ++i) packed[i / 2] = static_cast<char>(packed[i / 2] | ((elements[i] & 0xF) << (4 * (i % 2))));
    p.set_raw_data(packed);
  } else if (t.nbytes() > 0) p.set_raw_data(static_cast<const char*>(t.raw()), t.nbytes());
  else p.set_raw_data(std::string());
  return p;
}

onnx::AttributeProto attribute_to_onnx(const std::string& name, const ir::Attribute& a) {
  onnx::AttributeProto p;
  p.set_name(name);
  // The type field is always set, so that empty lists keep their kind.
  switch (ir::attr_kind(a)) {
    case ir::AttrKind::Int:
      p.set_type(onnx::AttributeProto::INT);
      p.set_i(std::get<int64_t>(a));
      break;
    case ir::AttrKind::Float:
      p.set_type(onnx::AttributeProto::FLOAT);
      p.set_f(std::get<float>(a));
      break;
    case ir::AttrKind::String:
      p.set_type(onnx::AttributeProto::STRING);
      p.set_s(std::get<std::string>(a));
      break;
    case ir::AttrKind::Ints:
      p.set_type(onnx::AttributeProto::INTS);
      for (int64_t v : std::get<std::vector<int64_t>>(a)) p.add_ints(v);
      break;
    case ir::AttrKind::Floats:
      p.set_type(onnx::AttributeProto::FLOATS);
      for (float v : std::get<std::vector<float>>(a)) p.add_floats(v);
      break;
    case ir::AttrKind::Tensor:
      p.set_type(onnx::AttributeProto::TENSOR);
      *p.mutable_t() = tensor_to_onnx(std::get<ir::Tensor>(a), "");
      break;
    case ir::AttrKind::Strings:
      p.set_type(onnx::AttributeProto::STRINGS);
      for (const std::string& v : std::get<std::vector<std::string>>(a)) p.add_strings(v);
      break;
  }
  return p;
}

onnx::TypeProto type_to_onnx(const ir::TensorType& t) {
  onnx::TypeProto p;
  auto* tt = p.mutable_tensor_type();
  tt->set_elem_type(t.dtype == DType::Undefined ? onnx::TensorProto::UNDEFINED : dtype_to_onnx(t.dtype));
  auto* shape = tt->mutable_shape();  // present even for scalars: rank 0 is known
  for (const ir::Dim& d : t.dims) {
    auto* dim = shape->add_dim();
    if (d.is_known()) dim->set_dim_value(d.size);
    else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
  }
  return p;
}

namespace {

void inline_tensor(onnx::TensorProto& t) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
  ir::Tensor value = tensor_from_onnx(t, "tensor '" + t.name() + "'");
  onnx::TensorProto inlined = tensor_to_onnx(value, t.name());
  // Keep what describes the tensor (doc string) and drop only the external reference.
  t.clear_external_data();
  t.clear_data_location();
  t.set_raw_data(std::move(*inlined.mutable_raw_data()));
}

}  // namespace

void inline_external_data(onnx::GraphProto& g) {
  for (auto& t : *g.mutable_initializer()) inline_tensor(t);
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_t()) inline_tensor(*a.mutable_t());
      if (a.has_g()) inline_external_data(*a.mutable_g());  // as far as resolve_external_data goes
    }
}

}  // namespace fc::frontend::detail
