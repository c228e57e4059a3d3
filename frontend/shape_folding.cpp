// Symbolic evaluation of shape chains at import (see shape_folding.h). Each op is evaluated on
// rank-0/rank-1 SymTensors: elements are SymElems, so the batch symbol flows through Shape ->
// Gather -> Unsqueeze -> Concat -> Reshape unchanged, and arithmetic keeps a symbol only where the
// result is provably that symbol (N + 0, N * 1, N / 1, Max(N, 0)); anything else involving a symbol
// becomes unknown. Equal / Not / Where evaluate what is known (a symbol equals itself), which is how
// exporters spell `expand(n, -1, -1)`: Where(Equal(shape, -1), 1, shape).
#include "frontend/shape_folding.h"

#include <algorithm>
#include <cstring>

#include "support/error.h"
#include "ir/shape_util.h"

namespace fc::frontend {

using ir::Dim;
using ir::DType;
using ir::Tensor;

namespace {

bool integral(DType t) {
  return ir::is_integer_dtype(t) || t == DType::Bool;
}

// A tensor of `dtype` holding `values` converted from int64 (bool: non-zero).
Tensor tensor_from_int64(DType dtype, const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
  Tensor t(dtype, dims);
  FC_ASSERT(t.numel() == values.size());
  visit_dtype(dtype, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* p = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<T, bool>)
        p[i] = values[i] != 0;
      else if constexpr (ir::is_narrow_float_v<T>)
        p[i] = T(static_cast<double>(values[i]));
      else
        p[i] = static_cast<T>(values[i]);
    }
  });
  return t;
}

int64_t int_attr(const ir::Node& n, const std::string& key, int64_t dflt) {
  auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return dflt;
  if (const int64_t* v = std::get_if<int64_t>(&it->second)) return *v;
  fail(n.describe(), ": attribute '", key, "' should be an int");
}

