// Per-op normalisation of ONNX nodes into the IR's canonical forms (docs/ir_conventions.md), keyed by
// the op's version in effect (its version table is OpSchema::onnx_versions, in the op's record):
// configuration inputs (constant or folded at import) become attributes (Squeeze/Unsqueeze/
// ReduceSum axes from version 13, the other reductions' from 18, Split sizes from 13, Pad's pads,
// value and axes from 11/18), older attribute spellings map to the same attributes, Split's
// num_outputs (18) becomes explicit sizes, Cast's `to` becomes a dtype name, Constant's value_*
// become `value`, the 5-output BatchNormalization training form (versions 7 and 9) becomes
// training_mode = 1, and Softmax-family nodes before version 13 get its semantics by a
// Flatten/Reshape rewrite. Ops without a rule pass through with their attributes converted one to one.
#include <algorithm>

#include "frontend/onnx_internal.h"
#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/ops/softmax_cross_entropy.h"

namespace fc::frontend::detail {

using ir::Attribute;
using ir::Dim;
using ir::DType;

namespace {

// The node being normalised, with helpers to read its configuration inputs.
struct Rule {
  PendingNode& out;
  ImportState& st;
  std::string desc;  // "Reshape node 'r1'"
  int opset;         // the model's
  int version;       // the op's version in effect at `opset` (its schema's version table)
  const AddPendingNode& add;  // for rules that expand a node into several

  bool has_input(size_t i) const { return i < out.inputs.size() && out.inputs[i] != nullptr; }

