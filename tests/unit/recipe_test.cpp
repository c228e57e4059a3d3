// Recipes: every section and key read, relative paths, `--set` overrides, one-line errors with the
// file, line and key, and learning-rate schedules against hand-computed values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "support/error.h"
#include "runtime/recipe.h"
#include "error_of.h"

using namespace fc;
using namespace fc::runtime;
namespace fs = std::filesystem;

namespace {

// A folder holding a recipe and the (empty) files it names.
class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fc_recipe_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "data");
    for (const char* f : {"model.onnx", "data/tx.gz", "data/ty.gz", "data/vx.gz", "data/vy.gz"}) touch(dir_ / f);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void touch(const fs::path& p) { std::ofstream(p) << ""; }
  std::string write(const std::string& text) {
    std::string p = (dir_ / "train.toml").string();
    std::ofstream(p) << text;
    return p;
  }
  std::string in_dir(const std::string& rel) const { return (dir_ / rel).lexically_normal().string(); }

  // The message of the fc::Error that loading `text` throws ("" if none).
  std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    std::string p = write(text);
    try {
      load_recipe(p, overrides);
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << "not one line: " << m;
      return m;
    }
    return "";
  }

  fs::path dir_;
};

const char* kMinimal = R"([model]
path = "model.onnx"
[data]
train_x = "data/tx.gz"
train_y = "data/ty.gz"
)";

}  // namespace

TEST_F(RecipeTest, ReadsEverySection) {
  std::string p = write(R"(# full recipe
[model]
path = "model.onnx"
input = "image"
output = "logits"
loss = "mse"

[data]
format = "idx"
train_x = "data/tx.gz"
train_y = "data/ty.gz"
test_x = "data/vx.gz"
test_y = "data/vy.gz"
shuffle = false
normalize = { mean = 0.2860, std = [0.3530] }

[train]
batch_size = 1024
epochs = 3
steps = 500
seed = 42
eval_every = 100
log_every = 10

[optimizer]
name = "sgd"
lr = 1
momentum = 0.9
nesterov = true
dampening = 0
weight_decay = 5e-4
betas = [0.8, 0.99]
eps = 1e-6
scale_lr_with_batch = 256

[schedule]
name = "multistep"
warmup_steps = 50
step_size = 7
milestones = [100, 300]
gamma = 0.5
power = 2
min_lr = 0.001

[runtime]
threads = 4

[checkpoint]
dir = "ckpt"
every_steps = 200
keep = 2

[output]
model = "out/trained.onnx"
metrics = "/tmp/metrics.jsonl"

[distributed]
allreduce = "halving_doubling"
bucket_mb = 0.5
interconnect = { alpha_us = 1.5, bandwidth_gbps = 56 }
sync_batchnorm = false
stall_timeout_s = 2.5
)");
  Recipe r = load_recipe(p);
  EXPECT_EQ(r.path, p);
  EXPECT_EQ(r.model_path, in_dir("model.onnx"));
  EXPECT_EQ(r.model_input, "image");
  EXPECT_EQ(r.model_output, "logits");
  EXPECT_EQ(r.loss, "mse");
  EXPECT_EQ(r.data_format, "idx");
  EXPECT_EQ(r.train_x, in_dir("data/tx.gz"));
  EXPECT_EQ(r.train_y, in_dir("data/ty.gz"));
  EXPECT_EQ(r.test_x, in_dir("data/vx.gz"));
  EXPECT_EQ(r.test_y, in_dir("data/vy.gz"));
  EXPECT_FALSE(r.shuffle);
  EXPECT_EQ(r.normalize.mean, std::vector<float>{0.2860f});
  EXPECT_EQ(r.normalize.std, std::vector<float>{0.3530f});
  EXPECT_EQ(r.batch_size, 1024);
  EXPECT_EQ(r.epochs, 3);
  EXPECT_EQ(r.steps, 500);
  EXPECT_EQ(r.seed, 42u);
  EXPECT_EQ(r.eval_every, 100);
  EXPECT_EQ(r.log_every, 10);
  EXPECT_EQ(r.optimizer, "sgd");
  EXPECT_EQ(r.lr, 1.0);
  EXPECT_EQ(r.momentum, 0.9);
  EXPECT_TRUE(r.nesterov);
  EXPECT_EQ(r.dampening, 0.0);
  EXPECT_EQ(r.weight_decay, 5e-4);
  EXPECT_EQ(r.beta1, 0.8);
  EXPECT_EQ(r.beta2, 0.99);
  EXPECT_EQ(r.eps, 1e-6);
  EXPECT_EQ(r.scale_lr_with_batch, 256);
  EXPECT_EQ(r.schedule, "multistep");
  EXPECT_EQ(r.warmup_steps, 50);
  EXPECT_EQ(r.step_size, 7);
  EXPECT_EQ(r.milestones, (std::vector<int64_t>{100, 300}));
  EXPECT_EQ(r.gamma, 0.5);
  EXPECT_EQ(r.power, 2.0);
  EXPECT_EQ(r.min_lr, 0.001);
  EXPECT_EQ(r.threads, 4);
  EXPECT_EQ(r.checkpoint_dir, in_dir("ckpt"));
  EXPECT_EQ(r.checkpoint_every_steps, 200);
  EXPECT_EQ(r.keep, 2);
  EXPECT_EQ(r.output_model, in_dir("out/trained.onnx"));
  EXPECT_EQ(r.output_metrics, "/tmp/metrics.jsonl");
  EXPECT_EQ(r.allreduce, "halving_doubling");
  EXPECT_EQ(r.bucket_mb, "0.5");
  EXPECT_EQ(r.interconnect, "custom");
  EXPECT_EQ(r.interconnect_alpha_us, 1.5);
  EXPECT_EQ(r.interconnect_bandwidth_gbps, 56.0);
  EXPECT_FALSE(r.sync_batchnorm);
  EXPECT_EQ(r.stall_timeout_s, 2.5);
}