const std::vector<int64_t>* ints_attr(const ir::Node& n, const std::string& key) {
  auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return nullptr;
  if (const auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return v;
  fail(n.describe(), ": attribute '", key, "' should be ints");
}

using Result = std::optional<std::vector<SymTensor>>;

Result one(SymTensor t) { return std::vector<SymTensor>{std::move(t)}; }

// Elementwise binary arithmetic; keeps a symbol only where the result is that symbol.
SymElem binary_elem(const std::string& op, const SymElem& a, const SymElem& b) {
  if (a.is_known && b.is_known) {
    int64_t x = a.value, y = b.value;
    if (op == "Add") return SymElem::known(x + y);
    if (op == "Sub") return SymElem::known(x - y);
    if (op == "Mul") return SymElem::known(x * y);
    if (y == 0) return SymElem{};
    return SymElem::known(x / y);  // C truncation, as ONNX runtimes do for integer Div
  }
  auto is = [](const SymElem& d, int64_t v) { return d.is_known && d.value == v; };
  if ((op == "Add" || op == "Sub") && is(b, 0)) return a;
  if (op == "Add" && is(a, 0)) return b;
  if ((op == "Mul" || op == "Div") && is(b, 1)) return a;
  if (op == "Mul" && is(a, 1)) return b;
  return SymElem{};
}

// Elementwise ops over rank-0/1 operands with broadcasting: `f` maps one element of each input to
// the output element. nullopt when an operand is larger than 1-D or lengths do not broadcast.
template <typename Fn>
Result fold_elementwise(const ir::Node& n, const std::vector<const SymTensor*>& ins, DType out_dtype, Fn f) {
  size_t len = 1;
  std::vector<int64_t> dims;
  for (const SymTensor* t : ins) {
    if (t->dims.size() > 1) return std::nullopt;
    size_t k = t->elems.size();
    if (k != 1 && len != 1 && k != len)
      fail(n.describe(), ": cannot broadcast shape values of ", len, " and ", k, " elements");
    if (t->dims.size() > dims.size() || k > len) dims = t->dims;
    len = std::max(len, k);
  }
  std::vector<SymElem> out(len);
  std::vector<SymElem> args(ins.size());
  for (size_t i = 0; i < len; ++i) {
    for (size_t j = 0; j < ins.size(); ++j) args[j] = ins[j]->elems[ins[j]->elems.size() == 1 ? 0 : i];
    out[i] = f(args);
  }
  return one(SymTensor::from_elems(out_dtype, dims, out));
}

// Mod of known integers: Python's sign rule (the divisor's) unless fmod = 1 (C's, the dividend's).
SymElem mod_elem(const SymElem& a, const SymElem& b, bool c_style) {
  if (!a.is_known || !b.is_known || b.value == 0) return SymElem{};
  int64_t r = a.value % b.value;
  if (!c_style && r != 0 && ((r < 0) != (b.value < 0))) r += b.value;
  return SymElem::known(r);
}

Result fold_binary(const ir::Node& n, const SymTensor& a, const SymTensor& b) {
  if (!a.is_integral() || !b.is_integral() || a.dtype != b.dtype) return std::nullopt;
  if (n.op == "Mod") {
    const bool c_style = n.attr_int("fmod") != 0;
    return fold_elementwise(n, {&a, &b}, a.dtype,
                            [&](const std::vector<SymElem>& e) { return mod_elem(e[0], e[1], c_style); });
  }
  return fold_elementwise(n, {&a, &b}, a.dtype,
                          [&](const std::vector<SymElem>& e) { return binary_elem(n.op, e[0], e[1]); });
}

// Equal: known values compare; the same symbol is equal to itself; anything else is unknown.
SymElem equal_elem(const std::vector<SymElem>& a) {
  if (a[0].is_known && a[1].is_known) return SymElem::known(a[0].value == a[1].value);
  if (!a[0].is_known && !a[0].symbol.empty() && a[0] == a[1]) return SymElem::known(1);
  // A symbol is a size, never negative: it differs from -1 (PyTorch's "keep this dim").
  auto negative = [](const SymElem& e) { return e.is_known && e.value < 0; };
  if ((negative(a[0]) && !a[1].symbol.empty()) || (negative(a[1]) && !a[0].symbol.empty())) return SymElem::known(0);
  return SymElem{};
}

// Where: a known condition picks; an unknown one still gives the value both branches agree on.
SymElem where_elem(const std::vector<SymElem>& a) {
  if (a[0].is_known) return a[0].value ? a[1] : a[2];
  return a[1] == a[2] && (a[1].is_known || !a[1].symbol.empty()) ? a[1] : SymElem{};
}

// Max / Min over known values. One symbol (a size, never negative) survives against itself, and in
// Max against known values <= 0 (Max(N, 0) is N).
SymElem extremum_elem(const std::vector<SymElem>& a, bool is_max) {
  bool all_known = std::all_of(a.begin(), a.end(), [](const SymElem& e) { return e.is_known; });
  if (all_known) {
    int64_t v = a[0].value;
    for (const SymElem& e : a) v = is_max ? std::max(v, e.value) : std::min(v, e.value);
    return SymElem::known(v);
  }
  const SymElem* sym = nullptr;
  for (const SymElem& e : a)
    if (!e.is_known) {
      if (e.symbol.empty() || (sym && !(*sym == e))) return SymElem{};
      sym = &e;
    } else if (!is_max || e.value > 0) {
      return SymElem{};
    }
  return *sym;
}

// Reshape of a shape value (the dynamo exporter's Reshape(size, [-1])): elements unchanged.
Result fold_reshape(const ir::Node& n, const SymTensor& data) {
  const std::vector<int64_t>* shape = ints_attr(n, "shape");
  if (!shape) return std::nullopt;
  std::vector<int64_t> dims;
  int64_t known = 1, infer = -1;
  const bool allowzero = int_attr(n, "allowzero", 0) != 0;  // a 0 is then a size, not a copy
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t d = (*shape)[i] == 0 && !allowzero && i < data.dims.size() ? data.dims[i] : (*shape)[i];
    if (d == -1) infer = static_cast<int64_t>(i);
    else known *= d;
    dims.push_back(d);
  }
  int64_t count = static_cast<int64_t>(data.elems.size());
  if (infer >= 0) dims[infer] = known == 0 ? 0 : count / known;
  FC_CHECK(ir::product(dims) == count, n.describe(), ": cannot reshape ", count, " shape values to ", shape->size(),
           " dims");
  return one(SymTensor::from_elems(data.dtype, dims, data.elems));
}

