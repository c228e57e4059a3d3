// Recipe loading: TOML text -> toml::table (toml++) -> `--set` overrides applied to the table ->
// one pass over every section and key that converts, range-checks and resolves paths -> cross-key
// checks. Errors name the place the offending value came from: "<recipe>:<line>: [section] key: ..."
// for the file, "--set section.key=value: [section] key: ..." for an override.
//
// toml++ is header-only and heavy to compile: this is the only translation unit that includes it.
#include "runtime/recipe.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "ir/checked_size.h"
#include "ir/error.h"

// toml++ checks some of its parser's preconditions only with assert(): a table header that starts
// with '=', '.', '#', 'e-acute' or a control character ("[.data]") aborted fcrun (found by fuzzing).
// Its checks throw instead (through a function, as some sit in noexcept code: those still end in
// std::terminate, as assert did), and are kept in NDEBUG builds too, where toml++ would otherwise
// turn them into assumptions the compiler may rely on (undefined behaviour on such input).
namespace fc::runtime::toml_guard {
struct CheckFailed : std::logic_error {
  using std::logic_error::logic_error;
};
[[noreturn]] void check_failed(const char* expr);
}  // namespace fc::runtime::toml_guard
#ifdef NDEBUG
#undef NDEBUG
#endif
#define TOML_ASSERT(expr) ((expr) ? void(0) : ::fc::runtime::toml_guard::check_failed(#expr))
#include <toml++/toml.h>

namespace fc::runtime {

void toml_guard::check_failed(const char* expr) { throw CheckFailed(expr); }

namespace {

namespace fs = std::filesystem;

struct Context {
  std::string path;  // the recipe, as named in messages
  fs::path base;     // the folder relative paths in the file resolve against
  // "section" or "section.key" -> the `--set` text that put it there (a later override wins).
  std::map<std::string, std::string, std::less<>> overrides;
  bool check_model_file = true;  // false for a plan's recipe: the plan carries the model
};

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// "<recipe>:<line>" or "--set ..." for a value; `top` is the section or "section.key" it belongs to.
std::string where(const Context& c, const std::string& top, const toml::source_region& src) {
  if (auto it = c.overrides.find(top); it != c.overrides.end()) return "--set " + it->second;
  if (src.begin.line == 0) return c.path;
  return detail::concat(c.path, ":", src.begin.line);
}

// One value under a section key (or under a sub-key of an inline table: key "normalize.mean").
struct Field {
  const Context& ctx;
  std::string section;
  std::string key;  // as shown in messages
  std::string top;  // "section.key" for override lookup
  const toml::node& node;

  [[noreturn]] void fail(const std::string& what) const {
    fc::fail(where(ctx, top, node.source()), ": [", section, "] ", key, ": ", what);
  }
  Field sub(const std::string& name, const toml::node& n) const { return {ctx, section, key + "." + name, top, n}; }

