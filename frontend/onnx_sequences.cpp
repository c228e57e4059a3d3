// ONNX sequence values, resolved at import. A sequence (from SplitToSequence, SequenceConstruct,
// SequenceEmpty, SequenceInsert, SequenceErase) exists only while the importer walks the graph, as
// the list of the tensor values it holds; SequenceAt, SequenceLength and ConcatFromSequence read that
// list, so no sequence reaches the IR: SplitToSequence becomes a Split (and Squeezes without keepdims),
// SequenceAt an Identity of the element, ConcatFromSequence a Concat (Unsqueezes with new_axis),
// SequenceLength a constant. PyTorch 2.x's dynamo exporter without graph optimisation writes
// tensor.split / chunk this way (a transformer's q, k, v). Positions and split sizes must be known at
// import; one whose length depends on run-time data is refused by name. A sequence graph input or
// output is its tensors S[0], S[1], ... (onnx_import.h: sequence_element_name; `fcrun infer` gives
// an input's tensors, so its length is known at import).
#include <onnx/onnx_pb.h>

#include <algorithm>

#include "frontend/onnx_internal.h"
#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::frontend::detail {

namespace {

// The sequence ops, with the opset each appeared in (all at 11, none changed since).
constexpr int kSequenceOpsSince = 11;
const char* const kSequenceOps[] = {"SplitToSequence", "SequenceAt",    "SequenceConstruct", "SequenceEmpty",
                                    "SequenceInsert",  "SequenceErase", "SequenceLength",    "ConcatFromSequence"};

class SequenceNode {
 public:
  SequenceNode(const onnx::NodeProto& n, const std::string& name, ImportState& st, const AddPendingNode& add)
      : n_(n), name_(name), st_(st), add_(add), desc_(n.op_type() + " node '" + name + "'") {
    for (const auto& a : n.attribute()) attrs_[a.name()] = attribute_from_onnx(a, desc_);
  }

  void lower() {
    const std::string& op = n_.op_type();
    if (op == "SplitToSequence") return define(split_to_sequence());
    if (op == "SequenceConstruct") {
      std::vector<std::string> elems;
      for (int i = 0; i < n_.input_size(); ++i) elems.push_back(tensor(i)->name);
      return define(elems);
    }
    if (op == "SequenceEmpty") return define({});
    if (op == "SequenceInsert") {
      std::vector<std::string> s = sequence(0);
      const std::string t = tensor(1)->name;
      s.insert(s.begin() + position(2, s.size(), /*at_end_allowed=*/true), t);
      return define(s);
    }
    if (op == "SequenceErase") {
      std::vector<std::string> s = sequence(0);
      FC_CHECK(!s.empty(), desc_, ": erasing from an empty sequence");
      s.erase(s.begin() + position(1, s.size(), false));
      return define(s);
    }
    if (op == "SequenceAt") {
      const std::vector<std::string>& s = sequence(0);
      emit("Identity", {element(s[position(1, s.size(), false)])}, {n_.output(0)}, {});
      return;
    }
    if (op == "SequenceLength") {
      emit("Constant", {}, {n_.output(0)},
           {{"value", ir::Tensor::scalar<int64_t>(static_cast<int64_t>(sequence(0).size()))}});
      return;
    }
    FC_ASSERT(op == "ConcatFromSequence");
    concat_from_sequence();
  }

 private:
  // Split sizes: the `split` input (a scalar: chunks of that size, the last one smaller; a 1-D
  // tensor: the sizes), or ones, each element then losing the axis unless keepdims.
  std::vector<std::string> split_to_sequence() {
    ir::Value* x = tensor(0);
    const int64_t rank = static_cast<int64_t>(x->type.rank());
    const int64_t axis = ir::normalize_axis(int_attr("axis", 0), rank, desc_);
    const ir::Dim& d = x->type.dims[axis];
    FC_CHECK(d.is_known(), desc_, ": the size of axis ", axis, " of input '", x->name,
             "' must be known at import (is ", ir::to_string(d), "): a sequence's length is fixed here");
    std::vector<int64_t> sizes;
    const bool given = n_.input_size() > 1 && !n_.input(1).empty();
    if (given) {
      const SymTensor* t = st_.known(n_.input(1));
      FC_CHECK(t && t->known() && t->is_integral() && t->tensor.rank() <= 1, desc_, ": input '", n_.input(1),
               "' (split) must be integers known at import");
      std::vector<int64_t> v = t->tensor.to_int64_vector();
      if (t->tensor.rank() == 0) {
        FC_CHECK(v[0] > 0, desc_, ": split = ", v[0], " must be positive");
        for (int64_t left = d.size; left > 0; left -= v[0]) sizes.push_back(std::min(left, v[0]));
      } else {
        sizes = v;
        int64_t sum = 0;
        for (int64_t s : sizes) {
          FC_CHECK(s >= 0, desc_, ": negative split size ", s);
          sum += s;
        }
        FC_CHECK(sum == d.size, desc_, ": split sizes sum to ", sum, ", axis ", axis, " has ", d.size);
      }
    } else {
      sizes.assign(static_cast<size_t>(d.size), 1);
    }
    std::vector<std::string> elems;
    if (sizes.empty()) return elems;
    for (size_t i = 0; i < sizes.size(); ++i)
      elems.push_back(st_.fresh_value_name(n_.output(0) + "/" + std::to_string(i)));
    ir::Node* split = emit("Split", {x}, elems, {{"axis", axis}, {"split", sizes}});
    if (given || int_attr("keepdims", 1) != 0) return elems;
    std::vector<std::string> squeezed;
    for (ir::Value* part : split->outputs) {
      squeezed.push_back(st_.fresh_value_name(part->name + "/squeezed"));
      emit("Squeeze", {part}, {squeezed.back()}, {{"axes", std::vector<int64_t>{axis}}});
    }
    return squeezed;
  }

