// The training and test sets a recipe's [data] section names, whatever their format (idx, npy,
// tokens, image_folder), so that the trainer and the CLI's eval / debug-step load them the same way.
#pragma once

#include "ir/tensor.h"
#include "runtime/data/dataset.h"
#include "runtime/recipe.h"

namespace fc::runtime::data {

// `channels` is the model input's channel count (dim 1), which image folders decode to (1 or 3;
// any other value is reported by the loader); `warn`: print warnings (rank 0). load_test_set returns
// an empty dataset when the recipe names no test data.
Dataset load_training_set(const Recipe& r, int channels, bool warn = true);
Dataset load_test_set(const Recipe& r, int channels, bool warn = true);

// The channel count (dim 1) of a model input [N, C, H, W]; 3 when unknown.
int input_channels(const ir::TensorType& input);

// The recipe key that sets the sample shape, for messages: "[data] image_size", "[data] block_size"
// or "[data] train_x".
const char* sample_shape_key(const Recipe& r);

}  // namespace fc::runtime::data
