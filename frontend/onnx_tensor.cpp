// Conversions of ONNX protobuf data into IR data: element types, tensors (raw_data, typed fields,
// external files read directly into the tensor's storage with 64-bit offsets), value types and
// attributes.
#include <algorithm>
#include <cstring>
#include <fstream>

#include "frontend/onnx_internal.h"
#include "ir/checked_size.h"
#include "support/error.h"

namespace fc::frontend::detail {

using ir::DType;

DType dtype_from_onnx(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return DType::F32;
    case onnx::TensorProto::DOUBLE: return DType::F64;
    case onnx::TensorProto::INT64: return DType::I64;
    case onnx::TensorProto::INT32: return DType::I32;
    case onnx::TensorProto::INT8: return DType::I8;
    case onnx::TensorProto::UINT8: return DType::U8;
    case onnx::TensorProto::BOOL: return DType::Bool;
    case onnx::TensorProto::INT16: return DType::I16;
    case onnx::TensorProto::UINT16: return DType::U16;
    case onnx::TensorProto::UINT32: return DType::U32;
    case onnx::TensorProto::UINT64: return DType::U64;
    case onnx::TensorProto::FLOAT16: return DType::F16;
    case onnx::TensorProto::BFLOAT16: return DType::BF16;
    // Types of ONNX 1.14+ (opsets 19, 21) that the onnx library we build against predates.
    case kOnnxFloat8E4M3FN: return DType::F8E4M3FN;
    case kOnnxFloat8E4M3FNUZ: return DType::F8E4M3FNUZ;
    case kOnnxFloat8E5M2: return DType::F8E5M2;
    case kOnnxFloat8E5M2FNUZ: return DType::F8E5M2FNUZ;
    case kOnnxUInt4: return DType::U4;
    case kOnnxInt4: return DType::I4;
    default: return DType::Undefined;
  }
}

std::string onnx_type_name(int32_t t) {
  if (onnx::TensorProto::DataType_IsValid(t)) return onnx::TensorProto::DataType_Name(t);
  switch (t) {
    case kOnnxFloat8E4M3FN: return "FLOAT8E4M3FN";
    case kOnnxFloat8E4M3FNUZ: return "FLOAT8E4M3FNUZ";
    case kOnnxFloat8E5M2: return "FLOAT8E5M2";
    case kOnnxFloat8E5M2FNUZ: return "FLOAT8E5M2FNUZ";
    case kOnnxUInt4: return "UINT4";
    case kOnnxInt4: return "INT4";
    default: return "type " + std::to_string(t);
  }
}

namespace {

struct ExternalData {
  std::string location;
  uint64_t offset = 0;
};

// Where a tensor's external data lies, checked against the file's size before anything is allocated.
ExternalData find_external(const onnx::TensorProto& t, uint64_t want, const std::string& what) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (const auto& e : t.external_data()) {
    try {
      if (e.key() == "location") location = e.value();
      if (e.key() == "offset") offset = std::stoull(e.value());
      if (e.key() == "length") {
        length = std::stoull(e.value());
        has_length = true;
      }
    } catch (const std::exception&) {
      fail(what, ": bad external data ", e.key(), " '", e.value(), "'");
    }
  }
  FC_CHECK(!has_length || length == want, what, ": external data length ", length, " bytes, the tensor needs ", want);
  std::ifstream f(location, std::ios::binary);
  FC_CHECK(f, what, ": cannot open external data file ", location);
  f.seekg(0, std::ios::end);
  uint64_t file_size = static_cast<uint64_t>(f.tellg());
  FC_CHECK(offset <= file_size && want <= file_size - offset, what, ": external data file ", location, " has ",
           file_size, " bytes, the tensor needs ", want, " at offset ", offset);
  return {location, offset};
}