// ConstantOfShape of a known small shape: the value (default f32 0) repeated.
Result fold_constant_of_shape(const ir::Node& n, const SymTensor& shape) {
  if (!shape.known() || shape.dims.size() != 1) return std::nullopt;
  std::vector<int64_t> dims = shape.tensor.to_int64_vector();
  if (std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < 0; })) return std::nullopt;
  int64_t count = ir::product(dims);
  if (count > static_cast<int64_t>(kMaxFoldElements)) return std::nullopt;
  Tensor value = Tensor::scalar<float>(0.0f);
  if (auto it = n.attrs.find("value"); it != n.attrs.end() && std::holds_alternative<Tensor>(it->second))
    value = std::get<Tensor>(it->second);
  FC_CHECK(value.numel() == 1, n.describe(), ": value must hold one element");
  Tensor out(value.dtype(), dims);
  const size_t bytes = ir::dtype_size(value.dtype());
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(static_cast<char*>(out.raw()) + i * bytes, value.raw(), bytes);
  return one(SymTensor::from_tensor(out));
}

Result fold_shape(const ir::Node& n, const ir::TensorType& in) {
  int64_t rank = static_cast<int64_t>(in.rank());
  auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  int64_t start = clamp(int_attr(n, "start", 0));
  int64_t end = n.has_attr("end") ? clamp(int_attr(n, "end", rank)) : rank;
  std::vector<SymElem> out;
  for (int64_t i = start; i < end; ++i) out.push_back(SymElem::of_dim(in.dims[i]));
  return one(SymTensor::from_elems(DType::I64, {static_cast<int64_t>(out.size())}, out));
}

Result fold_gather(const ir::Node& n, const SymTensor& data, const SymTensor& idx) {
  if (data.dims.size() != 1 || !idx.known() || idx.dims.size() > 1) return std::nullopt;
  if (int_attr(n, "axis", 0) != 0 && int_attr(n, "axis", 0) != -1) return std::nullopt;
  int64_t len = data.dims[0];
  std::vector<SymElem> out;
  for (int64_t i : idx.tensor.to_int64_vector()) {
    int64_t j = i < 0 ? i + len : i;
    FC_CHECK(j >= 0 && j < len, n.describe(), ": index ", i, " out of range for ", len, " shape values");
    out.push_back(data.elems[j]);
  }
  return one(SymTensor::from_elems(data.dtype, idx.dims, out));
}

Result fold_unsqueeze(const ir::Node& n, const SymTensor& data) {
  const std::vector<int64_t>* axes = ints_attr(n, "axes");
  if (!axes) return std::nullopt;
  int64_t out_rank = static_cast<int64_t>(data.dims.size() + axes->size());
  std::vector<bool> inserted(out_rank, false);
  for (int64_t a : *axes) inserted[ir::normalize_axis(a, out_rank, n.describe())] = true;
  std::vector<int64_t> dims;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) dims.push_back(inserted[i] ? 1 : data.dims.at(k++));
  return one(SymTensor::from_elems(data.dtype, dims, data.elems));
}

Result fold_squeeze(const ir::Node& n, const SymTensor& data) {
  int64_t rank = static_cast<int64_t>(data.dims.size());
  std::vector<bool> drop(rank, false);
  if (const std::vector<int64_t>* axes = ints_attr(n, "axes")) {
    for (int64_t a : *axes) {
      int64_t i = ir::normalize_axis(a, rank, n.describe());
      FC_CHECK(data.dims[i] == 1, n.describe(), ": cannot squeeze axis ", a, " of size ", data.dims[i]);
      drop[i] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) drop[i] = data.dims[i] == 1;
  }
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i]) dims.push_back(data.dims[i]);
  return one(SymTensor::from_elems(data.dtype, dims, data.elems));
}

Result fold_concat(const ir::Node& n, const std::vector<const SymTensor*>& ins) {
  std::vector<SymElem> out;
  for (const SymTensor* t : ins) {
    if (!t || !t->is_integral() || t->dims.size() != 1 || t->dtype != ins[0]->dtype) return std::nullopt;
    out.insert(out.end(), t->elems.begin(), t->elems.end());
  }
  int64_t axis = int_attr(n, "axis", 0);
  if (axis != 0 && axis != -1) return std::nullopt;
  return one(SymTensor::from_elems(ins[0]->dtype, {static_cast<int64_t>(out.size())}, out));
}