  std::string string() const {
    if (auto s = node.value_exact<std::string>()) return *s;
    fail(detail::concat("expected a string, got ", type_name(node)));
  }
  bool boolean() const {
    if (auto b = node.value_exact<bool>()) return *b;
    fail(detail::concat("expected true or false, got ", type_name(node)));
  }
  // Integers are numbers too: `lr = 1` means 1.0.
  double number() const {
    if (auto i = node.value_exact<int64_t>()) return static_cast<double>(*i);
    if (auto d = node.value_exact<double>()) {
      if (!std::isfinite(*d)) fail("expected a finite number");
      return *d;
    }
    fail(detail::concat("expected a number, got ", type_name(node)));
  }
  // A float with an integral value (steps = 1e4) is accepted.
  int64_t integer() const {
    if (auto i = node.value_exact<int64_t>()) return *i;
    if (auto d = node.value_exact<double>()) {
      if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e18) return static_cast<int64_t>(*d);
      fail(detail::concat("expected an integer, got ", *d));
    }
    fail(detail::concat("expected an integer, got ", type_name(node)));
  }
  int64_t positive_integer() const {
    int64_t v = integer();
    if (v <= 0) fail(detail::concat("must be > 0, got ", v));
    return v;
  }
  int64_t nonnegative_integer() const {
    int64_t v = integer();
    if (v < 0) fail(detail::concat("must be >= 0, got ", v));
    return v;
  }
  int int32(int64_t v) const {
    if (v > std::numeric_limits<int>::max()) fail(detail::concat("too large: ", v));
    return static_cast<int>(v);
  }
  double nonnegative_number() const {
    double v = number();
    if (v < 0) fail(detail::concat("must be >= 0, got ", v));
    return v;
  }
  double positive_number() const {
    double v = number();
    if (v <= 0) fail(detail::concat("must be > 0, got ", v));
    return v;
  }
  std::string one_of(std::initializer_list<std::string_view> allowed) const {
    std::string v = string();
    for (std::string_view a : allowed)
      if (v == a) return v;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
    fail(detail::concat("\"", v, "\" is not one of ", list));
  }
  // A path relative to the recipe's folder (or, for an override, to the working directory).
  std::string path() const {
    std::string s = string();
    if (s.empty()) fail("empty path");
    fs::path p(s);
    if (p.is_relative() && !ctx.overrides.count(top)) p = ctx.base / p;
    return p.lexically_normal().string();
  }
  std::string existing_dir() const {
    std::string p = path();
    std::error_code ec;
    if (!fs::is_directory(p, ec)) fail("folder not found: " + p);
    return p;
  }
  std::string existing_file() const {
    std::string p = path();
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) fail("file not found: " + p);
    return p;
  }
  const toml::table& table() const {
    if (const toml::table* t = node.as_table()) return *t;
    fail(detail::concat("expected a table, got ", type_name(node)));
  }
  const toml::array& array() const {
    if (const toml::array* a = node.as_array()) return *a;
    fail(detail::concat("expected an array, got ", type_name(node)));
  }
  // A number, or a non-empty array of numbers.
  std::vector<double> numbers() const {
    if (!node.is_array()) return {number()};
    std::vector<double> out;
    for (const toml::node& e : array()) out.push_back(Field{ctx, section, key, top, e}.number());
    if (out.empty()) fail("expected a number or a non-empty array of numbers");
    return out;
  }
};

using Handler = void (*)(const Field&, Recipe&);
struct KeySpec {
  std::string_view key;
  Handler handle;
};
struct SectionSpec {
  std::string_view name;
  std::vector<KeySpec> keys;
  std::vector<std::string_view> required;
};