void read_external(const ExternalData& e, ir::Tensor& out, const std::string& what) {
  const std::string& location = e.location;
  const uint64_t want = out.nbytes();
  std::ifstream f(location, std::ios::binary);
  FC_CHECK(f, what, ": cannot open external data file ", location);
  f.seekg(static_cast<std::streamoff>(e.offset));
  // Large tensors are read in chunks so that no single stream call exceeds what streamsize allows.
  char* dst = static_cast<char*>(out.raw());
  for (uint64_t done = 0; done < want;) {
    uint64_t chunk = std::min<uint64_t>(want - done, uint64_t{1} << 30);
    f.read(dst + done, static_cast<std::streamsize>(chunk));
    FC_CHECK(f, what, ": reading external data file ", location, " failed");
    done += chunk;
  }
}

template <typename Dst, typename Src>
void copy_field(const google::protobuf::RepeatedField<Src>& field, ir::Tensor& out, const std::string& what,
                const char* field_name) {
  FC_CHECK(static_cast<size_t>(field.size()) == out.numel(), what, ": ", field_name, " holds ", field.size(),
           " values for ", out.numel(), " elements");
  FC_ASSERT(sizeof(Dst) == ir::dtype_size(out.dtype()));
  Dst* d = static_cast<Dst*>(out.raw());  // raw: f16/bf16 are filled with their bits as uint16
  for (int i = 0; i < field.size(); ++i) d[i] = static_cast<Dst>(field.Get(i));
}

// INT4/UINT4: two elements per byte in the file (low nibble first; raw_data, or one packed byte per
// int32_data entry), one per byte in memory.
ir::Tensor int4_from_onnx(const onnx::TensorProto& t, DType dtype, const std::vector<int64_t>& dims,
                          const std::string& what) {
  const uint64_t numel = static_cast<uint64_t>(ir::checked_numel(dims, what));
  const uint64_t packed = (numel + 1) / 2;
  FC_CHECK(t.data_location() != onnx::TensorProto::EXTERNAL, what, ": external data of 4-bit tensors is not supported");
  std::string bytes = t.raw_data();
  if (!t.has_raw_data())
    for (int32_t v : t.int32_data()) bytes.push_back(static_cast<char>(v & 0xFF));
  FC_CHECK(bytes.size() == packed, what, ": holds ", bytes.size(), " bytes for ", numel, " 4-bit elements (dims ",
           ir::dims_text(dims), ")");
  ir::Tensor out(dtype, dims);
  auto* elements = static_cast<uint8_t*>(out.raw());
  for (uint64_t i = 0; i < numel; ++i) {
    const uint8_t nibble = (static_cast<uint8_t>(bytes[i / 2]) >> (4 * (i % 2))) & 0xF;
    elements[i] = dtype == DType::I4 ? static_cast<uint8_t>(static_cast<int8_t>((nibble ^ 8) - 8)) : nibble;
  }
  return out;
}

}  // namespace