TEST_F(RecipeTest, DefaultsAndSmallForms) {
  Recipe r = load_recipe(write(std::string(kMinimal) + R"(
[data.normalize]
mean = [0.1, 0.2, 0.3]
[distributed]
bucket_mb = 25
interconnect = "infiniband_fdr"
)"));
  Recipe d;
  EXPECT_EQ(r.loss, d.loss);
  EXPECT_EQ(r.batch_size, d.batch_size);
  EXPECT_FALSE(r.steps.has_value());
  EXPECT_FALSE(r.eval_every.has_value());
  EXPECT_FALSE(r.scale_lr_with_batch.has_value());
  EXPECT_EQ(r.lr, d.lr);
  EXPECT_EQ(r.schedule, "constant");
  EXPECT_TRUE(r.test_x.empty());
  EXPECT_TRUE(r.checkpoint_dir.empty());
  EXPECT_EQ(r.normalize.mean, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(r.normalize.std, std::vector<float>{1.0f});  // std left out: 1
  EXPECT_EQ(r.bucket_mb, "25");
  EXPECT_EQ(r.interconnect, "infiniband_fdr");
  EXPECT_EQ(r.stall_timeout_s, 10.0);  // the documented default
  // No normalize section: no normalisation.
  EXPECT_TRUE(load_recipe(write(kMinimal)).normalize.mean.empty());
}

TEST_F(RecipeTest, OverridesApplyBeforeValidation) {
  std::string p = write(std::string(kMinimal) + "[optimizer]\nlr = 0.1\n");
  Recipe r = load_recipe(p, {"optimizer.lr=0.5", "data.shuffle=false", "model.loss=mse", "train.steps=7",
                             "schedule.milestones=[3, 9]", "data.normalize.mean=0.5", "distributed.bucket_mb=auto",
                             "data.test_x=" + in_dir("data/vx.gz")});
  EXPECT_EQ(r.lr, 0.5);
  EXPECT_FALSE(r.shuffle);
  EXPECT_EQ(r.loss, "mse");  // a bare word is a string
  EXPECT_EQ(r.steps, 7);
  EXPECT_EQ(r.milestones, (std::vector<int64_t>{3, 9}));
  EXPECT_EQ(r.normalize.mean, std::vector<float>{0.5f});
  EXPECT_EQ(r.bucket_mb, "auto");
  EXPECT_EQ(r.test_x, in_dir("data/vx.gz"));
  // A later override wins.
  EXPECT_EQ(load_recipe(p, {"optimizer.lr=0.5", "optimizer.lr=2"}).lr, 2.0);
  // An override can make a recipe valid that the file alone is not.
  std::string q = write("[model]\npath = \"model.onnx\"\n[data]\ntrain_x = \"data/tx.gz\"\n");
  EXPECT_EQ(load_recipe(q, {"data.train_y=" + in_dir("data/ty.gz")}).train_y, in_dir("data/ty.gz"));
}

TEST_F(RecipeTest, BadOverridesNameTheOverride) {
  std::string base = std::string(kMinimal) + "[optimizer]\nlr = 0.1\n";
  EXPECT_EQ(error_of(base, {"optimizer.lr=abc"}),
            "--set optimizer.lr=abc: [optimizer] lr: expected a number, got string");
  EXPECT_EQ(error_of(base, {"optimizer.lr"}), "--set optimizer.lr: expected section.key=value");
  EXPECT_EQ(error_of(base, {"lr=1"}), "--set lr=1: expected section.key=value");
  EXPECT_EQ(error_of(base, {"optimizer..lr=1"}), "--set optimizer..lr=1: expected section.key=value");
  EXPECT_NE(error_of(base, {"bogus.x=1"}).find("--set bogus.x=1: [bogus]: unknown section"), std::string::npos);
  EXPECT_NE(error_of(base, {"optimizer.lrr=1"}).find("--set optimizer.lrr=1: [optimizer] lrr: unknown key"),
            std::string::npos);
  EXPECT_EQ(error_of(base, {"optimizer.lr.x=1"}), "--set optimizer.lr.x=1: 'lr' is not a table");
}

TEST_F(RecipeTest, ErrorsNameFileLineAndKey) {
  const std::string p = (dir_ / "train.toml").string();
  struct Case {
    std::string extra;     // appended to kMinimal (which is 5 lines)
    std::string expected;  // the whole message after "<path>:"
  };
  const std::vector<Case> cases = {
      {"[train]\nbatch_size = 0\n", "7: [train] batch_size: must be > 0, got 0"},
      {"[train]\nbatch_size = \"64\"\n", "7: [train] batch_size: expected an integer, got string"},
      {"[train]\nepochs = 1.5\n", "7: [train] epochs: expected an integer, got 1.5"},
      {"[train]\nsteps = 0\n", "7: [train] steps: must be > 0, got 0"},
      {"[train]\nseed = -1\n", "7: [train] seed: must be >= 0, got -1"},
      {"[optimizer]\nlr = -0.1\n", "7: [optimizer] lr: must be >= 0, got -0.1"},
      {"[optimizer]\nlr = true\n", "7: [optimizer] lr: expected a number, got boolean"},
      {"[optimizer]\nname = \"adam\"\n", "7: [optimizer] name: \"adam\" is not one of \"sgd\", \"adamw\", \"lars\", \"lamb\""},
      {"[optimizer]\ntrust_coefficient = 0\n", "7: [optimizer] trust_coefficient: must be > 0, got 0"},
      {"[optimizer]\nmomentum = -0.5\n", "7: [optimizer] momentum: must be >= 0, got -0.5"},
      {"[optimizer]\nbetas = [0.9]\n", "7: [optimizer] betas: expected [beta1, beta2], got 1 values"},
      {"[optimizer]\nbetas = [0.9, 1.0]\n", "7: [optimizer] betas: beta2 must be in [0, 1), got 1"},
      {"[optimizer]\nbetas = 0.9\n", "7: [optimizer] betas: expected an array, got float"},
      {"[optimizer]\nlrr = 0.1\n",
       "7: [optimizer] lrr: unknown key (expected one of name, lr, momentum, nesterov, dampening, weight_decay, "
       "weight_decay_skip_1d, clip_grad_norm, betas, eps, trust_coefficient, scale_lr_with_batch)"},
      {"[optimizer]\nmomentum = 0.9\n\nnesterov = true\ndampening = 0.1\n",
       "9: [optimizer] nesterov: nesterov momentum requires momentum > 0 and dampening = 0 (as in PyTorch)"},
      {"[optimizer]\nnesterov = true\n",
       "7: [optimizer] nesterov: nesterov momentum requires momentum > 0 and dampening = 0 (as in PyTorch)"},
      {"[schedule]\nname = \"step\"\n", "6: [schedule] step_size: required by name = \"step\""},
      {"[schedule]\nname = \"multistep\"\nmilestones = [5, 5]\n",
       "8: [schedule] milestones: milestones must be strictly increasing"},
      {"[schedule]\nname = \"multistep\"\n", "6: [schedule] milestones: required by name = \"multistep\""},
      {"[schedule]\nname = \"cosine\"\nmin_lr = 1\n", "8: [schedule] min_lr: must be <= [optimizer] lr (0.01)"},
      {"[distributed]\nallreduce = \"star\"\n",
       "7: [distributed] allreduce: \"star\" is not one of \"auto\", \"tree\", \"ring\", \"halving_doubling\", "
       "\"ps\", \"mpi\", \"shm\""},
      {"[distributed]\nbucket_mb = \"big\"\n",
       "7: [distributed] bucket_mb: expected \"auto\" or a number of megabytes, got \"big\""},
      {"[distributed]\nbucket_mb = 0\n", "7: [distributed] bucket_mb: must be > 0, got 0"},
      {"[distributed]\nstall_timeout_s = 0.5\n",
       "7: [distributed] stall_timeout_s: expected at least 1 second, got 0.5"},
      {"[distributed]\ninterconnect = { alpha_us = 2 }\n",
       "7: [distributed] interconnect: an inline interconnect needs both alpha_us and bandwidth_gbps"},
      {"[distributed]\ninterconnect = { alpha_us = 2, bandwidth_gbps = -1 }\n",
       "7: [distributed] interconnect.bandwidth_gbps: must be > 0, got -1"},
      {"[distributed]\ninterconnect = 5\n",
       "7: [distributed] interconnect: expected a preset name or { alpha_us = .., bandwidth_gbps = .. }, got integer"},
      {"[data.normalize]\nstd = [0.5, 0]\n", "7: [data] normalize.std: must be > 0, got 0"},
      {"[data.normalize]\nmedian = 1\n", "7: [data] normalize.median: unknown key (expected mean, std)"},
      {"[data.normalize]\nmean = [1, 2]\nstd = [1, 2, 3]\n", "6: [data] normalize: mean has 2 values but std has 3"},
      {"[runtime]\nthreads = -2\n", "7: [runtime] threads: must be >= 0, got -2"},
      {"[checkpoint]\nkeep = 0\n", "7: [checkpoint] keep: must be > 0, got 0"},
      {"[model2]\nx = 1\n", "6: [model2]: unknown section (expected one of [model], [data], [train], [optimizer], "
                            "[schedule], [runtime], [compile], [checkpoint], [output], [distributed])"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(kMinimal + c.extra), p + ":" + c.expected) << c.extra;
}

TEST_F(RecipeTest, MissingKeysFilesAndSyntax) {
  const std::string p = (dir_ / "train.toml").string();
  EXPECT_EQ(error_of("[data]\ntrain_x = \"data/tx.gz\"\ntrain_y = \"data/ty.gz\"\n"),
            p + ": [model] path: required key is missing");
  EXPECT_EQ(error_of("\n[model]\npath = \"model.onnx\"\n[data]\ntrain_x = \"data/tx.gz\"\n"),
            p + ":4: [data] train_y: required key is missing");
  EXPECT_EQ(error_of("[model]\npath = \"model.onnx\"\n[data]\ntrain_x = \"data/nope.gz\"\ntrain_y = \"data/ty.gz\"\n"),
            p + ":4: [data] train_x: file not found: " + in_dir("data/nope.gz"));
  EXPECT_EQ(error_of("[model]\npath = \"gone.onnx\"\n[data]\ntrain_x = \"data/tx.gz\"\ntrain_y = \"data/ty.gz\"\n"),
            p + ":2: [model] path: file not found: " + in_dir("gone.onnx"));
  EXPECT_EQ(error_of(std::string(kMinimal) + "[data]\nshuffle = true\n").rfind(p + ":6:", 0), 0u)
      << "redefined table is a toml++ syntax error with line and column";
  std::string syntax = error_of(std::string(kMinimal) + "[optimizer]\nlr = = 1\n");
  EXPECT_EQ(syntax.rfind(p + ":7:6: ", 0), 0u) << syntax;
  EXPECT_GT(syntax.size(), p.size() + 8);
  EXPECT_EQ(error_of("lr = 0.1\n" + std::string(kMinimal)).rfind(p + ":1: lr: unknown top-level key", 0), 0u);
  try {
    load_recipe((dir_ / "absent.toml").string());
    FAIL() << "no error for a missing recipe";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "absent.toml").string() + ": cannot open recipe file");
  }
}

// toml++ 3.3.0 reached __builtin_unreachable on some non-ASCII characters where whitespace may
// follow a value (found by fuzzing); each is a syntax error with the line, while non-ASCII text in
// comments and strings is valid TOML.
TEST_F(RecipeTest, NonAsciiAfterAValueIsASyntaxError) {
  const std::string p = (dir_ / "train.toml").string();
  // U+00E9, U+0400, U+3001 and U+FEC6 lie in the three ranges; U+2001 is whitespace to toml++.
  for (const char* c : {"\u00e9", "\u0400", "\u3001", "\ufec6"}) {
    std::string text = std::string(kMinimal) + "[optimizer]\nlr = 0.1" + c + "\n";
    std::string e = error_of(text);
    EXPECT_EQ(e.rfind(p + ":7:", 0), 0u) << c << ": " << e;
  }
  EXPECT_EQ(error_of(std::string(kMinimal) + "# caf\u00e9 \u3001\n[optimizer]\nlr = 0.1 # \ufec6\n"), "");
}

TEST_F(RecipeTest, MicroBatchSizeDividesEachRanksShare) {
  const std::string p = (dir_ / "train.toml").string();
  EXPECT_EQ(micro_batches(load_recipe(write(kMinimal)), 4), 1) << "unset: one run per step";
  Recipe r = load_recipe(write(std::string(kMinimal) + "[train]\nbatch_size = 48\nmicro_batch_size = 4\n"));
  ASSERT_TRUE(r.micro_batch_size.has_value());
  EXPECT_EQ(*r.micro_batch_size, 4);
  EXPECT_EQ(micro_batches(r, 1), 12);
  EXPECT_EQ(micro_batches(r, 3), 4);
  EXPECT_EQ(fc::test::error_of([&] { micro_batches(r, 5); }),
            p + ": [train] micro_batch_size 4: batch_size 48 must be a multiple of ranks (5) x micro_batch_size (20)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[train]\nbatch_size = 48\nmicro_batch_size = 5\n"),
            p + ":8: [train] micro_batch_size: batch_size 48 is not a multiple of micro_batch_size 5");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[train]\nmicro_batch_size = 0\n").rfind(p + ":7: [train] micro_batch_size: ", 0), 0u);
}

