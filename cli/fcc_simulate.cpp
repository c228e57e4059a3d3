// `fcc simulate`: the training graph comes from the recipe exactly as `fcc compile` builds it; the
// per-node costs at each per-worker batch, the device profile and the alpha-beta allreduce model
// go through passes/scaling_sim.h. This file only parses flags, wires the cost model and formats.
#include "cli/fcc_simulate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/bucketing_model.h"
#include "cli/cli_common.h"
#include "cli/training_driver.h"
#include "distrib/cost_model.h"
#include "support/error.h"
#include "passes/scaling_sim.h"

namespace fc::cli {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// A comma-separated list of positive integers, e.g. "1,2,4,8".
std::vector<int64_t> parse_positive_list(const std::string& text, const std::string& flag) {
  std::vector<int64_t> v;
  for (const std::string& item : split(text, ',')) {
    int64_t x = 0;
    size_t used = 0;
    bool ok = !item.empty() && item.find_first_not_of("0123456789") == std::string::npos;
    if (ok) {
      try {
        x = std::stoll(item, &used);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    FC_CHECK(ok && used == item.size() && x >= 1 && x <= (int64_t{1} << 30), "fcc simulate: ", flag,
             ": expected a comma-separated list of positive integers, got '", text, "'");
    v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) o += fmt("\\u%04x", static_cast<unsigned char>(c));
    else o += c;
  }
  return o + "\"";
}

std::string json_number(double x) { return std::isfinite(x) ? fmt("%.9g", x) : "null"; }

std::string json_map(const std::map<std::string, double>& m) {
  std::string o = "{";
  for (const auto& [k, v] : m) o += (o.size() > 1 ? ", " : "") + json_string(k) + ": " + json_number(v);
  return o + "}";
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// ---- the SVG line plot: log2 x (workers), log y --------------------------------------------------

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};
struct Mark {
  double x = 0, y = 0;
  std::string label;
};

void write_svg(const std::string& path, const std::string& title, const std::string& y_label,
               const std::vector<Series>& series, const std::vector<Mark>& marks, bool ideal) {
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  auto extend = [&](double x, double y) {
    if (!(x > 0 && y > 0) || !std::isfinite(y)) return;
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  };
  for (const Series& s : series)
    for (auto [x, y] : s.points) extend(x, y);
  for (const Mark& m : marks) extend(m.x, m.y);
  FC_CHECK(x0 <= x1, "fcc simulate: nothing to plot in ", path);
  if (ideal) extend(x0, x0), extend(x1, x1);
  // Axis ranges snapped to powers of two (x) and to powers of 2 or 10 (y).
  // (A 1% tolerance keeps 0.9999 on the tick of 1 rather than opening a new power below it.)
  const double lx0 = std::floor(std::log2(x0) + 0.01), lx1 = std::max(lx0 + 1, std::ceil(std::log2(x1) - 0.01));
  const bool decades = y1 / y0 > 1024;
  const double base = decades ? 10 : 2;
  const double ly0 = std::floor(std::log(y0) / std::log(base) + 0.01),
               ly1 = std::max(ly0 + 1, std::ceil(std::log(y1) / std::log(base) - 0.01));
  const double W = 860, H = 480, L = 70, R = 300, T = 40, B = 50;
  auto px = [&](double x) { return L + (std::log2(x) - lx0) / (lx1 - lx0) * (W - L - R); };
  auto py = [&](double y) { return H - B - (std::log(y) / std::log(base) - ly0) / (ly1 - ly0) * (H - T - B); };
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << (L + (W - L - R) / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
    << xml_escape(title) << "</text>\n";
  for (double e = lx0; e <= lx1 + 1e-9; ++e) {
    const double x = px(std::exp2(e));
    o << "<line x1=\"" << x << "\" y1=\"" << T << "\" x2=\"" << x << "\" y2=\"" << (H - B)
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << x << "\" y=\"" << (H - B + 16) << "\" text-anchor=\"middle\">"
      << fmt("%.0f", std::exp2(e)) << "</text>\n";
  }
  for (double e = ly0; e <= ly1 + 1e-9; ++e) {
    const double v = std::pow(base, e);
    const double y = py(v);
    o << "<line x1=\"" << L << "\" y1=\"" << y << "\" x2=\"" << (W - R) << "\" y2=\"" << y
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << (L - 6) << "\" y=\"" << (y + 4) << "\" text-anchor=\"end\">"
      << fmt("%g", v) << "</text>\n";
  }
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << (W - L - R) << "\" height=\"" << (H - T - B)
    << "\" fill=\"none\" stroke=\"black\"/>\n"
    << "<text x=\"" << (L + (W - L - R) / 2) << "\" y=\"" << (H - 12) << "\" text-anchor=\"middle\">workers</text>\n"
    << "<text transform=\"translate(18," << (T + (H - T - B) / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
    << xml_escape(y_label) << "</text>\n";
  double legend_y = T + 10;
  auto legend = [&](const std::string& color, const std::string& label, const std::string& dash, bool dot) {
    const double lx = W - R + 12;
    if (dot) o << "<circle cx=\"" << (lx + 12) << "\" cy=\"" << legend_y << "\" r=\"4\" fill=\"" << color << "\"/>\n";
    else
      o << "<line x1=\"" << lx << "\" y1=\"" << legend_y << "\" x2=\"" << (lx + 24) << "\" y2=\"" << legend_y
        << "\" stroke=\"" << color << "\" stroke-width=\"2\"" << dash << "/>\n";
    o << "<text x=\"" << (lx + 30) << "\" y=\"" << (legend_y + 4) << "\">" << xml_escape(label) << "</text>\n";
    legend_y += 18;
  };
  if (ideal) {
    const double a = std::exp2(lx0), b = std::exp2(lx1);
    o << "<line x1=\"" << px(a) << "\" y1=\"" << py(a) << "\" x2=\"" << px(b) << "\" y2=\"" << py(b)
      << "\" stroke=\"#999\" stroke-dasharray=\"2,3\"/>\n";
    legend("#999", "linear", " stroke-dasharray=\"2,3\"", false);
  }
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const std::string color = colors[i % 10];
    const std::string dash = s.dashed ? " stroke-dasharray=\"6,4\"" : "";
    std::string pts;
    for (auto [x, y] : s.points)
      if (x > 0 && y > 0 && std::isfinite(y)) pts += fmt("%.1f,", px(x)) + fmt("%.1f ", py(y));
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\"" << dash << " points=\"" << pts
      << "\"/>\n";
    for (auto [x, y] : s.points)
      if (x > 0 && y > 0 && std::isfinite(y))
        o << "<circle cx=\"" << fmt("%.1f", px(x)) << "\" cy=\"" << fmt("%.1f", py(y)) << "\" r=\"2.5\" fill=\""
          << color << "\"/>\n";
    legend(color, s.label, dash, false);
  }
  for (const Mark& m : marks) {
    o << "<circle cx=\"" << fmt("%.1f", px(m.x)) << "\" cy=\"" << fmt("%.1f", py(m.y))
      << "\" r=\"5\" fill=\"black\"/>\n<text x=\"" << fmt("%.1f", px(m.x) - 8) << "\" y=\""
      << fmt("%.1f", py(m.y) - 8) << "\" text-anchor=\"end\">" << xml_escape(m.label) << "</text>\n";
    legend("black", m.label, "", true);
  }
  o << "</svg>\n";
  std::ofstream f(path);
  FC_CHECK(f, path, ": cannot write file");
  f << o.str();
  FC_CHECK(f.good(), path, ": write failed");
}

// ---- the simulation ------------------------------------------------------------------------------

struct Options {
  std::vector<int64_t> workers{1, 2, 4, 8, 16, 32, 64, 128};
  std::vector<int64_t> batches;
  int64_t baseline_batch = 0;  // 0: each global batch
  int64_t epoch_samples = 1281167;
  int ranks_per_host = 0;  // 0: all on one host for shared_memory, else 1
  std::string interconnect;
};

distrib::Interconnect base_interconnect(const runtime::Recipe& r, const std::string& name) {
  if (!name.empty()) {
    try {
      return distrib::interconnect_preset(name);
    } catch (const Error& e) {
      fail("fcc simulate: --interconnect: ", e.what());
    }
  }
  return recipe_link(r);
}

struct Row {
  passes::ScalingPoint point;
  int ranks_per_host = 1, hosts = 1;
  std::string skipped;  // why no prediction (then point holds only workers and batch)
};

struct BatchResult {
  int64_t global_batch = 0, baseline_batch = 0;
  double baseline_epoch_s = 0;
  std::vector<Row> rows;
};

}  // namespace

const char* simulate_help() {
  return "  fcc simulate MODEL.onnx --recipe R.toml [--workers 1,2,4,..,128] [--batch B1,B2,..]\n"
         "             [--interconnect NAME] [--ranks-per-host N] [--device PROFILE] [--device-gflops G]\n"
         "             [--epoch-samples N] [--baseline-batch B] [--json] [--svg F.svg] [--svg-comm F.svg]\n"
         "             [--title T] [--mark WORKERS:SPEEDUP:LABEL ...] [--set section.key=value ...]\n"
         "                                     predicted data-parallel scaling: compute per iteration on a\n"
         "                                     device profile (cpu, k20x, p100, v100, a100, h100), allreduce\n"
         "                                     time per algorithm (ps, tree, ring, halving_doubling, shm),\n"
         "                                     exposed time with cost-model buckets overlapped with backward,\n"
         "                                     epoch time and speedup over 1 worker, per global batch\n";
}

int cmd_simulate(const std::vector<std::string>& argv) {
  Args args(argv,
            {"--recipe", "--workers", "--batch", "--interconnect", "--ranks-per-host", "--device", "--device-gflops",
             "--epoch-samples", "--baseline-batch", "--svg", "--svg-comm", "--title", "--mark", "--set"},
            {"--json"}, "fcc simulate");
  FC_CHECK(args.positionals().size() <= 1, "fcc simulate: expected one MODEL argument");
  FC_CHECK(args.has("--recipe"), "fcc simulate: --recipe R.toml is required");
  Options opt;
  if (auto w = args.get("--workers")) opt.workers = parse_positive_list(*w, "--workers");
  if (auto b = args.get("--batch")) opt.batches = parse_positive_list(*b, "--batch");
  if (auto b = args.get("--baseline-batch")) opt.baseline_batch = parse_positive_list(*b, "--baseline-batch").at(0);
  if (auto e = args.get("--epoch-samples")) opt.epoch_samples = parse_positive_list(*e, "--epoch-samples").at(0);
  if (auto r = args.get("--ranks-per-host"))
    opt.ranks_per_host = static_cast<int>(parse_positive_list(*r, "--ranks-per-host").at(0));
  opt.interconnect = args.get("--interconnect").value_or("");
  // Flags that name things are checked before the (slower) graph build.
  passes::DeviceProfile device;
  try {
    device = passes::device_profile(args.get("--device").value_or("cpu"));
  } catch (const Error& e) {
    fail("fcc simulate: --device: ", e.what());
  }
  if (auto g = args.get("--device-gflops"))
    device = passes::with_conv_gflops(device, parse_positive(*g, "fcc simulate: --device-gflops"));
  std::vector<Mark> marks;
  for (const std::string& m : args.all("--mark")) {
    const std::vector<std::string> parts = split(m, ':');
    FC_CHECK(parts.size() >= 2, "fcc simulate: --mark: expected WORKERS:SPEEDUP[:LABEL], got '", m, "'");
    marks.push_back({parse_positive(parts[0], "fcc simulate: --mark"), parse_positive(parts[1], "fcc simulate: --mark"),
                     parts.size() > 2 ? m.substr(parts[0].size() + parts[1].size() + 2) : ""});
  }

  std::vector<std::string> overrides = args.all("--set");
  std::string model_name;
  if (!args.positionals().empty()) {
    const std::string abs = std::filesystem::absolute(args.positionals()[0]).string();
    overrides.insert(overrides.begin(), "model.path=\"" + abs + "\"");
    model_name = args.positionals()[0];
  }
  TrainingJob job = job_from_recipe(*args.get("--recipe"), overrides);
  if (model_name.empty()) model_name = job.recipe.model_path;
  if (opt.batches.empty()) opt.batches = {job.recipe.batch_size};
  const distrib::Interconnect link = base_interconnect(job.recipe, opt.interconnect);
  const bool shared = link.name == "shared_memory";
  const int recipe_per_host = static_cast<int>(job.recipe.ranks_per_host);
  const ir::Value* loss = job.train.find_value(job.io.loss_output);

  std::map<int64_t, passes::StepCosts> costs;  // by per-worker batch
  auto costs_at = [&](int64_t b) -> const passes::StepCosts& {
    auto it = costs.find(b);
    if (it == costs.end()) it = costs.emplace(b, passes::step_costs(job.train, loss, b)).first;
    return it->second;
  };

  std::vector<BatchResult> results;
  for (int64_t B : opt.batches) {
    BatchResult br;
    br.global_batch = B;
    br.baseline_batch = opt.baseline_batch ? opt.baseline_batch : B;
    br.baseline_epoch_s = passes::single_worker_epoch_s(costs_at(br.baseline_batch), device, opt.epoch_samples);
    for (int64_t W64 : opt.workers) {
      const int W = static_cast<int>(W64);
      Row row;
      row.point.workers = W;
      row.point.global_batch = B;
      if (B % W != 0) {
        row.skipped = "global batch " + std::to_string(B) + " is not a multiple of " + std::to_string(W) + " workers";
        br.rows.push_back(std::move(row));
        continue;
      }
      const int per_host = opt.ranks_per_host ? opt.ranks_per_host : recipe_per_host;  // 0: the link's default
      const bool host_groups = shared || per_host > 1;  // the shm column exists at every worker count
      const distrib::Interconnect ic = placed_on_hosts(link, W, per_host);
      row.ranks_per_host = ic.ranks_per_host;
      row.hosts = ic.hosts;
      passes::ScalingQuery q;
      q.workers = W;
      q.global_batch = B;
      q.epoch_samples = opt.epoch_samples;
      q.baseline_epoch_s = br.baseline_epoch_s;
      q.algorithms = {"ps", "tree", "ring", "halving_doubling"};  // the table's columns
      if (host_groups) q.algorithms.push_back("shm");
      q.comm = comm_model(ic);
      row.point = passes::predict_scaling_point(costs_at(B / W), device, q);
      br.rows.push_back(std::move(row));
    }
    results.push_back(std::move(br));
  }
  bool any = false;
  for (const BatchResult& br : results)
    for (const Row& r : br.rows) any |= r.skipped.empty();
  FC_CHECK(any, "fcc simulate: --workers/--batch: no worker count divides the global batch (",
           results.front().rows.front().skipped, ")");

  const passes::StepCosts& ref = costs_at(opt.batches.front());
  const double grad_bytes = ref.gradient_bytes();
  double fwd_flops = 0, step_flops = 0;
  for (const passes::NodeStepCost& n : ref.nodes) {
    step_flops += n.flops;
    if (n.phase == passes::StepPhase::Forward) fwd_flops += n.flops;
  }
  const double per_sample = step_flops / static_cast<double>(ref.batch);
  char link_text[160];
  std::snprintf(link_text, sizeof link_text, "%s (alpha %.3g us, %.4g Gb/s per link)", link.name.c_str(),
                link.alpha_s * 1e6, link.beta_bytes_per_s * 8 / 1e9);

  if (args.has("--json")) {
    std::ostringstream o;
    o << "{\n  \"model\": " << json_string(model_name) << ",\n  \"gradient_bytes\": " << json_number(grad_bytes)
      << ",\n  \"gradient_tensors\": " << ref.gradients.size()
      << ",\n  \"forward_flops_per_sample\": " << json_number(fwd_flops / static_cast<double>(ref.batch))
      << ",\n  \"step_flops_per_sample\": " << json_number(per_sample) << ",\n  \"device\": {\"name\": "
      << json_string(device.name) << ", \"conv_flops\": " << json_number(device.conv_flops)
      << ", \"gemm_flops\": " << json_number(device.gemm_flops) << ", \"other_flops\": "
      << json_number(device.other_flops) << ", \"bytes_per_s\": " << json_number(device.bytes_per_s)
      << ", \"source\": " << json_string(device.source) << "},\n  \"interconnect\": {\"name\": "
      << json_string(link.name) << ", \"alpha_s\": " << json_number(link.alpha_s)
      << ", \"bytes_per_s\": " << json_number(link.beta_bytes_per_s) << "},\n  \"epoch_samples\": "
      << opt.epoch_samples << ",\n  \"batches\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const BatchResult& br = results[i];
      o << (i ? "," : "") << "\n    {\"global_batch\": " << br.global_batch << ", \"baseline_batch\": "
        << br.baseline_batch << ", \"baseline_epoch_s\": " << json_number(br.baseline_epoch_s) << ", \"points\": [";
      bool first = true;
      for (const Row& r : br.rows) {
        const passes::ScalingPoint& p = r.point;
        o << (first ? "" : ",") << "\n      {\"workers\": " << p.workers << ", \"global_batch\": " << p.global_batch;
        first = false;
        if (!r.skipped.empty()) {
          o << ", \"skipped\": " << json_string(r.skipped) << "}";
          continue;
        }
        std::map<std::string, int> algs;
        for (const passes::PlannedBucket& k : p.bucketed.buckets) ++algs[k.algorithm];
        std::map<std::string, double> alg_counts;
        for (const auto& [a, n] : algs) alg_counts[a] = n;
        o << ", \"per_worker_batch\": " << p.per_worker_batch << ", \"ranks_per_host\": " << r.ranks_per_host
          << ", \"hosts\": " << r.hosts << ", \"iterations_per_epoch\": " << p.iterations_per_epoch
          << ",\n       \"compute\": {\"forward_s\": " << json_number(p.compute.forward_s)
          << ", \"backward_s\": " << json_number(p.compute.backward_s) << ", \"update_s\": "
          << json_number(p.compute.update_s) << ", \"total_s\": " << json_number(p.compute.total_s()) << "},"
          << "\n       \"comm_s\": " << json_map(p.comm_s) << ","
          << "\n       \"bucketed\": {\"buckets\": " << p.bucketed.buckets.size() << ", \"comm_s\": "
          << json_number(p.bucketed.comm_s) << ", \"exposed_s\": " << json_number(p.bucketed.exposed_s)
          << ", \"algorithms\": " << json_map(alg_counts) << "},"
          << "\n       \"step_s\": " << json_map(p.step_s) << ",\n       \"epoch_s\": " << json_map(p.epoch_s)
          << ",\n       \"speedup\": " << json_map(p.speedup) << "}";
      }
      o << "\n    ]}";
    }
    o << "\n  ]\n}\n";
    std::cout << o.str();
  } else {
    std::printf("model %s: %.4g MB of gradients in %zu tensors; %.4g GFLOP per sample per step (forward %.4g)\n",
                model_name.c_str(), grad_bytes / 1e6, ref.gradients.size(), per_sample / 1e9,
                fwd_flops / static_cast<double>(ref.batch) / 1e9);
    std::printf("device %s: conv %.4g, gemm %.4g, other %.4g GFLOP/s, memory %.4g GB/s\n  (%s)\n", device.name.c_str(),
                device.conv_flops / 1e9, device.gemm_flops / 1e9, device.other_flops / 1e9, device.bytes_per_s / 1e9,
                device.source.c_str());
    std::printf("interconnect %s; epoch = %lld samples\n", link_text, static_cast<long long>(opt.epoch_samples));
    for (const BatchResult& br : results) {
      bool has_shm = false;
      for (const Row& r : br.rows) has_shm |= r.point.comm_s.count("shm") != 0;
      std::printf("\nglobal batch %lld (speedup over 1 worker at batch %lld: epoch %.1f s)\n",
                  static_cast<long long>(br.global_batch), static_cast<long long>(br.baseline_batch),
                  br.baseline_epoch_s);
      std::printf("%7s %7s %9s | %9s %9s %9s %9s%s | %7s %9s | %9s %9s | %7s %7s %7s %7s%s %8s\n", "workers", "batch/w",
                  "compute", "ps", "tree", "ring", "hd", has_shm ? "       shm" : "", "buckets", "exposed", "epoch",
                  "epoch", "ps", "tree", "ring", "hd", has_shm ? "     shm" : "", "bucketed");
      std::printf("%7s %7s %9s | %9s %9s %9s %9s%s | %7s %9s | %9s %9s | %7s %7s %7s %7s%s %8s\n", "", "", "ms",
                  "comm ms", "", "", "", has_shm ? "          " : "", "", "ms", "tree s", "bucket s", "speedup", "", "",
                  "", has_shm ? "        " : "", "");
      for (const Row& r : br.rows) {
        const passes::ScalingPoint& p = r.point;
        if (!r.skipped.empty()) {
          std::printf("%7d   skipped: %s\n", p.workers, r.skipped.c_str());
          continue;
        }
        auto at = [](const std::map<std::string, double>& m, const char* k) {
          auto it = m.find(k);
          return it == m.end() ? 0.0 : it->second;
        };
        std::string shm_comm = has_shm ? fmt(" %9.3f", at(p.comm_s, "shm") * 1e3) : "";
        std::string shm_speed = has_shm ? fmt(" %7.2f", at(p.speedup, "shm")) : "";
        std::printf("%7d %7lld %9.3f | %9.3f %9.3f %9.3f %9.3f%s | %7zu %9.3f | %9.1f %9.1f | %7.2f %7.2f %7.2f %7.2f%s %8.2f\n",
                    p.workers, static_cast<long long>(p.per_worker_batch), p.compute.total_s() * 1e3,
                    at(p.comm_s, "ps") * 1e3, at(p.comm_s, "tree") * 1e3, at(p.comm_s, "ring") * 1e3,
                    at(p.comm_s, "halving_doubling") * 1e3, shm_comm.c_str(), p.bucketed.buckets.size(),
                    p.bucketed.exposed_s * 1e3, at(p.epoch_s, "tree"), at(p.epoch_s, "bucketed"),
                    at(p.speedup, "ps"), at(p.speedup, "tree"), at(p.speedup, "ring"),
                    at(p.speedup, "halving_doubling"), shm_speed.c_str(), at(p.speedup, "bucketed"));
      }
    }
    std::printf("\ncomm: one allreduce of all gradients after backward (no overlap); bucketed: cost-model buckets,\n"
                "algorithm per bucket, overlapped with backward (exposed = what does not hide)\n");
  }

  const std::string title = args.get("--title").value_or(model_name + " on " + device.name + ", " + link.name);
  const bool many = results.size() > 1;
  auto batch_tag = [&](const BatchResult& br) { return many ? ", B=" + std::to_string(br.global_batch) : ""; };
  if (auto svg = args.get("--svg")) {
    std::vector<Series> series;
    const std::vector<std::pair<std::string, std::string>> schemes = {
        {"ps", "parameter server"}, {"tree", "reduction tree (FireCaffe)"}, {"bucketed", "buckets + overlap"}};
    for (const BatchResult& br : results)
      for (const auto& [key, label] : schemes) {
        Series s;
        s.label = label + batch_tag(br);
        s.dashed = many && &br != &results.front();
        for (const Row& r : br.rows)
          if (r.skipped.empty()) s.points.emplace_back(r.point.workers, r.point.speedup.at(key));
        series.push_back(std::move(s));
      }
    write_svg(*svg, title, "speedup over 1 worker", series, marks, true);
  }
  if (auto svg = args.get("--svg-comm")) {
    std::vector<Series> series;
    const BatchResult& br = results.front();
    for (const char* a : {"ps", "tree", "ring", "halving_doubling", "shm"}) {
      Series s;
      s.label = std::string(a == std::string("halving_doubling") ? "halving-doubling" : a) + " (after backward)";
      for (const Row& r : br.rows)
        if (r.skipped.empty() && r.point.workers > 1 && r.point.comm_s.count(a))
          s.points.emplace_back(r.point.workers, r.point.comm_s.at(a) * 1e3);
      if (!s.points.empty()) series.push_back(std::move(s));
    }
    for (const BatchResult& b : results) {
      Series s;
      s.label = "exposed, buckets" + batch_tag(b);
      s.dashed = true;
      for (const Row& r : b.rows)
        if (r.skipped.empty() && r.point.workers > 1) s.points.emplace_back(r.point.workers, r.point.bucketed.exposed_s * 1e3);
      series.push_back(std::move(s));
    }
    write_svg(*svg, args.get("--title").value_or(title) + ": communication per iteration", "milliseconds", series, {},
              false);
  }
  return 0;
}

}  // namespace fc::cli