ir::Tensor tensor_from_onnx(const onnx::TensorProto& t, const std::string& what) {
  DType dtype = dtype_from_onnx(t.data_type());
  FC_CHECK(dtype != DType::Undefined, what, ": element type ", onnx_type_name(t.data_type()), " is not supported");
  FC_CHECK(!t.has_segment(), what, ": segmented tensors are not supported");
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  if (dtype == DType::I4 || dtype == DType::U4) return int4_from_onnx(t, dtype, dims, what);
  // The data must be there before the tensor is allocated: dims that claim 10^12 elements with a
  // few bytes behind them are an error naming the tensor, not an attempt to allocate terabytes.
  const uint64_t nbytes = static_cast<uint64_t>(ir::checked_nbytes(dtype, dims, what));
  const uint64_t numel = static_cast<uint64_t>(ir::checked_numel(dims, what));
  const auto claims = [&] { return " (dims " + ir::dims_text(dims) + ")"; };
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    const ExternalData e = find_external(t, nbytes, what);
    ir::Tensor out(dtype, dims);
    read_external(e, out, what);
    out.canonicalize_bools();
    return out;
  }
  if (t.has_raw_data()) {
    FC_CHECK(t.raw_data().size() == nbytes, what, ": raw_data has ", t.raw_data().size(), " bytes, expected ", nbytes,
             claims());
  } else if (numel > 0) {
    const int64_t given = std::max({t.float_data_size(), t.double_data_size(), t.int64_data_size(), t.int32_data_size(),
                                    t.uint64_data_size()});
    FC_CHECK(static_cast<uint64_t>(given) == numel, what, ": holds ", given, " values for ", numel, " elements",
             claims());
  }
  ir::Tensor out(dtype, dims);
  if (t.has_raw_data()) {
    // raw_data is little-endian, as is every host we build for.
    if (out.nbytes()) std::memcpy(out.raw(), t.raw_data().data(), out.nbytes());
    out.canonicalize_bools();
  } else if (out.numel() > 0) {
    switch (dtype) {
      case DType::F32: copy_field<float>(t.float_data(), out, what, "float_data"); break;
      case DType::F64: copy_field<double>(t.double_data(), out, what, "double_data"); break;
      case DType::I64: copy_field<int64_t>(t.int64_data(), out, what, "int64_data"); break;
      case DType::I32: copy_field<int32_t>(t.int32_data(), out, what, "int32_data"); break;
      case DType::I8: copy_field<int8_t>(t.int32_data(), out, what, "int32_data"); break;
      case DType::U8: copy_field<uint8_t>(t.int32_data(), out, what, "int32_data"); break;
      case DType::Bool: copy_field<bool>(t.int32_data(), out, what, "int32_data"); break;
      case DType::I16: copy_field<int16_t>(t.int32_data(), out, what, "int32_data"); break;
      // 16-bit floats sit in int32_data as their bit patterns (ONNX's rule).
      case DType::U16: case DType::F16: case DType::BF16:
        copy_field<uint16_t>(t.int32_data(), out, what, "int32_data");
        break;
      case DType::F8E4M3FN: case DType::F8E4M3FNUZ: case DType::F8E5M2: case DType::F8E5M2FNUZ:
        copy_field<uint8_t>(t.int32_data(), out, what, "int32_data");
        break;
      case DType::I4: case DType::U4: FC_ASSERT(false);  // int4_from_onnx
      case DType::U32: copy_field<uint32_t>(t.uint64_data(), out, what, "uint64_data"); break;
      case DType::U64: copy_field<uint64_t>(t.uint64_data(), out, what, "uint64_data"); break;
      case DType::Undefined: FC_ASSERT(false);
    }
  }
  return out;
}

ir::TensorType type_from_onnx(const onnx::TypeProto& t) {
  if (!t.has_tensor_type() || !t.tensor_type().has_shape()) return {};
  DType dtype = dtype_from_onnx(t.tensor_type().elem_type());
  if (dtype == DType::Undefined) return {};
  std::vector<ir::Dim> dims;
  for (const auto& d : t.tensor_type().shape().dim()) {
    if (d.has_dim_value()) dims.push_back(ir::Dim::known(d.dim_value()));
    else if (d.has_dim_param() && !d.dim_param().empty()) dims.push_back(ir::Dim::sym(d.dim_param()));
    else dims.push_back(ir::Dim::unknown());
  }
  return ir::TensorType(dtype, std::move(dims));
}

ir::Attribute attribute_from_onnx(const onnx::AttributeProto& a, const std::string& node_desc) {
  std::string what = node_desc + " attribute '" + a.name() + "'";
  switch (a.type()) {
    case onnx::AttributeProto::FLOAT: return a.f();
    case onnx::AttributeProto::INT: return static_cast<int64_t>(a.i());
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::TENSOR: return tensor_from_onnx(a.t(), what);
    case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    default: fail(what, ": attributes of kind ", onnx::AttributeProto::AttributeType_Name(a.type()), " are not supported");
  }
}

}  // namespace fc::frontend::detail