  // Concat along `axis`; with new_axis the elements are stacked along a new axis there.
  void concat_from_sequence() {
    const std::vector<std::string>& s = sequence(0);
    FC_CHECK(!s.empty(), desc_, ": concatenating an empty sequence");
    int64_t axis = int_attr("axis", 0);
    std::vector<ir::Value*> parts;
    for (const std::string& e : s) parts.push_back(element(e));
    if (int_attr("new_axis", 0) != 0) {
      const int64_t rank = static_cast<int64_t>(parts[0]->type.rank()) + 1;
      axis = ir::normalize_axis(axis, rank, desc_);
      for (ir::Value*& p : parts) {
        const std::string u = st_.fresh_value_name(p->name + "/unsqueezed");
        p = emit("Unsqueeze", {p}, {u}, {{"axes", std::vector<int64_t>{axis}}})->outputs[0];
      }
    }
    emit("Concat", parts, {n_.output(0)}, {{"axis", axis}});
  }

  // The position input i (a known integer scalar; negative counts from the end), or the end of the
  // sequence when absent. Insertion may also go at the end itself.
  size_t position(int i, size_t size, bool at_end_allowed) {
    const int64_t n = static_cast<int64_t>(size);
    if (n_.input_size() <= i || n_.input(i).empty()) return at_end_allowed ? size : size - 1;
    const SymTensor* t = st_.known(n_.input(i));
    FC_CHECK(t && t->known() && t->is_integral() && t->tensor.numel() == 1, desc_, ": input '", n_.input(i),
             "' (position) must be an integer known at import");
    int64_t p = t->tensor.to_int64_vector()[0];
    const int64_t hi = at_end_allowed ? n : n - 1;
    FC_CHECK(p >= -n && p <= hi, desc_, ": position ", p, " is outside a sequence of ", n, " tensors");
    return static_cast<size_t>(p < 0 ? p + n : p);
  }

  ir::Value* tensor(int i) {
    FC_CHECK(i < n_.input_size() && !n_.input(i).empty(), desc_, ": input ", i, " is required");
    FC_CHECK(!st_.sequence(n_.input(i)), desc_, ": input '", n_.input(i), "' is a sequence where a tensor is expected");
    ir::Value* v = st_.g.find_value(n_.input(i));
    FC_CHECK(v, desc_, ": input '", n_.input(i), "' is not defined before use");
    return v;
  }
  const std::vector<std::string>& sequence(int i) {
    FC_CHECK(i < n_.input_size() && !n_.input(i).empty(), desc_, ": input ", i, " is required");
    const std::vector<std::string>* s = st_.sequence(n_.input(i));
    FC_CHECK(s, desc_, ": input '", n_.input(i), "' is not a sequence made by an earlier node or given as one");
    return *s;
  }
  ir::Value* element(const std::string& name) {
    ir::Value* v = st_.g.find_value(name);
    FC_ASSERT(v);
    return v;
  }
  int64_t int_attr(const std::string& key, int64_t fallback) const {
    auto it = attrs_.find(key);
    if (it == attrs_.end()) return fallback;
    FC_CHECK(std::holds_alternative<int64_t>(it->second), desc_, ": attribute ", key, " must be an int");
    return std::get<int64_t>(it->second);
  }
  ir::Node* emit(const std::string& op, std::vector<ir::Value*> inputs, std::vector<std::string> outputs,
                 std::map<std::string, ir::Attribute> attrs) {
    PendingNode p;
    p.op = op;
    p.name = st_.unique_node_name(name_ + "/" + op);
    p.inputs = std::move(inputs);
    p.outputs = std::move(outputs);
    p.attrs = std::move(attrs);
    return add_(std::move(p));
  }
  void define(const std::vector<std::string>& elems) {
    FC_CHECK(n_.output_size() == 1, desc_, ": expects one output");
    st_.set_sequence(n_.output(0), elems);
  }

  const onnx::NodeProto& n_;
  const std::string& name_;
  ImportState& st_;
  const AddPendingNode& add_;
  std::string desc_;
  std::map<std::string, ir::Attribute> attrs_;
};

}  // namespace

bool is_sequence_op(const std::string& op, int opset) {
  return opset >= kSequenceOpsSince &&
         std::find(std::begin(kSequenceOps), std::end(kSequenceOps), op) != std::end(kSequenceOps);
}

std::vector<std::string> sequence_ops() { return {std::begin(kSequenceOps), std::end(kSequenceOps)}; }

void lower_sequence_node(const onnx::NodeProto& node, const std::string& name, ImportState& st,
                         const AddPendingNode& add) {
  SequenceNode(node, name, st, add).lower();
}

}  // namespace fc::frontend::detail
