// The finite-difference gradient check harness (see gradcheck.h) and its registry-coverage test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "gradcheck.h"
#include "op_coverage.h"
#include "ir/op_registry.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

namespace fc::test {

ir::Tensor random_tensor(std::vector<int64_t> dims, uint64_t seed, float lo, float hi, float gap) {
  ir::Tensor t(ir::DType::F32, std::move(dims));
  std::mt19937_64 gen(seed);
  float* p = t.data<float>();
  for (size_t i = 0; i < t.numel(); ++i) {
    float u = static_cast<float>((gen() >> 11) * (1.0 / 9007199254740992.0));
    float v = lo + (hi - lo) * u;
    if (std::fabs(v) < gap) v = v < 0 ? v - gap : v + gap;
    p[i] = v;
  }
  return t;
}

GradCase onnx_case(std::string label, std::string op, std::vector<ir::Tensor> inputs,
                   std::map<std::string, ir::Attribute> attrs, int num_outputs, std::vector<int> seeded,
                   const char* where) {
  return {.label = std::move(label), .op = std::move(op), .inputs = std::move(inputs), .attrs = std::move(attrs),
          .num_outputs = num_outputs, .seeded_outputs = std::move(seeded), .where = where};
}

std::vector<ir::Tensor> distinct_values(const std::vector<std::vector<int64_t>>& shapes, uint64_t seed) {
  int64_t n = 0;
  for (const auto& s : shapes) n += ir::Tensor(ir::DType::F32, s).numel();
  const ir::Tensor r = random_tensor({n}, seed);
  const float* rv = r.data<float>();
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rv[a] < rv[b]; });
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[order[i]] = -1.0f + 2.0f * static_cast<float>(i) / float(n);
  std::vector<ir::Tensor> out;
  int64_t k = 0;
  for (const auto& s : shapes) {
    ir::Tensor t(ir::DType::F32, s);
    for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v[k++];
    out.push_back(t);
  }
  return out;
}

ir::Tensor avoid_kinks(ir::Tensor t, const std::vector<float>& kinks, float gap) {
  for (size_t i = 0; i < t.numel(); ++i)
    for (float k : kinks) {
      float& v = t.data<float>()[i];
      if (std::fabs(v - k) < gap) v = v < k ? k - gap : k + gap;
    }
  return t;
}

namespace {

std::vector<void (*)(std::vector<GradCase>&)>& case_sources() {
  static std::vector<void (*)(std::vector<GradCase>&)> sources;
  return sources;
}

}  // namespace

GradCaseSource::GradCaseSource(void (*add)(std::vector<GradCase>& cases)) { case_sources().push_back(add); }

std::vector<GradCase> grad_cases() {
  std::vector<GradCase> cases;
  for (auto* add : case_sources()) add(cases);
  return cases;
}