Result fold_cast(const ir::Node& n, const SymTensor& x) {
  auto it = n.attrs.find("to");
  if (it == n.attrs.end() || !std::holds_alternative<std::string>(it->second)) return std::nullopt;
  DType to = ir::dtype_from_name(std::get<std::string>(it->second));
  if (x.is_integral() && integral(to)) {
    std::vector<SymElem> out = x.elems;
    // Narrowing changes known values the way a C cast does; symbols (sizes) are assumed to fit.
    for (SymElem& d : out)
      if (d.is_known) d = SymElem::known(tensor_from_int64(to, {}, {d.value}).to_int64_vector()[0]);
    return one(SymTensor::from_elems(to, x.dims, out));
  }
  if (!x.known()) return std::nullopt;
  // Known values of any type: convert through double (exact for shape-sized integers).
  std::vector<int64_t> ints;
  if (integral(to) || x.is_integral()) {
    ints = x.tensor.to_int64_vector();
    return one(SymTensor::from_tensor(tensor_from_int64(to, x.dims, ints)));
  }
  Tensor t(to, x.dims);
  for (size_t i = 0; i < t.numel(); ++i) {
    double v = x.dtype == DType::F32 ? x.tensor.data<float>()[i] : x.tensor.data<double>()[i];
    if (to == DType::F32) t.data<float>()[i] = static_cast<float>(v);
    else t.data<double>()[i] = v;
  }
  return one(SymTensor::from_tensor(t));
}

Result fold_slice(const ir::Node& n, const SymTensor& data) {
  const std::vector<int64_t>* starts = ints_attr(n, "starts");
  const std::vector<int64_t>* ends = ints_attr(n, "ends");
  // Along axis 0 (rows of the trailing dims): a 1-D shape, or the [n, 2] pairs of a legacy Pad export.
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  if (rank < 1 || !starts || !ends || starts->size() != 1 || ends->size() != 1) return std::nullopt;
  const std::vector<int64_t>* axes = ints_attr(n, "axes");
  if (axes && (axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -rank))) return std::nullopt;
  const std::vector<int64_t>* steps = ints_attr(n, "steps");
  int64_t step = steps && !steps->empty() ? (*steps)[0] : 1;
  FC_CHECK(step != 0, n.describe(), ": slice step is 0");
  // ONNX Slice: negative indices count from the end; starts/ends are clamped to [0, len]
  // ([-1, len-1] for negative steps).
  int64_t len = data.dims[0];
  auto adjust = [&](int64_t v, bool is_end) {
    if (v < 0) v += len;
    if (step > 0) return std::clamp(v, int64_t{0}, len);
    return std::clamp(v, is_end ? int64_t{-1} : int64_t{0}, len - 1);
  };
  int64_t s = adjust((*starts)[0], false), e = adjust((*ends)[0], true);
  const int64_t row = ir::product(data.dims, 1);
  std::vector<SymElem> out;
  int64_t rows = 0;
  for (int64_t i = s; step > 0 ? i < e : i > e; i += step, ++rows)
    out.insert(out.end(), data.elems.begin() + i * row, data.elems.begin() + (i + 1) * row);
  std::vector<int64_t> dims = data.dims;
  dims[0] = rows;
  return one(SymTensor::from_elems(data.dtype, dims, out));
}

// Transpose of a small tensor (perm absent: the dims reversed).
Result fold_transpose(const ir::Node& n, const SymTensor& data) {
  const size_t rank = data.dims.size();
  std::vector<int64_t> perm(rank);
  for (size_t i = 0; i < rank; ++i) perm[i] = static_cast<int64_t>(rank - 1 - i);
  if (const std::vector<int64_t>* p = ints_attr(n, "perm")) perm = *p;
  if (perm.size() != rank) return std::nullopt;
  std::vector<int64_t> dims(rank), in_strides(rank, 1);
  for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * data.dims[i];
  for (size_t i = 0; i < rank; ++i) dims[i] = data.dims[static_cast<size_t>(perm[i])];
  std::vector<SymElem> out(data.elems.size());
  std::vector<int64_t> at(rank, 0);  // the output position, odometer order
  for (size_t k = 0; k < out.size(); ++k) {
    int64_t src = 0;
    for (size_t i = 0; i < rank; ++i) src += at[i] * in_strides[static_cast<size_t>(perm[i])];
    out[k] = data.elems[static_cast<size_t>(src)];
    for (size_t i = rank; i-- > 0;) {
      if (++at[i] < dims[i]) break;
      at[i] = 0;
    }
  }
  return one(SymTensor::from_elems(data.dtype, dims, out));
}

}  // namespace