TEST_F(RecipeTest, TokenDataKeys) {
  const std::string head = "[model]\npath = \"model.onnx\"\nlabel_smoothing = 0.1\nignore_index = -1\n[data]\n";
  Recipe r = load_recipe(write(head + "format = \"tokens\"\ntrain_tokens = \"data/tx.gz\"\n"
                                      "test_tokens = \"data/vx.gz\"\ntoken_dtype = \"int32\"\nblock_size = 64\n"));
  EXPECT_EQ(r.data_format, "tokens");
  EXPECT_EQ(r.train_tokens, in_dir("data/tx.gz"));
  EXPECT_EQ(r.test_tokens, in_dir("data/vx.gz"));
  EXPECT_EQ(r.token_dtype, "int32");
  EXPECT_EQ(r.block_size, 64);
  EXPECT_EQ(r.label_smoothing, 0.1);
  EXPECT_EQ(r.ignore_index, -1);
  EXPECT_EQ(load_recipe(write(kMinimal)).ignore_index, -100);  // PyTorch's default
  const std::string p = in_dir("train.toml");
  // Token data need the corpus and the window, not train_x/train_y.
  EXPECT_EQ(error_of(head + "format = \"tokens\"\nblock_size = 8\n"), p + ":5: [data] train_tokens: required key is missing");
  EXPECT_EQ(error_of(head + "format = \"tokens\"\ntrain_tokens = \"data/tx.gz\"\n"),
            p + ":5: [data] block_size: required key is missing");
  EXPECT_NE(error_of(head + "format = \"tokens\"\ntrain_tokens = \"data/tx.gz\"\nblock_size = 8\ntoken_dtype = \"u16\"\n")
                .find("[data] token_dtype:"),
            std::string::npos);
  EXPECT_NE(error_of(head + "format = \"tokens\"\ntrain_tokens = \"data/tx.gz\"\nblock_size = 0\n").find("[data] block_size:"),
            std::string::npos);
  EXPECT_NE(error_of("[model]\npath = \"model.onnx\"\nlabel_smoothing = 1.5\n[data]\ntrain_x = \"data/tx.gz\"\n"
                     "train_y = \"data/ty.gz\"\n")
                .find("[model] label_smoothing: must be in [0, 1], got 1.5"),
            std::string::npos);
}