// Shortest text that reads back as the same double ("25", "0.5").
std::string number_text(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void read_normalize(const Field& f, Recipe& r) {
  const toml::table& t = f.table();
  std::vector<double> mean{0.0}, stdev{1.0};
  for (auto&& [k, v] : t) {
    Field sub = f.sub(std::string(k.str()), v);
    if (k == "mean") {
      mean = sub.numbers();
    } else if (k == "std") {
      stdev = sub.numbers();
      for (double s : stdev)
        if (s <= 0) sub.fail(detail::concat("must be > 0, got ", s));
    } else {
      sub.fail("unknown key (expected mean, std)");
    }
  }
  if (mean.size() > 1 && stdev.size() > 1 && mean.size() != stdev.size())
    f.fail(detail::concat("mean has ", mean.size(), " values but std has ", stdev.size()));
  if (t.empty()) return;
  r.normalize.mean.assign(mean.begin(), mean.end());
  r.normalize.std.assign(stdev.begin(), stdev.end());
}

void read_interconnect(const Field& f, Recipe& r) {
  if (f.node.is_string()) {
    r.interconnect = f.string();
    if (r.interconnect.empty()) f.fail("empty preset name");
    return;
  }
  if (!f.node.is_table())
    f.fail(detail::concat("expected a preset name or { alpha_us = .., bandwidth_gbps = .. }, got ", type_name(f.node)));
  bool alpha = false, bandwidth = false;
  for (auto&& [k, v] : f.table()) {
    Field sub = f.sub(std::string(k.str()), v);
    if (k == "alpha_us") {
      r.interconnect_alpha_us = sub.nonnegative_number();
      alpha = true;
    } else if (k == "bandwidth_gbps") {
      r.interconnect_bandwidth_gbps = sub.positive_number();
      bandwidth = true;
    } else {
      sub.fail("unknown key (expected alpha_us, bandwidth_gbps)");
    }
  }
  if (!alpha || !bandwidth) f.fail("an inline interconnect needs both alpha_us and bandwidth_gbps");
  r.interconnect = "custom";
}

const std::vector<SectionSpec>& sections() {
  static const std::vector<SectionSpec> specs = {
      {"model",
       {{"path",
         [](const Field& f, Recipe& r) { r.model_path = f.ctx.check_model_file ? f.existing_file() : f.path(); }},
        {"input", [](const Field& f, Recipe& r) { r.model_input = f.string(); }},
        {"output", [](const Field& f, Recipe& r) { r.model_output = f.string(); }},
        {"loss", [](const Field& f, Recipe& r) { r.loss = f.one_of({"cross_entropy", "mse"}); }},
        {"ignore_index", [](const Field& f, Recipe& r) { r.ignore_index = f.integer(); }},
        {"label_smoothing",
         [](const Field& f, Recipe& r) {
           const double eps = f.number();
           if (eps < 0 || eps > 1) f.fail(detail::concat("must be in [0, 1], got ", eps));
           r.label_smoothing = eps;
         }}},
       {"path"}},
      {"data",
       {{"format", [](const Field& f, Recipe& r) { r.data_format = f.one_of({"idx", "npy", "tokens", "image_folder"}); }},
        {"train_x", [](const Field& f, Recipe& r) { r.train_x = f.existing_file(); }},
        {"train_y", [](const Field& f, Recipe& r) { r.train_y = f.existing_file(); }},
        {"test_x", [](const Field& f, Recipe& r) { r.test_x = f.existing_file(); }},
        {"test_y", [](const Field& f, Recipe& r) { r.test_y = f.existing_file(); }},
        {"shuffle", [](const Field& f, Recipe& r) { r.shuffle = f.boolean(); }},
        {"normalize", read_normalize},
        {"train_tokens", [](const Field& f, Recipe& r) { r.train_tokens = f.existing_file(); }},
        {"test_tokens", [](const Field& f, Recipe& r) { r.test_tokens = f.existing_file(); }},
        {"token_dtype", [](const Field& f, Recipe& r) { r.token_dtype = f.one_of({"uint8", "uint16", "int32"}); }},
        {"block_size", [](const Field& f, Recipe& r) { r.block_size = f.positive_integer(); }},
        {"train_dir", [](const Field& f, Recipe& r) { r.train_dir = f.existing_dir(); }},
        {"test_dir", [](const Field& f, Recipe& r) { r.test_dir = f.existing_dir(); }},
        {"image_size", [](const Field& f, Recipe& r) { r.image_size = f.positive_integer(); }},
        {"augment", [](const Field& f, Recipe& r) { r.augment = f.one_of({"imagenet", "none"}); }},
        {"loader_threads", [](const Field& f, Recipe& r) { r.loader_threads = f.int32(f.positive_integer()); }}},
       {}},  // required keys depend on the format (check_across_keys)
      {"train",
       {{"batch_size", [](const Field& f, Recipe& r) { r.batch_size = f.positive_integer(); }},
        {"epochs", [](const Field& f, Recipe& r) { r.epochs = f.positive_integer(); }},
        {"steps", [](const Field& f, Recipe& r) { r.steps = f.positive_integer(); }},
        {"seed", [](const Field& f, Recipe& r) { r.seed = static_cast<uint64_t>(f.nonnegative_integer()); }},
        {"eval_every", [](const Field& f, Recipe& r) { r.eval_every = f.positive_integer(); }},
        {"log_every", [](const Field& f, Recipe& r) { r.log_every = f.positive_integer(); }}},
       {}},
      {"optimizer",
       {{"name", [](const Field& f, Recipe& r) { r.optimizer = f.one_of({"sgd", "adamw", "lars", "lamb"}); }},
        {"lr", [](const Field& f, Recipe& r) { r.lr = f.nonnegative_number(); }},
        {"momentum", [](const Field& f, Recipe& r) { r.momentum = f.nonnegative_number(); }},
        {"nesterov", [](const Field& f, Recipe& r) { r.nesterov = f.boolean(); }},
        {"dampening",
         [](const Field& f, Recipe& r) {
           r.dampening = f.number();
           if (r.dampening < 0 || r.dampening > 1) f.fail(detail::concat("must be in [0, 1], got ", r.dampening));
         }},
        {"weight_decay", [](const Field& f, Recipe& r) { r.weight_decay = f.nonnegative_number(); }},
        {"weight_decay_skip_1d", [](const Field& f, Recipe& r) { r.weight_decay_skip_1d = f.boolean(); }},
        {"clip_grad_norm", [](const Field& f, Recipe& r) { r.clip_grad_norm = f.positive_number(); }},
        {"betas",
         [](const Field& f, Recipe& r) {
           const toml::array& a = f.array();
           if (a.size() != 2) f.fail(detail::concat("expected [beta1, beta2], got ", a.size(), " values"));
           double b[2];
           for (size_t i = 0; i < 2; ++i) {
             b[i] = Field{f.ctx, f.section, f.key, f.top, *a.get(i)}.number();
             if (b[i] < 0 || b[i] >= 1) f.fail(detail::concat("beta", i + 1, " must be in [0, 1), got ", b[i]));
           }
           r.beta1 = b[0];
           r.beta2 = b[1];
         }},
        {"eps", [](const Field& f, Recipe& r) { r.eps = f.nonnegative_number(); }},
        {"trust_coefficient", [](const Field& f, Recipe& r) { r.trust_coefficient = f.positive_number(); }},
        {"scale_lr_with_batch", [](const Field& f, Recipe& r) { r.scale_lr_with_batch = f.positive_integer(); }}},
       {}},
      {"schedule",
       {{"name",
         [](const Field& f, Recipe& r) { r.schedule = f.one_of({"constant", "step", "multistep", "poly", "cosine"}); }},
        {"warmup_steps", [](const Field& f, Recipe& r) { r.warmup_steps = f.nonnegative_integer(); }},
        {"step_size", [](const Field& f, Recipe& r) { r.step_size = f.positive_integer(); }},
        {"milestones",
         [](const Field& f, Recipe& r) {
           r.milestones.clear();
           for (const toml::node& e : f.array()) {
             int64_t m = Field{f.ctx, f.section, f.key, f.top, e}.integer();
             if (m <= 0) f.fail(detail::concat("milestones must be > 0, got ", m));
             if (!r.milestones.empty() && m <= r.milestones.back())
               f.fail("milestones must be strictly increasing");
             r.milestones.push_back(m);
           }
         }},
        {"gamma", [](const Field& f, Recipe& r) { r.gamma = f.positive_number(); }},
        {"power", [](const Field& f, Recipe& r) { r.power = f.positive_number(); }},
        {"min_lr", [](const Field& f, Recipe& r) { r.min_lr = f.nonnegative_number(); }}},
       {}},
      {"runtime", {{"threads", [](const Field& f, Recipe& r) { r.threads = f.int32(f.nonnegative_integer()); }}}, {}},
      {"compile", {{"fusion", [](const Field& f, Recipe& r) { r.fusion = f.boolean(); }}}, {}},
      {"checkpoint",
       {{"dir", [](const Field& f, Recipe& r) { r.checkpoint_dir = f.path(); }},
        {"every_steps", [](const Field& f, Recipe& r) { r.checkpoint_every_steps = f.nonnegative_integer(); }},
        {"keep", [](const Field& f, Recipe& r) { r.keep = f.int32(f.positive_integer()); }}},
       {}},
      {"output",
       {{"model", [](const Field& f, Recipe& r) { r.output_model = f.path(); }},
        {"metrics", [](const Field& f, Recipe& r) { r.output_metrics = f.path(); }}},
       {}},
      {"distributed",
       {{"allreduce",
         [](const Field& f, Recipe& r) {
           r.allreduce = f.one_of({"auto", "tree", "ring", "halving_doubling", "ps", "mpi", "shm"});
         }},
        {"bucket_mb",
         [](const Field& f, Recipe& r) {
           if (f.node.is_string()) {
             if (f.string() != "auto") f.fail("expected \"auto\" or a number of megabytes, got \"" + f.string() + "\"");
             r.bucket_mb = "auto";
           } else if (f.node.is_integer()) {
             r.bucket_mb = std::to_string(f.positive_integer());
           } else {
             r.bucket_mb = number_text(f.positive_number());
           }
         }},
        {"interconnect", read_interconnect},
        {"sync_batchnorm", [](const Field& f, Recipe& r) { r.sync_batchnorm = f.boolean(); }},
        {"ranks", [](const Field& f, Recipe& r) { r.planned_ranks = f.positive_integer(); }},
        {"ranks_per_host", [](const Field& f, Recipe& r) { r.ranks_per_host = f.positive_integer(); }},
        {"device_gflops", [](const Field& f, Recipe& r) { r.device_gflops = f.positive_number(); }},
        {"stall_timeout_s",
         [](const Field& f, Recipe& r) {
           r.stall_timeout_s = f.positive_number();
           if (r.stall_timeout_s < 1) f.fail("expected at least 1 second, got " + number_text(r.stall_timeout_s));
         }}},
       {}},
  };
  return specs;
}

std::string section_list() {
  std::string s;
  for (const SectionSpec& spec : sections()) s += (s.empty() ? "[" : ", [") + std::string(spec.name) + "]";
  return s;
}

const toml::node* find(const toml::table* t, std::string_view key) { return t ? t->get(key) : nullptr; }

// Rules that tie keys together (after every key is read on its own).
void check_across_keys(const Context& ctx, const toml::table& root, Recipe& r) {
  auto field = [&](std::string_view section, std::string_view key) -> std::optional<Field> {
    const toml::node* n = find(root.get_as<toml::table>(section), key);
    if (!n) return std::nullopt;
    return Field{ctx, std::string(section), std::string(key), std::string(section) + "." + std::string(key), *n};
  };
  auto missing = [&](std::string_view section, std::string_view key, const std::string& why) {
    const toml::table* t = root.get_as<toml::table>(section);
    fail(where(ctx, std::string(section), t ? t->source() : toml::source_region{}), ": [", section, "] ", key,
         ": required ", why);
  };
  // Which data keys a format needs: files of samples and labels, a token corpus and its windows, or
  // image folders.
  const std::vector<std::string_view> data_keys =
      r.data_format == "tokens"         ? std::vector<std::string_view>{"train_tokens", "block_size"}
      : r.data_format == "image_folder" ? std::vector<std::string_view>{"train_dir", "image_size"}
                                        : std::vector<std::string_view>{"train_x", "train_y"};
  for (std::string_view key : data_keys)
    if (!field("data", key))
      missing("data", key, r.data_format == "image_folder" ? "by format = \"image_folder\"" : "key is missing");
  if (r.optimizer == "sgd" && r.nesterov) {
    auto f = field("optimizer", "nesterov");
    if (r.momentum <= 0 || r.dampening != 0)
      f->fail("nesterov momentum requires momentum > 0 and dampening = 0 (as in PyTorch)");
  }
  if (r.schedule == "step" && r.step_size <= 0) missing("schedule", "step_size", "by name = \"step\"");
  if (r.schedule == "multistep" && r.milestones.empty()) {
    if (auto f = field("schedule", "milestones")) f->fail("must not be empty for name = \"multistep\"");
    missing("schedule", "milestones", "by name = \"multistep\"");
  }
  if (r.schedule == "cosine" && r.min_lr > r.lr)
    if (auto f = field("schedule", "min_lr")) f->fail(detail::concat("must be <= [optimizer] lr (", r.lr, ")"));
}

Recipe read_table(const Context& ctx, const toml::table& root) {
  Recipe r;
  r.path = ctx.path;
  for (auto&& [name, node] : root) {
    std::string section(name.str());
    auto spec =
        std::find_if(sections().begin(), sections().end(), [&](const SectionSpec& s) { return s.name == section; });
    std::string at = where(ctx, section, name.source());
    if (spec == sections().end()) {
      if (node.is_table()) fail(at, ": [", section, "]: unknown section (expected one of ", section_list(), ")");
      fail(at, ": ", section, ": unknown top-level key (keys belong in a section: ", section_list(), ")");
    }
    const toml::table* t = node.as_table();
    if (!t) fail(at, ": [", section, "]: expected a section (table), got ", type_name(node));
    for (auto&& [key, value] : *t) {
      std::string k(key.str());
      Field f{ctx, section, k, section + "." + k, value};
      auto ks = std::find_if(spec->keys.begin(), spec->keys.end(), [&](const KeySpec& s) { return s.key == k; });
      if (ks == spec->keys.end()) {
        std::string known;
        for (const KeySpec& s : spec->keys) known += (known.empty() ? "" : ", ") + std::string(s.key);
        fail(where(ctx, f.top, key.source()), ": [", section, "] ", k, ": unknown key (expected one of ", known, ")");
      }
      ks->handle(f, r);
    }
  }
  for (const SectionSpec& spec : sections()) {
    const toml::table* t = root.get_as<toml::table>(spec.name);
    for (std::string_view key : spec.required)
      if (!find(t, key))
        fail(where(ctx, std::string(spec.name), t ? t->source() : toml::source_region{}), ": [", spec.name, "] ", key,
             ": required key is missing");
  }
  check_across_keys(ctx, root, r);
  return r;
}

// toml++ 3.x (Debian's) reaches __builtin_unreachable, undefined behaviour, for some non-ASCII
// characters where whitespace may stand (U+00A1, for one: a gap in its Unicode table; found by
// fuzzing). TOML allows non-ASCII only inside strings and comments, so any other is refused first.
void check_non_ascii_placement(const std::string& text, const std::string& path) {
  enum { Plain, Comment, Basic, Literal, MultiBasic, MultiLiteral } state = Plain;
  int64_t line = 1;
  for (size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0; i < text.size(); ++i) {  // a BOM is allowed
    const char c = text[i];
    const auto at = [&](const char* s) { return text.compare(i, std::strlen(s), s) == 0; };
    const bool escape = c == '\\' && i + 1 < text.size() && text[i + 1] != '\n';
    if (c == '\n') {
      ++line;
      if (state == Comment || state == Basic || state == Literal) state = Plain;
      continue;
    }
    if (state == Plain) {
      FC_CHECK(static_cast<unsigned char>(c) < 0x80, path, ":", line,
               ": a non-ASCII character outside a string or comment (not valid TOML)");
      if (c == '#') state = Comment;
      else if (at("\"\"\"")) state = MultiBasic, i += 2;
      else if (at("\'\'\'")) state = MultiLiteral, i += 2;
      else if (c == '"') state = Basic;
      else if (c == '\'') state = Literal;
    } else if ((state == Basic || state == MultiBasic) && escape) {
      ++i;
    } else if ((state == Basic && c == '"') || (state == Literal && c == '\'')) {
      state = Plain;
    } else if ((state == MultiBasic && at("\"\"\"")) || (state == MultiLiteral && at("\'\'\'"))) {
      state = Plain, i += 2;
    }
  }
}

// Applies "section.key[.sub]=value" to the table. The value is TOML; text that is not is a string.
void apply_override(Context& ctx, toml::table& root, const std::string& text) {
  size_t eq = text.find('=');
  std::string lhs = eq == std::string::npos ? "" : text.substr(0, eq);
  std::vector<std::string> parts;
  for (size_t start = 0; start <= lhs.size();) {
    size_t dot = std::min(lhs.find('.', start), lhs.size());
    parts.push_back(lhs.substr(start, dot - start));
    start = dot + 1;
  }
  bool ok = parts.size() >= 2;
  for (const std::string& p : parts) ok = ok && !p.empty();
  if (!ok) fail("--set ", text, ": expected section.key=value");

  std::string value_text = text.substr(eq + 1);
  toml::table value_doc;
  try {
    check_non_ascii_placement(value_text, "--set");
    value_doc = toml::parse("v = " + value_text);
  } catch (const toml::parse_error&) {
    value_doc = toml::table{};
  } catch (const toml_guard::CheckFailed&) {
    value_doc = toml::table{};
  } catch (const Error&) {  // from check_non_ascii_placement
    value_doc = toml::table{};
  }
  if (value_doc.size() != 1) {  // not a TOML value (or text with more than one): take it as written
    value_doc = toml::table{};
    value_doc.insert("v", value_text);
  }
  if (!root.contains(parts[0])) ctx.overrides[parts[0]] = text;
  ctx.overrides[parts[0] + "." + parts[1]] = text;
  toml::table* t = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!t->contains(parts[i])) t->insert(parts[i], toml::table{});
    t = t->get_as<toml::table>(parts[i]);
    if (!t) fail("--set ", text, ": '", parts[i], "' is not a table");
  }
  value_doc.get("v")->visit([&](auto&& n) { t->insert_or_assign(parts.back(), n); });
}