bool SymTensor::is_integral() const { return integral(dtype); }

SymTensor SymTensor::from_tensor(const Tensor& t) {
  SymTensor s;
  s.dtype = t.dtype();
  s.dims = t.dims();
  s.tensor = t;
  if (integral(t.dtype()) && t.numel() <= kMaxFoldElements)
    for (int64_t v : t.to_int64_vector()) s.elems.push_back(SymElem::known(v));
  return s;
}

SymTensor SymTensor::from_elems(DType dtype, std::vector<int64_t> dims, std::vector<SymElem> elems) {
  SymTensor s;
  s.dtype = dtype;
  s.dims = std::move(dims);
  s.elems = std::move(elems);
  FC_ASSERT(static_cast<int64_t>(s.elems.size()) == ir::product(s.dims));
  bool all_known = std::all_of(s.elems.begin(), s.elems.end(), [](const SymElem& d) { return d.is_known; });
  if (all_known) {
    std::vector<int64_t> v;
    for (const SymElem& d : s.elems) v.push_back(d.value);
    s.tensor = tensor_from_int64(dtype, s.dims, v);
  }
  return s;
}

bool is_shape_fold_op(const std::string& op) {
  static const char* const kOps[] = {"Shape", "Constant", "Identity", "Gather", "Unsqueeze", "Squeeze", "Concat",
                                     "Cast",  "Slice",    "Add",      "Sub",    "Mul",       "Div",     "Reshape",
                                     "Equal", "Not",      "Where",    "Max",    "Min",       "ConstantOfShape", "Size", "Neg",
                                     "Mod",   "Transpose"};
  return std::find(std::begin(kOps), std::end(kOps), op) != std::end(kOps);
}

std::optional<std::vector<SymTensor>> fold_shape_node(const ir::Node& n, const std::vector<const SymTensor*>& ins,
                                                      const std::vector<ir::TensorType>& types) {
  if (!n.domain.empty() || !is_shape_fold_op(n.op)) return std::nullopt;
  if (n.op == "Shape") return types.empty() ? std::nullopt : fold_shape(n, types[0]);
  if (n.op == "Size") {  // the element count, once every dim is known
    if (types.empty() || !types[0].is_concrete()) return std::nullopt;
    return one(SymTensor::from_tensor(Tensor::scalar<int64_t>(static_cast<int64_t>(types[0].numel()))));
  }
  if (n.op == "Constant") {
    auto it = n.attrs.find("value");
    if (it == n.attrs.end() || !std::holds_alternative<Tensor>(it->second)) return std::nullopt;
    return one(SymTensor::from_tensor(std::get<Tensor>(it->second)));
  }
  // Everything else needs every input's contents, and only small integer data is evaluated.
  if (ins.empty()) return std::nullopt;
  for (const SymTensor* t : ins)
    if (!t || (t->is_integral() && t->elems.size() != static_cast<size_t>(ir::product(t->dims)))) return std::nullopt;
  if (n.op == "Identity") return one(*ins[0]);
  if (n.op == "ConstantOfShape") return fold_constant_of_shape(n, *ins[0]);
  if (n.op == "Where") {
    if (ins.size() != 3 || ins[0]->dtype != DType::Bool || !ins[1]->is_integral() || ins[1]->dtype != ins[2]->dtype)
      return std::nullopt;
    return fold_elementwise(n, ins, ins[1]->dtype, where_elem);
  }
  if (n.op == "Cast") return fold_cast(n, *ins[0]);
  if (n.op == "Concat") return fold_concat(n, ins);
  if (!ins[0]->is_integral()) return std::nullopt;
  if (n.op == "Gather") return ins.size() == 2 ? fold_gather(n, *ins[0], *ins[1]) : std::nullopt;
  if (n.op == "Unsqueeze") return fold_unsqueeze(n, *ins[0]);
  if (n.op == "Squeeze") return fold_squeeze(n, *ins[0]);
  if (n.op == "Slice") return fold_slice(n, *ins[0]);
  if (n.op == "Transpose") return fold_transpose(n, *ins[0]);
  if (n.op == "Reshape") return fold_reshape(n, *ins[0]);
  if (n.op == "Neg")
    return fold_elementwise(n, ins, ins[0]->dtype, [](const std::vector<SymElem>& a) {
      return a[0].is_known ? SymElem::known(-a[0].value) : SymElem{};
    });
  if (n.op == "Not") {
    if (ins[0]->dtype != DType::Bool) return std::nullopt;
    return fold_elementwise(n, ins, DType::Bool, [](const std::vector<SymElem>& a) {
      return a[0].is_known ? SymElem::known(a[0].value == 0) : SymElem{};
    });
  }
  for (const SymTensor* t : ins)
    if (t->dtype != ins[0]->dtype) return std::nullopt;
  if (n.op == "Equal") return ins.size() == 2 ? fold_elementwise(n, ins, DType::Bool, equal_elem) : std::nullopt;
  if (n.op == "Max" || n.op == "Min") {
    bool is_max = n.op == "Max";
    return fold_elementwise(n, ins, ins[0]->dtype,
                            [is_max](const std::vector<SymElem>& a) { return extremum_elem(a, is_max); });
  }
  if (ins.size() == 2) return fold_binary(n, *ins[0], *ins[1]);
  return std::nullopt;
}

