// Fuzzes recipe parsing and validation (runtime/recipe.h): TOML syntax (toml++) and every key's
// checks. Validation requires the data files to exist, so the work folder holds the files the seed
// recipes name (train_x.npy, ...; empty: a recipe's data is not read here).
#include "runtime/recipe.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool data_files = [] {
    for (const char* name : {"x.npy", "y.npy", "train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy", "model.onnx", "mlp.onnx"})
      fc::fuzz::write_file(name, "", 0);
    return true;
  }();
  (void)data_files;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fc::fuzz::only_fc_errors([&] { fc::runtime::parse_recipe_text(text, fc::fuzz::work_dir() + "/fuzz.toml"); });
  return 0;
}