Recipe parse(const std::string& text, const std::string& path, const std::vector<std::string>& overrides,
             bool check_model_file) {
  Context ctx;
  ctx.check_model_file = check_model_file;
  ctx.path = path;
  ctx.base = fs::path(path).parent_path();
  toml::table root;
  check_non_ascii_placement(text, path);
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    fail(path, ":", e.source().begin.line, ":", e.source().begin.column, ": ", e.description());
  } catch (const toml_guard::CheckFailed& e) {
    fail(path, ": not valid TOML (a key or [table] name starting with a character no key may start with?"
         " the TOML parser's check '", e.what(), "' failed)");
  }
  for (const std::string& o : overrides) apply_override(ctx, root, o);
  return read_table(ctx, root);
}

}  // namespace

Recipe parse_recipe_text(const std::string& text, const std::string& path, const std::vector<std::string>& overrides) {
  return parse(text, path, overrides, /*check_model_file=*/false);
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  FC_CHECK(in, path, ": cannot open recipe file");
  std::stringstream ss;
  ss << in.rdbuf();
  FC_CHECK(!in.bad(), path, ": cannot read recipe file");
  return parse(ss.str(), path, overrides, /*check_model_file=*/true);
}

int64_t total_steps(const Recipe& r, int64_t steps_per_epoch) {
  return r.steps ? *r.steps : ir::checked_mul(r.epochs, steps_per_epoch, r.path + ": [train] epochs");
}