  // The known contents of configuration input i (required when present).
  const SymTensor& config(size_t i, const char* what) const {
    FC_CHECK(has_input(i), desc, ": the ", what, " input is required");
    const SymTensor* t = st.known(out.inputs[i]->name);
    const auto& inputs = st.g.inputs;
    if (!t && std::find(inputs.begin(), inputs.end(), out.inputs[i]) != inputs.end())
      fail(desc, ": input '", out.inputs[i]->name, "' (", what, ") is a graph input, which must be a constant here "
           "(an initializer) for training and compiling; `fcrun infer` specialises on the value it is given");
    if (!t)
      fail(desc, ": input '", out.inputs[i]->name, "' (", what,
           ") must be computable at import (a constant or a shape computation)");
    return *t;
  }
  std::vector<int64_t> config_ints(size_t i, const char* what) const {
    const SymTensor& t = config(i, what);
    FC_CHECK(t.is_integral(), desc, ": input '", out.inputs[i]->name, "' (", what, ") must hold integers");
    if (!t.known()) {
      std::string vals;
      for (const SymElem& e : t.elems) vals += (vals.empty() ? "" : ",") + to_string(e);
      fail(desc, ": input '", out.inputs[i]->name, "' (", what, ") depends on unknown dimensions: [", vals, "]");
    }
    return t.tensor.to_int64_vector();
  }
  float config_float(size_t i, const char* what) const {
    const SymTensor& t = config(i, what);
    FC_CHECK(t.known() && t.tensor.numel() == 1, desc, ": input '", out.inputs[i]->name, "' (", what,
             ") must be a known scalar");
    switch (t.dtype) {
      case DType::F32: return t.tensor.data<float>()[0];
      case DType::F64: return static_cast<float>(t.tensor.data<double>()[0]);
      default: return static_cast<float>(t.tensor.to_int64_vector()[0]);
    }
  }
  // Moves configuration input i (if present) into attribute `key` as ints.
  void ints_input_to_attr(size_t i, const char* key) {
    if (has_input(i)) out.attrs[key] = config_ints(i, key);
  }
  void float_input_to_attr(size_t i, const char* key) {
    if (has_input(i)) out.attrs[key] = config_float(i, key);
  }
  // Keeps only the first n inputs (the data inputs).
  void keep_inputs(size_t n) {
    if (out.inputs.size() > n) out.inputs.resize(n);
  }
  // Whether a node or a graph output of the model reads value `name`.
  bool is_consumed(const std::string& name) const {
    if (name.empty()) return false;
    const onnx::GraphProto& g = st.model.model.graph();
    for (const auto& o : g.output())
      if (o.name() == name) return true;
    for (const auto& n : g.node())
      for (const std::string& in : n.input())
        if (in == name) return true;
    return false;
  }
  const std::vector<Dim>& input_dims(size_t i) const {
    FC_CHECK(has_input(i), desc, ": input ", i, " is required");
    return out.inputs[i]->type.dims;
  }
  // Adds a helper node of an expansion (one output, named `output` or a fresh name).
  ir::Value* emit(const std::string& op, std::vector<ir::Value*> inputs, std::map<std::string, Attribute> attrs = {},
                  const std::string& output = "") {
    PendingNode p;
    p.op = op;
    p.name = st.unique_node_name(out.name + "/" + op);
    p.inputs = std::move(inputs);
    p.outputs = {output.empty() ? st.fresh_value_name(out.name + "/" + op) : output};
    p.attrs = std::move(attrs);
    return add(std::move(p))->outputs[0];
  }
  ir::Value* constant(ir::Tensor t) { return emit("Constant", {}, {{"value", std::move(t)}}); }
};

std::vector<SymElem> elems_of(const std::vector<Dim>& dims) {
  std::vector<SymElem> r;
  for (const Dim& d : dims) r.push_back(SymElem::of_dim(d));
  return r;
}

void normalize_reshape(Rule& r) {
  const SymTensor& target = r.config(1, "shape");
  FC_CHECK(target.is_integral() && target.dims.size() == 1, r.desc, ": the shape input must be a 1-D integer tensor");
  bool allowzero = r.out.attrs.count("allowzero") && std::get<int64_t>(r.out.attrs["allowzero"]) != 0;
  const bool literal_zero = std::any_of(target.elems.begin(), target.elems.end(),
                                        [](const SymElem& e) { return e.is_known && e.value == 0; });
  r.keep_inputs(1);
  if (allowzero && literal_zero) {
    // The 0 is a size (an empty tensor), not "copy the input's dim": the IR's Reshape keeps
    // allowzero and reads its shape so. ONNX allows no -1 beside it, so every size is a constant.
    std::vector<int64_t> shape;
    for (const SymElem& e : target.elems) {
      FC_CHECK(e.is_known, r.desc, ": allowzero=1 with a 0 in the target shape needs every target size known");
      shape.push_back(e.value);
    }
    r.out.attrs["shape"] = shape;
    return;
  }
  r.out.attrs.erase("allowzero");  // without a 0 in the target it changes nothing
  r.out.attrs["shape"] = resolve_reshape_target(target.elems, r.input_dims(0), r.desc);
}

// A target size that is a symbol the input does not have (`class_token.expand(n, -1, -1)` with a
// dynamic batch n) is taken at run time from the graph input that has that symbol: the IR's Expand
// reads it from its `like` input (docs/ir_conventions.md).
void normalize_expand(Rule& r) {
  const SymTensor& target = r.config(1, "shape");
  FC_CHECK(target.is_integral() && target.dims.size() == 1, r.desc, ": the shape input must be a 1-D integer tensor");
  std::vector<std::string> symbols;
  r.out.attrs["shape"] = resolve_expand_target(target.elems, r.input_dims(0), r.desc, &symbols);
  r.keep_inputs(1);
  if (symbols.empty()) return;
  ir::Value* like = nullptr;
  std::vector<int64_t> like_axes;
  for (const std::string& sym : symbols) {
    bool found = false;
    for (ir::Value* in : r.st.g.inputs) {
      for (size_t a = 0; a < in->type.dims.size() && !found; ++a)
        if (in->type.dims[a] == Dim::sym(sym) && (!like || like == in)) {
          like = in;
          like_axes.push_back(static_cast<int64_t>(a));
          found = true;
        }
      if (found) break;
    }
    FC_CHECK(found, r.desc, ": the Expand target size '", sym, "' is not a dimension of one graph input");
  }
  r.out.inputs.push_back(like);
  r.out.attrs["like_axes"] = like_axes;
}

// Softmax / LogSoftmax / Hardmax before opset 13 work on the input coerced to 2-D at `axis`
// (default 1). Equal to the opset-13 form when axis is the last dim; otherwise
// Flatten(axis) -> op(axis=-1) -> Reshape(original shape).
std::vector<PendingNode> normalize_softmax(Rule& r) {
  int64_t rank = static_cast<int64_t>(r.input_dims(0).size());
  if (r.version >= 13) return {r.out};
  int64_t axis = 1;
  if (r.out.attrs.count("axis")) axis = std::get<int64_t>(r.out.attrs["axis"]);
  axis = rank == 0 ? 0 : ir::normalize_axis(axis, rank, r.desc);
  r.out.attrs["axis"] = int64_t{-1};
  if (rank == 0 || axis == rank - 1) return {r.out};

  const std::vector<Dim>& dims = r.input_dims(0);
  auto product = [&](int64_t b, int64_t e) {
    if (e - b == 1) return dims[b];
    int64_t p = 1;
    for (int64_t i = b; i < e; ++i) {
      if (!dims[i].is_known()) return Dim::unknown();
      p *= dims[i].size;
    }
    return Dim::known(p);
  };
  std::vector<Dim> flat_dims{product(0, axis), product(axis, rank)};
  std::string out_name = r.out.outputs.at(0);
  PendingNode flatten{"Flatten", r.st.unique_node_name(r.out.name + "/flatten"), {r.out.inputs[0]},
                      {r.st.fresh_value_name(out_name + "/flat")}, {{"axis", axis}}};
  PendingNode op{r.out.op, r.out.name, {nullptr}, {r.st.fresh_value_name(out_name + "/flat_" + r.out.op)},
                 r.out.attrs};
  PendingNode reshape{"Reshape", r.st.unique_node_name(r.out.name + "/unflatten"), {nullptr}, {out_name},
                      {{"shape", resolve_reshape_target(elems_of(dims), flat_dims, r.desc)}}};
  // Inputs of the later nodes are the values the driver creates for the earlier ones: it resolves
  // a null input i of node k as output i of node k-1.
  return {flatten, op, reshape};
}

// Labels given as a graph input with the file's fixed batch size (an export without dynamic axes)
// follow the scores' batch, as the data input's dim 0 does.
void labels_follow_batch(Rule& r) {
  ir::Value* labels = r.out.inputs[1];
  const auto& graph_inputs = r.st.g.inputs;
  const Dim& batch = r.input_dims(0)[0];
  if (std::find(graph_inputs.begin(), graph_inputs.end(), labels) != graph_inputs.end() && labels->type.rank() >= 1 &&
      labels->type.dims[0].is_known() && !batch.is_known() && !batch.symbol.empty())
    labels->type.dims[0] = batch;
}

// The general SoftmaxCrossEntropyLoss, ONNX's function body in our ops, over scores [N, C, d...]
// and labels [N, d...]:
//   log_prob = LogSoftmax(scores, axis 1)                        (the optional second output)
//   loss_i   = -sum_c log_prob[i, c] * (labels_i == c) * w_i     w_i = weight[labels_i] (1 without
//              weights), 0 where labels_i == ignore_index (whose label is read as class 0)
//   "none": loss; "sum": sum(loss); "mean": sum(loss) / sum(w) (without weights or ignore_index:
//   the mean over every position)
// Class weights that are initializers stay constants (a loss's weights are not trained).
void expand_softmax_cross_entropy_loss(Rule& r, const std::string& reduction) {
  ir::Value* scores = r.out.inputs[0];
  ir::Value* labels = r.out.inputs[1];
  const std::vector<Dim>& dims = r.input_dims(0);
  const int64_t rank = static_cast<int64_t>(dims.size());
  FC_CHECK(dims[1].is_known(), r.desc, ": the class count (dim 1 of the scores) must be known, is ",
           ir::to_string(dims[1]));
  const DType dt = scores->type.dtype;
  auto cast = [&](ir::Value* v) { return r.emit("Cast", {v}, {{"to", std::string(ir::dtype_name(dt))}}); };
  auto attr_axes = [](std::vector<int64_t> a) {
    return std::map<std::string, Attribute>{{"axes", a}, {"keepdims", int64_t{0}}};
  };

  const bool has_log_prob = r.out.outputs.size() > 1 && !r.out.outputs[1].empty();
  ir::Value* log_prob = r.emit("LogSoftmax", {scores}, {{"axis", int64_t{1}}}, has_log_prob ? r.out.outputs[1] : "");
  ir::Value* weight = nullptr;
  if (r.has_input(2)) {
    weight = r.out.inputs[2];
    if (r.st.g.is_param(weight)) weight = r.constant(r.st.g.param(weight));
  }
  ir::Value* keep = nullptr;  // labels != ignore_index, as 0/1 of the scores' type
  ir::Value* safe_labels = labels;
  if (auto it = r.out.attrs.find("ignore_index"); it != r.out.attrs.end()) {
    const int64_t ignore_index = std::get<int64_t>(it->second);
    ir::Value* ignored = r.emit("Equal", {labels, r.constant(ir::Tensor::scalar<int64_t>(ignore_index))});
    keep = cast(r.emit("Not", {ignored}));
    safe_labels = r.emit("Where", {ignored, r.constant(ir::Tensor::scalar<int64_t>(0)), labels});
  }
  std::vector<int64_t> class_shape(static_cast<size_t>(rank), 1), classes(static_cast<size_t>(dims[1].size));
  class_shape[1] = dims[1].size;
  for (size_t c = 0; c < classes.size(); ++c) classes[c] = static_cast<int64_t>(c);
  ir::Value* onehot = cast(r.emit("Equal", {r.emit("Unsqueeze", {safe_labels}, {{"axes", std::vector<int64_t>{1}}}),
                                            r.constant(ir::Tensor::from_vector<int64_t>(class_shape, classes))}));
  ir::Value* loss = r.emit("Neg", {r.emit("ReduceSum", {r.emit("Mul", {log_prob, onehot})}, attr_axes({1}))});
  ir::Value* w = weight ? r.emit("Gather", {weight, safe_labels}, {{"axis", int64_t{0}}}) : nullptr;
  if (keep) w = w ? r.emit("Mul", {w, keep}) : keep;
  if (w) loss = r.emit("Mul", {loss, w});
  const std::string& y = r.out.outputs[0];
  std::map<std::string, Attribute> all = {{"keepdims", int64_t{0}}};
  if (reduction == "none") r.emit("Identity", {loss}, {}, y);
  else if (reduction == "sum") r.emit("ReduceSum", {loss}, all, y);
  else if (!w) r.emit("ReduceMean", {loss}, all, y);
  else r.emit("Div", {r.emit("ReduceSum", {loss}, all), r.emit("ReduceSum", {w}, all)}, {}, y);
}

// SoftmaxCrossEntropyLoss (opset 12+) over [N, C] scores without class weights or the log_prob
// output, reduced by mean or sum, is fc.SoftmaxCrossEntropy (one fused kernel, and the loss a
// model exported with its loss trains with); every other form is expanded into ops
// (expand_softmax_cross_entropy_loss).
std::vector<PendingNode> normalize_softmax_cross_entropy_loss(Rule& r) {
  FC_CHECK(r.has_input(1) && r.input_dims(0).size() >= 2, r.desc, ": needs scores [N, C, ...] and labels");
  FC_CHECK(r.out.inputs[1]->type.dtype == DType::I64 || r.out.inputs[1]->type.dtype == DType::I32, r.desc,
           ": labels '", r.out.inputs[1]->name, "' must be int64 or int32, got ",
           ir::dtype_name(r.out.inputs[1]->type.dtype));
  labels_follow_batch(r);
  std::string reduction = "mean";
  if (auto it = r.out.attrs.find("reduction"); it != r.out.attrs.end()) reduction = std::get<std::string>(it->second);
  FC_CHECK(reduction == "mean" || reduction == "sum" || reduction == "none", r.desc, ": reduction '", reduction,
           "' is not one of \"mean\", \"sum\", \"none\"");
  const bool log_prob = r.out.outputs.size() > 1 && !r.out.outputs[1].empty();
  if (r.has_input(2) || log_prob || reduction == "none" || r.input_dims(0).size() != 2 ||
      r.out.inputs[1]->type.dtype != DType::I64) {
    if (r.out.inputs[1]->type.dtype != DType::I64)
      r.out.inputs[1] = r.emit("Cast", {r.out.inputs[1]}, {{"to", std::string("i64")}});
    expand_softmax_cross_entropy_loss(r, reduction);
    return {};
  }
  r.out.op = "SoftmaxCrossEntropy";
  r.out.domain = "fc";
  r.out.attrs["reduction"] = reduction;
  if (!r.out.attrs.count("ignore_index")) r.out.attrs["ignore_index"] = ir::kNoIgnoreIndex;
  r.keep_inputs(2);
  r.out.outputs.resize(1);
  return {r.out};
}

void normalize_constant(Rule& r) {
  auto& a = r.out.attrs;
  auto take = [&](const char* key, auto make) {
    auto it = a.find(key);
    if (it == a.end()) return;
    a["value"] = make(it->second);
    a.erase(key);
  };
  take("value_float", [](const Attribute& v) { return ir::Tensor::scalar<float>(std::get<float>(v)); });
  take("value_int", [](const Attribute& v) { return ir::Tensor::scalar<int64_t>(std::get<int64_t>(v)); });
  take("value_floats", [](const Attribute& v) {
    const auto& f = std::get<std::vector<float>>(v);
    return ir::Tensor::from_vector<float>({static_cast<int64_t>(f.size())}, f);
  });
  take("value_ints", [](const Attribute& v) {
    const auto& f = std::get<std::vector<int64_t>>(v);
    return ir::Tensor::from_vector<int64_t>({static_cast<int64_t>(f.size())}, f);
  });
  FC_CHECK(a.size() == 1 && a.count("value") && std::holds_alternative<ir::Tensor>(a["value"]), r.desc,
           ": only tensor, float(s) and int(s) constants are supported");
}

void normalize_cast(Rule& r) {
  auto it = r.out.attrs.find("to");
  FC_CHECK(it != r.out.attrs.end() && std::holds_alternative<int64_t>(it->second), r.desc, ": missing 'to'");
  int32_t onnx_type = static_cast<int32_t>(std::get<int64_t>(it->second));
  DType to = dtype_from_onnx(onnx_type);
  FC_CHECK(to != DType::Undefined, r.desc, ": casting to ", onnx_type_name(onnx_type), " is not supported");
  it->second = std::string(ir::dtype_name(to));
  // saturate (opset 19) only means something for float8 targets; the IR keeps it only where it is 0.
  auto saturate = r.out.attrs.find("saturate");
  const bool keep = saturate != r.out.attrs.end() && std::holds_alternative<int64_t>(saturate->second) &&
                    std::get<int64_t>(saturate->second) == 0 && ir::is_storage_only_dtype(to) && to != DType::I4 &&
                    to != DType::U4;
  if (!keep) r.out.attrs.erase("saturate");
}

// CastLike (15; saturate from 19) is Cast to the element type of its second input.
void normalize_cast_like(Rule& r) {
  FC_CHECK(r.has_input(1), r.desc, ": the target_type input is required");
  DType like = r.out.inputs[1]->type.dtype;
  FC_CHECK(like != DType::Undefined, r.desc, ": the element type of input '", r.out.inputs[1]->name,
           "' (target_type) is not known or not supported");
  r.out.op = "Cast";
  r.out.attrs["to"] = static_cast<int64_t>(dtype_to_onnx(like));
  r.keep_inputs(1);
  normalize_cast(r);
}

// Versions 7 and 9 have no training_mode: the node trains (batch statistics, running statistics
// updated) exactly when it has the optional outputs mean, var, saved_mean, saved_var. The saved
// statistics (cuDNN's, for a gradient kernel) have no equivalent here and must be unused.
void normalize_batchnorm(Rule& r) {
  auto& a = r.out.attrs;
  if (a.count("spatial")) {
    FC_CHECK(std::get<int64_t>(a["spatial"]) == 1, r.desc, ": spatial=0 is not supported");
    a.erase("spatial");
  }
  a.erase("consumed_inputs");
  if (r.version < 14 && r.out.outputs.size() > 1) {
    a["training_mode"] = int64_t{1};
    for (size_t i = 3; i < r.out.outputs.size(); ++i)
      FC_CHECK(!r.is_consumed(r.out.outputs[i]), r.desc, ": output '", r.out.outputs[i],
               "' (saved_mean/saved_var) is used, which is not supported");
    if (r.out.outputs.size() > 3) r.out.outputs.resize(3);
  }
}

// Reductions: axes as an input from version 13 (ReduceSum) or 18 (the others); an empty axes
// input means "not given".
void normalize_reduce(Rule& r) {
  int axes_input_since = r.out.op == "ReduceSum" ? 13 : 18;
  if (r.version < axes_input_since) return;
  r.ints_input_to_attr(1, "axes");
  if (r.out.attrs.count("axes") && std::get<std::vector<int64_t>>(r.out.attrs["axes"]).empty())
    r.out.attrs.erase("axes");
  r.keep_inputs(1);
}

// Split: sizes as an input from version 13; from 18 `num_outputs` instead splits into that many
// parts of ceil(dim / num_outputs), the last one smaller (the IR's form: explicit sizes).
void normalize_split(Rule& r) {
  if (r.version >= 13) {
    r.ints_input_to_attr(1, "split");
    r.keep_inputs(1);
  }
  auto it = r.out.attrs.find("num_outputs");
  if (it == r.out.attrs.end()) return;
  int64_t parts = std::get<int64_t>(it->second);
  r.out.attrs.erase(it);
  FC_CHECK(!r.out.attrs.count("split"), r.desc, ": both split and num_outputs are given");
  FC_CHECK(parts >= 1 && parts == static_cast<int64_t>(r.out.outputs.size()), r.desc, ": num_outputs = ", parts,
           " but the node has ", r.out.outputs.size(), " outputs");
  const std::vector<Dim>& dims = r.input_dims(0);
  int64_t axis = 0;
  if (r.out.attrs.count("axis")) axis = std::get<int64_t>(r.out.attrs["axis"]);
  axis = ir::normalize_axis(axis, static_cast<int64_t>(dims.size()), r.desc);
  FC_CHECK(dims[axis].is_known(), r.desc, ": num_outputs needs a known size of axis ", axis, ", is ",
           ir::to_string(dims[axis]));
  int64_t size = dims[axis].size, chunk = (size + parts - 1) / parts;
  std::vector<int64_t> split;
  for (int64_t i = 0, left = size; i < parts; ++i, left -= chunk) split.push_back(std::clamp(left, int64_t{0}, chunk));
  r.out.attrs["split"] = split;
}

// Pad: pads and value as inputs from version 11; from 18 an optional axes input says which axes the
// pads are for (the IR's form: pads for every axis, [begins..., ends...]).
void normalize_pad(Rule& r) {
  r.ints_input_to_attr(1, "pads");
  r.float_input_to_attr(2, "value");
  if (r.has_input(3)) {
    std::vector<int64_t> axes = r.config_ints(3, "axes");
    auto& pads = std::get<std::vector<int64_t>>(r.out.attrs.at("pads"));
    int64_t rank = static_cast<int64_t>(r.input_dims(0).size());
    size_t k = axes.size();
    FC_CHECK(pads.size() == 2 * k, r.desc, ": ", pads.size(), " pads for ", k, " axes (need ", 2 * k, ")");
    std::vector<int64_t> full(2 * rank, 0);
    for (size_t i = 0; i < k; ++i) {
      int64_t a = ir::normalize_axis(axes[i], rank, r.desc);
      full[a] = pads[i];
      full[a + rank] = pads[i + k];
    }
    pads = full;
  }
  r.keep_inputs(1);
}

}  // namespace

bool rewritten_at_import(const std::string& op, int opset) {
  return (op == "SoftmaxCrossEntropyLoss" && opset >= 12) || (op == "CastLike" && opset >= 15) ||
         is_sequence_op(op, opset);
}

std::vector<PendingNode> normalize_node(const onnx::NodeProto& node, const std::string& name,
                                        const std::vector<ir::Value*>& inputs, ImportState& st,
                                        const AddPendingNode& add) {
  PendingNode out;
  out.op = node.op_type();
  out.name = name;
  out.inputs = inputs;
  while (!out.inputs.empty() && !out.inputs.back()) out.inputs.pop_back();  // trailing omitted inputs
  for (const std::string& o : node.output()) out.outputs.push_back(o);
  std::string desc = node.op_type() + " node '" + name + "'";
  for (const auto& a : node.attribute()) out.attrs[a.name()] = attribute_from_onnx(a, desc);

  const std::string& op = out.op;
  const ir::OpSchema* schema = ir::OpRegistry::global().find(op, "");
  Rule r{out, st, desc, st.model.opset, schema ? schema->onnx_version_at(st.model.opset) : st.model.opset, add};
  if (op == "Reshape") {
    normalize_reshape(r);
  } else if (op == "Expand") {
    normalize_expand(r);
  } else if (op == "Tile") {
    r.ints_input_to_attr(1, "repeats");
    r.keep_inputs(1);
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    // Version 13 moved axes from an attribute to an optional input.
    if (r.version >= 13) {
      r.ints_input_to_attr(1, "axes");
      r.keep_inputs(1);
    }
    if (op == "Unsqueeze") FC_CHECK(out.attrs.count("axes"), desc, ": axes are required");
  } else if (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin") {
    normalize_reduce(r);
  } else if (op == "Split") {
    normalize_split(r);
  } else if (op == "Slice") {
    r.ints_input_to_attr(1, "starts");
    r.ints_input_to_attr(2, "ends");
    r.ints_input_to_attr(3, "axes");
    r.ints_input_to_attr(4, "steps");
    FC_CHECK(out.attrs.count("starts") && out.attrs.count("ends"), desc, ": starts and ends are required");
    r.keep_inputs(1);
  } else if (op == "Pad") {
    normalize_pad(r);
  } else if (op == "Clip") {
    r.float_input_to_attr(1, "min");
    r.float_input_to_attr(2, "max");
    r.keep_inputs(1);
  } else if (op == "Dropout") {
    r.float_input_to_attr(1, "ratio");
    if (r.has_input(2)) {
      const SymTensor& t = r.config(2, "training_mode");
      FC_CHECK(t.known() && t.tensor.numel() == 1, desc, ": training_mode must be a known scalar");
      out.attrs["training_mode"] = t.tensor.to_int64_vector()[0] != 0 ? int64_t{1} : int64_t{0};
    }
    if (out.attrs.count("ratio") && std::holds_alternative<int64_t>(out.attrs["ratio"]))
      out.attrs["ratio"] = static_cast<float>(std::get<int64_t>(out.attrs["ratio"]));
    r.keep_inputs(1);
  } else if (op == "Cast") {
    normalize_cast(r);
  } else if (op == "CastLike") {
    normalize_cast_like(r);
  } else if (op == "Constant") {
    normalize_constant(r);
  } else if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
    return normalize_softmax(r);
  } else if (op == "BatchNormalization") {
    normalize_batchnorm(r);
  } else if (op == "SoftmaxCrossEntropyLoss") {
    return normalize_softmax_cross_entropy_loss(r);
  }
  return {out};
}

}  // namespace fc::frontend::detail

namespace fc::frontend {

std::vector<std::string> ops_rewritten_at_import() {
  std::vector<std::string> ops = {"CastLike", "SoftmaxCrossEntropyLoss"};
  for (const std::string& op : detail::sequence_ops()) ops.push_back(op);
  std::sort(ops.begin(), ops.end());
  return ops;
}

}  // namespace fc::frontend