TEST_F(RecipeTest, TextFromAPlanNeedsNoModelFile) {
  fs::remove(dir_ / "model.onnx");
  std::string stored = (dir_ / "train.toml").string();
  Recipe r = parse_recipe_text(kMinimal, stored, {"optimizer.lr=0.25"});
  EXPECT_EQ(r.model_path, in_dir("model.onnx"));
  EXPECT_EQ(r.train_x, in_dir("data/tx.gz"));
  EXPECT_EQ(r.lr, 0.25);
  EXPECT_NE(error_of(kMinimal).find("[model] path: file not found"), std::string::npos);
}

// ---- learning-rate schedules (values computed by hand) ----

namespace {
Recipe schedule(const std::string& name, double lr) {
  Recipe r;
  r.schedule = name;
  r.lr = lr;
  return r;
}
}  // namespace

TEST(LearningRate, ConstantAndBatchScaling) {
  Recipe r = schedule("constant", 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(r, 0, 100), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(r, 99, 100), 0.1);
  r.batch_size = 1024;
  r.scale_lr_with_batch = 256;  // lr 0.1 was tuned at batch 256: 4x batch, 4x lr
  EXPECT_DOUBLE_EQ(learning_rate(r, 5, 100), 0.4);
}

TEST(LearningRate, StepAndMultistep) {
  Recipe r = schedule("step", 1.0);
  r.step_size = 3;
  r.gamma = 0.5;
  const double expected[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25};
  for (int s = 0; s < 7; ++s) EXPECT_DOUBLE_EQ(learning_rate(r, s, 100), expected[s]) << s;

  Recipe m = schedule("multistep", 1.0);
  m.milestones = {2, 5};
  m.gamma = 0.1;
  EXPECT_DOUBLE_EQ(learning_rate(m, 0, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(m, 1, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(m, 2, 100), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(m, 4, 100), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(m, 5, 100), 0.01);
  EXPECT_DOUBLE_EQ(learning_rate(m, 99, 100), 0.01);
}

TEST(LearningRate, PolyAndCosine) {
  Recipe p = schedule("poly", 0.5);
  p.power = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate(p, 0, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(p, 75, 100), 0.25);  // 0.5 * sqrt(0.25)
  EXPECT_DOUBLE_EQ(learning_rate(p, 100, 100), 0.0);
  EXPECT_DOUBLE_EQ(learning_rate(p, 150, 100), 0.0);  // clamped past the end
  p.power = 1;
  EXPECT_DOUBLE_EQ(learning_rate(p, 25, 100), 0.375);

  Recipe c = schedule("cosine", 1.0);
  c.min_lr = 0.1;
  EXPECT_DOUBLE_EQ(learning_rate(c, 0, 4), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1, 4), 0.8681980515339464);  // 0.1 + 0.9 * (1 + cos(pi/4)) / 2
  EXPECT_DOUBLE_EQ(learning_rate(c, 2, 4), 0.55);
  EXPECT_DOUBLE_EQ(learning_rate(c, 4, 4), 0.1);
  EXPECT_THROW(learning_rate(c, 1, 0), Error);
}

TEST(LearningRate, WarmupMultipliesTheSchedule) {
  Recipe r = schedule("constant", 0.8);
  r.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(learning_rate(r, 0, 100), 0.2);
  EXPECT_DOUBLE_EQ(learning_rate(r, 1, 100), 0.4);
  EXPECT_DOUBLE_EQ(learning_rate(r, 3, 100), 0.8);
  EXPECT_DOUBLE_EQ(learning_rate(r, 4, 100), 0.8);
  r.schedule = "step";
  r.step_size = 2;
  r.gamma = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate(r, 2, 100), 0.3);  // 0.8 * 0.5 (step) * 3/4 (warm-up)
  EXPECT_DOUBLE_EQ(learning_rate(r, 4, 100), 0.2);  // 0.8 * 0.25, warm-up over
  r.schedule = "poly";
  r.power = 1;
  r.batch_size = 512;
  r.scale_lr_with_batch = 256;
  EXPECT_DOUBLE_EQ(learning_rate(r, 1, 10), 0.72);  // 1.6 * 0.9 * 2/4
}