std::string to_string(const SymElem& e) {
  if (e.is_known) return std::to_string(e.value);
  return e.symbol.empty() ? "?" : e.symbol;
}

namespace {
template <typename T>
std::string dims_text(const std::vector<T>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + to_string(dims[i]);
  return s + "]";
}
}  // namespace

std::vector<int64_t> resolve_reshape_target(const std::vector<SymElem>& target, const std::vector<Dim>& input_dims,
                                            const std::string& node_desc) {
  std::vector<int64_t> out(target.size());
  std::vector<size_t> open;  // positions not known yet
  bool has_infer = false;
  for (size_t i = 0; i < target.size(); ++i) {
    const SymElem& d = target[i];
    if (d.is_known) {
      FC_CHECK(d.value >= -1, node_desc, ": invalid Reshape target size ", d.value);
      out[i] = d.value;
      has_infer |= d.value == -1;
    } else if (!d.symbol.empty() && i < input_dims.size() && input_dims[i] == Dim::sym(d.symbol)) {
      out[i] = 0;  // same symbol at the same position: copy the input's dim
    } else {
      open.push_back(i);
    }
  }
  if (open.size() == 1 && !has_infer) {
    out[open[0]] = -1;
  } else if (!open.empty()) {
    fail(node_desc, ": cannot express the Reshape target ", dims_text(target), " of an input ", dims_text(input_dims),
         " with one inferred dimension");
  }
  return out;
}

std::vector<int64_t> resolve_expand_target(const std::vector<SymElem>& target, const std::vector<Dim>& input_dims,
                                           const std::string& node_desc, std::vector<std::string>* symbols) {
  std::vector<int64_t> out(target.size());
  int64_t offset = static_cast<int64_t>(target.size()) - static_cast<int64_t>(input_dims.size());
  for (size_t i = 0; i < target.size(); ++i) {
    const SymElem& d = target[i];
    int64_t j = static_cast<int64_t>(i) - offset;
    if (d.is_known) {
      out[i] = d.value;
    } else if (!d.symbol.empty() && j >= 0 && input_dims[j] == Dim::sym(d.symbol)) {
      out[i] = 1;  // broadcasting with 1 keeps the input's (same) dim
    } else if (!d.symbol.empty() && symbols) {
      out[i] = -1;  // a size known at run time
      symbols->push_back(d.symbol);
    } else {
      fail(node_desc, ": cannot express the Expand target ", dims_text(target), " of an input ",
           dims_text(input_dims), " with known sizes");
    }
  }
  return out;
}

}  // namespace fc::frontend