namespace {

bool is_float(const ir::Tensor& t) { return t.defined() && t.dtype() == ir::DType::F32; }

struct Built {
  ir::Graph g;
  std::vector<ir::Value*> params;   // one per input (null if omitted)
  std::vector<ir::Value*> outputs;
  std::vector<ir::Tensor> seeds;    // per seeded output
  std::vector<int> seeded;
  std::map<int, ir::Value*> grads;  // input index -> gradient value
};

void build(const GradCase& c, Built& b) {
  ir::Graph& g = b.g;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    b.params.push_back(c.inputs[i].defined() ? g.add_param("in" + std::to_string(i), c.inputs[i].clone()) : nullptr);
  for (int k = 0; k < c.num_outputs; ++k) b.outputs.push_back(g.add_value("out" + std::to_string(k), {}));
  ir::Node* n = g.add_node(c.op, b.params, b.outputs, c.attrs, "op_under_test");
  n->domain = c.domain;
  ir::infer_graph_types(g);
  b.seeded = c.seeded_outputs;
  if (b.seeded.empty())
    for (int k = 0; k < c.num_outputs; ++k)
      if (b.outputs[k]->type.dtype == ir::DType::F32) b.seeded.push_back(k);
  std::vector<std::pair<ir::Value*, ir::Value*>> seeds;
  // Seeds need concrete shapes: the case's inputs are concrete, so outputs are too.
  for (int k : b.seeded) {
    ir::Tensor r = random_tensor(b.outputs[k]->type.sizes(), 1000 + k);
    b.seeds.push_back(r);
    seeds.emplace_back(b.outputs[k], g.add_param("seed" + std::to_string(k), r));
  }
  std::vector<ir::Value*> wrt;
  std::vector<int> check = c.check_inputs;
  if (check.empty())
    for (size_t i = 0; i < c.inputs.size(); ++i)
      if (is_float(c.inputs[i])) check.push_back(static_cast<int>(i));
  for (int i : check) wrt.push_back(b.params[i]);
  passes::Gradients gr = passes::build_vjp(g, seeds, wrt);
  for (int i : check) {
    auto it = gr.of.find(b.params[i]);
    if (it != gr.of.end()) b.grads[i] = it->second;
  }
  g.outputs = b.outputs;
  for (auto& [i, v] : b.grads) g.outputs.push_back(v);
}

// L = sum_k <R_k, y_k> in double, from one forward run with the given input values.
double objective(Built& b, runtime::Executor& ex) {
  auto out = ex.run({});
  double L = 0;
  for (size_t s = 0; s < b.seeded.size(); ++s) {
    const ir::Tensor& y = out.at(b.outputs[b.seeded[s]]->name);
    const float* yp = y.data<float>();
    const float* rp = b.seeds[s].data<float>();
    for (size_t i = 0; i < y.numel(); ++i) L += double(yp[i]) * double(rp[i]);
  }
  return L;
}

void check_case(const GradCase& c) {
  SCOPED_TRACE(c.label);
  Built b;
  build(c, b);
  ASSERT_FALSE(b.grads.empty()) << c.label << ": autodiff produced no gradient";
  for (const auto& n : b.g.nodes())
    if (n->name == "op_under_test") note_gradient_case(*n, b.g, c.where);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(b.g, cpu);
  auto out = ex.run({});
  for (auto& [i, gv] : b.grads) {
    const ir::Tensor analytic = out.at(gv->name).clone();
    ir::Tensor& x = b.g.param_mut(b.params[i]);
    ASSERT_EQ(analytic.numel(), x.numel());
    double diff2 = 0, norm2 = 0;
    for (size_t e = 0; e < x.numel(); ++e) {
      float* xp = x.data<float>() + e;
      const float orig = *xp;
      if (!std::isfinite(orig)) {
        // A masked input (-inf, as attention masks add) has no neighbourhood to difference over; what
        // flows back into it must still be a number (0 for a masked softmax entry).
        EXPECT_TRUE(std::isfinite(analytic.data<float>()[e])) << c.label << ": input " << i << " element " << e;
        continue;
      }
      const float h = static_cast<float>(c.step * std::max(1.0f, std::fabs(orig)));
      *xp = orig + h;
      runtime::Executor plus(b.g, cpu);
      const double lp = objective(b, plus);
      *xp = orig - h;
      runtime::Executor minus(b.g, cpu);
      const double lm = objective(b, minus);
      *xp = orig;
      const double fd = (lp - lm) / (double(orig + h) - double(orig - h));
      const double an = analytic.data<float>()[e];
      diff2 += (fd - an) * (fd - an);
      norm2 += an * an;
    }
    const double rel = std::sqrt(diff2) / std::max(std::sqrt(norm2), 1e-3);
    EXPECT_LE(rel, c.tolerance) << c.label << ": input " << i << " gradient differs from finite differences (rel "
                                << rel << ")";
  }
}

}  // namespace

TEST(GradCheck, EveryOpWithAGradientRuleHasACase) {
  std::set<std::pair<std::string, std::string>> covered;
  for (const GradCase& c : grad_cases()) covered.insert({c.domain, c.op});
  for (const ir::OpSchema* s : ir::OpRegistry::global().all())
    if (s->gradient) {
      EXPECT_TRUE(covered.count({s->domain, s->name}))
          << (s->domain.empty() ? "" : s->domain + ".") << s->name
          << " has a gradient rule but no finite-difference case (FC_GRAD_CASES in tests/unit/ops/NAME/grad_cases.cpp)";
    }
}

TEST(GradCheck, FiniteDifferencesAgreeForEveryCase) {
  for (const GradCase& c : grad_cases()) {
    try {
      check_case(c);
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.label << ": " << e.what();
    }
  }
}

}  // namespace fc::test