TEST_F(RecipeTest, ImageFolderKeys) {
  const std::string p = (dir_ / "train.toml").string();
  fs::create_directories(dir_ / "images" / "train");
  const std::string head = "[model]\npath = \"model.onnx\"\n[data]\nformat = \"image_folder\"\n";
  Recipe r = load_recipe(write(head + "train_dir = \"images/train\"\nimage_size = 224\naugment = \"imagenet\"\n"
                                      "loader_threads = 3\n[optimizer]\nname = \"lars\"\ntrust_coefficient = 0.02\n"));
  EXPECT_EQ(r.data_format, "image_folder");
  EXPECT_EQ(r.train_dir, in_dir("images/train"));
  EXPECT_TRUE(r.test_dir.empty());
  EXPECT_EQ(r.image_size, 224);
  EXPECT_EQ(r.augment, "imagenet");
  EXPECT_EQ(r.loader_threads, 3);
  EXPECT_EQ(r.eval_crop_fraction, 0.875);  // the documented default
  EXPECT_EQ(r.optimizer, "lars");
  EXPECT_EQ(r.trust_coefficient, 0.02);
  EXPECT_EQ(error_of(head + "image_size = 224\n"), p + ":3: [data] train_dir: required by format = \"image_folder\"");
  EXPECT_EQ(error_of(head + "train_dir = \"images/train\"\n"),
            p + ":3: [data] image_size: required by format = \"image_folder\"");
  EXPECT_EQ(error_of(head + "train_dir = \"images/val\"\nimage_size = 224\n"),
            p + ":5: [data] train_dir: folder not found: " + in_dir("images/val"));
  EXPECT_EQ(error_of(head + "train_dir = \"images/train\"\nimage_size = 224\naugment = \"autoaugment\"\n"),
            p + ":7: [data] augment: \"autoaugment\" is not one of \"imagenet\", \"none\"");
  EXPECT_EQ(error_of(head + "train_dir = \"images/train\"\nimage_size = 0\n"),
            p + ":6: [data] image_size: must be > 0, got 0");
  const std::string sized = head + "train_dir = \"images/train\"\nimage_size = 28\n";
  EXPECT_EQ(load_recipe(write(sized + "eval_crop_fraction = 1\n")).eval_crop_fraction, 1.0);
  EXPECT_EQ(load_recipe(write(sized + "eval_crop_fraction = 0.95\n")).eval_crop_fraction, 0.95);
  EXPECT_EQ(error_of(sized + "eval_crop_fraction = 0\n"), p + ":7: [data] eval_crop_fraction: must be in (0, 1], got 0");
  EXPECT_EQ(error_of(sized + "eval_crop_fraction = 1.25\n"),
            p + ":7: [data] eval_crop_fraction: must be in (0, 1], got 1.25");
}