double learning_rate(const Recipe& r, int64_t step, int64_t total_steps) {
  FC_CHECK(step >= 0, "learning_rate: negative step ", step);
  double base = r.lr;
  if (r.scale_lr_with_batch) base *= static_cast<double>(r.batch_size) / static_cast<double>(*r.scale_lr_with_batch);
  double lr = base;
  if (r.schedule == "constant") {
    lr = base;
  } else if (r.schedule == "step") {
    FC_CHECK(r.step_size > 0, r.path, ": [schedule] step_size: must be > 0 for name = \"step\"");
    lr = base * std::pow(r.gamma, static_cast<double>(step / r.step_size));
  } else if (r.schedule == "multistep") {
    int64_t passed = std::count_if(r.milestones.begin(), r.milestones.end(), [&](int64_t m) { return m <= step; });
    lr = base * std::pow(r.gamma, static_cast<double>(passed));
  } else if (r.schedule == "poly" || r.schedule == "cosine") {
    FC_CHECK(total_steps > 0, "learning_rate: schedule '", r.schedule, "' needs the total number of steps");
    double progress = static_cast<double>(std::min(step, total_steps)) / static_cast<double>(total_steps);
    if (r.schedule == "poly")
      lr = base * std::pow(1.0 - progress, r.power);
    else
      lr = r.min_lr + (base - r.min_lr) * (1.0 + std::cos(M_PI * progress)) / 2.0;
  } else {
    fail(r.path, ": [schedule] name: unknown schedule '", r.schedule, "'");
  }
  if (step < r.warmup_steps) lr *= static_cast<double>(step + 1) / static_cast<double>(r.warmup_steps);
  return lr;
}

}  // namespace fc::runtime
