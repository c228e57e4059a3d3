// Dispatch from a recipe's [data] keys to the dataset loaders.
#include "runtime/data/recipe_data.h"

#include "runtime/data/image_folder.h"

namespace fc::runtime::data {

namespace {

ImageFolderOptions folder_options(const Recipe& r, const std::string& dir, const char* key, int channels, bool warn) {
  ImageFolderOptions o;
  o.dir = dir;
  o.what = r.path + ": [data] " + key;
  o.image_size = static_cast<int>(r.image_size);
  o.augment = r.augment == "imagenet";
  o.crop_fraction = r.eval_crop_fraction;
  o.channels = channels;
  o.normalize = r.normalize;
  o.threads = r.loader_threads;
  o.warn = warn;
  return o;
}

}  // namespace

Dataset load_training_set(const Recipe& r, int channels, bool warn) {
  if (r.data_format == "image_folder") return load_image_folder(folder_options(r, r.train_dir, "train_dir", channels, warn));
  if (r.data_format == "tokens") return load_token_dataset(r.train_tokens, r.token_dtype, r.block_size);
  return load_dataset(r.data_format, r.train_x, r.train_y, r.normalize);
}

Dataset load_test_set(const Recipe& r, int channels, bool warn) {
  if (r.data_format == "image_folder") {
    if (r.test_dir.empty()) return {};
    ImageFolderOptions o = folder_options(r, r.test_dir, "test_dir", channels, warn);
    o.augment = false;  // the evaluation transform; Dataset::slice decodes each batch as evaluation reaches it
    return load_image_folder(o);
  }
  if (r.data_format == "tokens")
    return r.test_tokens.empty() ? Dataset{} : load_token_dataset(r.test_tokens, r.token_dtype, r.block_size);
  if (r.test_x.empty()) return {};
  return load_dataset(r.data_format, r.test_x, r.test_y, r.normalize);
}

int input_channels(const ir::TensorType& input) {
  if (input.rank() == 4 && input.dims[1].is_known()) return static_cast<int>(input.dims[1].size);
  return 3;
}

const char* sample_shape_key(const Recipe& r) {
  return r.data_format == "image_folder" ? "[data] image_size" : r.data_format == "tokens" ? "[data] block_size" : "[data] train_x";
}

}  // namespace fc::runtime::data
