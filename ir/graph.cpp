#include "ir/graph.h"

#include <algorithm>
#include <deque>
#include <unordered_set>

#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::ir {

const char* attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::Int: return "int";
    case AttrKind::Float: return "float";
    case AttrKind::String: return "string";
    case AttrKind::Ints: return "ints";
    case AttrKind::Floats: return "floats";
    case AttrKind::Tensor: return "tensor";
    case AttrKind::Strings: return "strings";
  }
  return "?";
}

// ---- Node attribute lookup ----

const Attribute& Node::attr(const std::string& key) const {
  auto it = attrs.find(key);
  if (it != attrs.end()) return it->second;
  if (const OpSchema* s = OpRegistry::global().find(op, domain)) {
    for (const AttrSpec& a : s->attrs)
      if (a.name == key && a.default_value) return *a.default_value;
  }
  fail(describe(), ": missing attribute '", key, "'");
}

namespace {
template <typename T>
const T& typed_attr(const Node& n, const std::string& key) {
  const Attribute& a = n.attr(key);
  if (const T* v = std::get_if<T>(&a)) return *v;
  fail(n.describe(), ": attribute '", key, "' has kind ", attr_kind_name(attr_kind(a)));
}
}  // namespace

int64_t Node::attr_int(const std::string& key) const { return typed_attr<int64_t>(*this, key); }
float Node::attr_float(const std::string& key) const {
  const Attribute& a = attr(key);
  if (const int64_t* i = std::get_if<int64_t>(&a)) return static_cast<float>(*i);
  return typed_attr<float>(*this, key);
}
const std::string& Node::attr_string(const std::string& key) const { return typed_attr<std::string>(*this, key); }
const std::vector<int64_t>& Node::attr_ints(const std::string& key) const {
  return typed_attr<std::vector<int64_t>>(*this, key);
}
const std::vector<float>& Node::attr_floats(const std::string& key) const {
  return typed_attr<std::vector<float>>(*this, key);
}
const Tensor& Node::attr_tensor(const std::string& key) const { return typed_attr<Tensor>(*this, key); }

std::string Node::describe() const { return detail::concat(op, " node '", name, "'"); }

// ---- Graph ----

Value* Graph::add_value(const std::string& name, TensorType type) {
  FC_CHECK(!name.empty(), "graph: empty value name");
  auto [it, inserted] = values_.emplace(name, nullptr);
  FC_CHECK(inserted, "graph: value '", name, "' defined twice");
  it->second = std::make_unique<Value>();
  it->second->name = name;
  it->second->type = std::move(type);
  return it->second.get();
}

Value* Graph::find_value(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : it->second.get();
}

Value* Graph::value(const std::string& name) const {
  Value* v = find_value(name);
  FC_CHECK(v, "graph: no value named '", name, "'");
  return v;
}

std::string Graph::unique_name(const std::string& base) const {
  if (!find_value(base)) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!find_value(n)) return n;
  }
}

std::string Graph::unique_node_name(const std::string& base) const {
  auto taken = [&](const std::string& n) {
    for (const auto& node : nodes_)
      if (node->name == n) return true;
    return false;
  };
  if (!taken(base)) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!taken(n)) return n;
  }
}

Value* Graph::add_param(const std::string& name, Tensor t) {
  Value* v = add_value(name, t.type());
  params_.emplace(name, std::move(t));
  param_order_.push_back(v);
  return v;
}

const Tensor& Graph::param(const Value* v) const {
  auto it = params_.find(v->name);
  FC_CHECK(it != params_.end(), "graph: '", v->name, "' is not a parameter");
  return it->second;
}

Tensor& Graph::param_mut(const Value* v) {
  auto it = params_.find(v->name);
  FC_CHECK(it != params_.end(), "graph: '", v->name, "' is not a parameter");
  return it->second;
}

void Graph::set_param(const Value* v, Tensor t) { param_mut(v) = std::move(t); }

void Graph::remove_param(Value* v) {
  params_.erase(v->name);
  param_order_.erase(std::remove(param_order_.begin(), param_order_.end(), v), param_order_.end());
  values_.erase(v->name);
}

Node* Graph::add_node(std::string op, std::vector<Value*> ins, std::vector<Value*> outs,
                      std::map<std::string, Attribute> attrs, std::string name) {
  auto n = std::make_unique<Node>();
  n->op = std::move(op);
  if (name.empty()) name = n->op + "_" + std::to_string(nodes_.size());
  n->name = std::move(name);
  n->inputs = std::move(ins);
  n->outputs = std::move(outs);
  n->attrs = std::move(attrs);
  for (size_t i = 0; i < n->outputs.size(); ++i) {
    Value* o = n->outputs[i];
    FC_CHECK(o, n->describe(), ": null output");
    FC_CHECK(!o->producer, n->describe(), ": value '", o->name, "' already produced by another node");
    o->producer = n.get();
    o->producer_output = static_cast<int>(i);
  }
  nodes_.push_back(std::move(n));
  return nodes_.back().get();
}

