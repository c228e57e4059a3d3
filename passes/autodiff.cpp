#include "passes/autodiff.h"

#include <unordered_set>

#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_registry.h"
#include "passes/grad_accumulator.h"

namespace fc::passes {

namespace {
bool is_float(const ir::Value* v) { return v->type.dtype == ir::DType::F32 || v->type.dtype == ir::DType::F64; }
}  // namespace

Gradients build_gradients(ir::Graph& g, ir::Value* loss, const std::vector<ir::Value*>& wrt) {
  FC_CHECK(loss && is_float(loss) && loss->type.rank() == 0, "autodiff: the loss must be a float scalar");
  ir::Value* seed = g.add_value(g.unique_name(loss->name + "/grad_seed"), ir::TensorType(loss->type.dtype, {}));
  g.add_node("Constant", {}, {seed}, {{"value", ir::Tensor::scalar<float>(1.0f)}},
             g.unique_node_name(loss->name + "/grad_seed"));
  return build_vjp(g, {{loss, seed}}, wrt);
}

Gradients build_vjp(ir::Graph& g, const std::vector<std::pair<ir::Value*, ir::Value*>>& output_seeds,
                    const std::vector<ir::Value*>& wrt) {
  // Snapshot of the forward program: gradient nodes are appended behind it (seed nodes excluded).
  std::unordered_set<const ir::Value*> seeds;
  for (const auto& [out, seed] : output_seeds) seeds.insert(seed);
  std::vector<ir::Node*> forward;
  for (const auto& n : g.nodes())
    if (!(n->outputs.size() == 1 && seeds.count(n->outputs[0]))) forward.push_back(n.get());

  // Values that depend on a differentiated parameter (forward reachability).
  std::unordered_set<const ir::Value*> depends(wrt.begin(), wrt.end());
  for (ir::Node* n : forward) {
    bool any = false;
    for (ir::Value* in : n->inputs) any |= in && depends.count(in);
    if (any)
      for (ir::Value* o : n->outputs)
        if (is_float(o)) depends.insert(o);
  }
  // Values the loss depends on (backward reachability).
  std::unordered_set<const ir::Value*> reaches_loss;
  for (const auto& [out, seed] : output_seeds) reaches_loss.insert(out);
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    bool any = false;
    for (ir::Value* o : (*it)->outputs) any |= reaches_loss.count(o) != 0;
    if (any)
      for (ir::Value* in : (*it)->inputs)
        if (in) reaches_loss.insert(in);
  }
  auto needs_grad = [&](const ir::Value* v) { return v && is_float(v) && depends.count(v) && reaches_loss.count(v); };

  GradAccumulator acc(g);
  for (const auto& [out, seed] : output_seeds) acc.add(out, seed);
  std::vector<ir::SavedOutputOffer> offers;

  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    ir::Node* n = *it;
    std::vector<bool> needs;
    bool any_input = false;
    for (ir::Value* in : n->inputs) {
      needs.push_back(needs_grad(in));
      any_input |= needs.back();
    }
    if (!any_input) continue;
    std::vector<ir::Value*> dys;
    bool any_dy = false;
    for (ir::Value* o : n->outputs) {
      dys.push_back(acc.total(o));
      any_dy |= dys.back() != nullptr;
    }
    if (!any_dy) continue;
    const ir::OpSchema* schema = ir::OpRegistry::global().find(n->op, n->domain);
    FC_CHECK(schema && schema->gradient, n->describe(), ": op '", n->op,
             "' has no gradient rule, so gradients cannot flow through it to the parameters");
    ir::GradBuilder b(g, *n, dys, needs);
    std::vector<ir::Value*> dxs = schema->gradient(b);
    offers.insert(offers.end(), b.offers().begin(), b.offers().end());
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      if (!needs[i]) continue;
      FC_CHECK(i < dxs.size() && dxs[i], n->describe(), ": gradient rule gave no gradient for input ", i);
      FC_CHECK(dxs[i]->type.dtype == n->inputs[i]->type.dtype && dxs[i]->type.rank() == n->inputs[i]->type.rank(),
               n->describe(), ": gradient of input ", i, " has type ", ir::to_string(dxs[i]->type), ", input is ",
               ir::to_string(n->inputs[i]->type));
      acc.add(n->inputs[i], dxs[i]);
    }
  }

  Gradients r;
  r.saved_output_offers = std::move(offers);
  for (ir::Value* p : wrt) {
    ir::Value* gv = acc.total(p);
    if (gv) r.of[p] = gv;
    else r.unused.push_back(p);
  }
  return r;
}

}  // namespace fc::passes