void Graph::remove_node(Node* n) {
  for (Value* o : n->outputs)
    if (o && o->producer == n) o->producer = nullptr;
  for (const auto& m : nodes_)
    if (m->gradient_of == n) m->gradient_of = nullptr;
  nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(), [&](const auto& p) { return p.get() == n; }),
               nodes_.end());
}

void Graph::remove_value(Value* v) {
  FC_ASSERT(v && !v->producer && !is_param(v));
  values_.erase(v->name);
}

std::unordered_map<const Node*, size_t> Graph::node_positions() const {
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < nodes_.size(); ++i) position[nodes_[i].get()] = i;
  return position;
}

std::vector<Node*> Graph::users(const Value* v) const {
  std::vector<Node*> r;
  for (const auto& n : nodes_)
    if (std::find(n->inputs.begin(), n->inputs.end(), v) != n->inputs.end()) r.push_back(n.get());
  return r;
}

void Graph::replace_uses(Value* from, Value* to) {
  for (auto& n : nodes_)
    for (Value*& in : n->inputs)
      if (in == from) in = to;
  for (Value*& o : outputs)
    if (o == from) o = to;
}

void Graph::hoist(Node* n) {
  auto at = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& p) { return p.get() == n; });
  FC_ASSERT(at != nodes_.end());
  std::unique_ptr<Node> owned = std::move(*at);
  nodes_.erase(at);
  size_t insert = 0;
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (const Value* in : owned->inputs)
      if (in && in->producer == nodes_[i].get()) insert = i + 1;
  nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(insert), std::move(owned));
}

void Graph::move_before(Node* n, const Node* anchor) {
  auto at = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& p) { return p.get() == n; });
  FC_ASSERT(at != nodes_.end() && n != anchor);
  std::unique_ptr<Node> owned = std::move(*at);
  nodes_.erase(at);
  auto before = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& p) { return p.get() == anchor; });
  FC_ASSERT(before != nodes_.end());
  nodes_.insert(before, std::move(owned));
}

void Graph::toposort() {
  // Kahn's algorithm, stable with respect to the current order.
  std::unordered_map<const Node*, size_t> pending;
  std::unordered_map<const Node*, std::vector<Node*>> consumers;
  for (auto& n : nodes_) {
    size_t deps = 0;
    for (Value* in : n->inputs)
      if (in && in->producer) {
        ++deps;
        consumers[in->producer].push_back(n.get());
      }
    pending[n.get()] = deps;
  }
  const std::unordered_map<const Node*, size_t> position = node_positions();
  auto cmp = [&](Node* a, Node* b) { return position.at(a) > position.at(b); };
  std::vector<Node*> ready;
  for (auto& n : nodes_)
    if (pending[n.get()] == 0) ready.push_back(n.get());
  std::make_heap(ready.begin(), ready.end(), cmp);
  std::vector<Node*> order;
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), cmp);
    Node* n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (Node* c : consumers[n])
      if (--pending[c] == 0) {
        ready.push_back(c);
        std::push_heap(ready.begin(), ready.end(), cmp);
      }
  }
  FC_CHECK(order.size() == nodes_.size(), "graph '", name, "': contains a cycle");
  std::unordered_map<Node*, std::unique_ptr<Node>> owned;
  for (auto& n : nodes_) owned[n.get()] = std::move(n);
  nodes_.clear();
  for (Node* n : order) nodes_.push_back(std::move(owned[n]));
}

void Graph::remove_dead_nodes() {
  std::unordered_set<const Value*> live(outputs.begin(), outputs.end());
  for (const auto& updates : {state_updates, accumulations})
    for (const auto& [state, next] : updates) {
      live.insert(state);
      live.insert(next);
    }
  std::vector<std::unique_ptr<Node>> kept;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    Node* n = it->get();
    bool needed = false;
    for (Value* o : n->outputs) needed |= live.count(o) != 0;
    if (!needed) continue;
    for (Value* in : n->inputs)
      if (in) live.insert(in);
  }
  std::vector<Node*> dead;
  for (auto& n : nodes_) {
    bool needed = false;
    for (Value* o : n->outputs) needed |= live.count(o) != 0;
    if (!needed) dead.push_back(n.get());
  }
  for (Node* n : dead) {
    // The node goes first: remove_node reads its outputs, which must not be freed yet.
    const std::vector<Value*> outs = n->outputs;
    remove_node(n);
    for (Value* o : outs)
      if (o) values_.erase(o->name);
  }
  std::vector<Value*> unused_params;
  for (Value* p : param_order_)
    if (!live.count(p)) unused_params.push_back(p);
  for (Value* p : unused_params) remove_param(p);
}

}  // namespace fc::ir
