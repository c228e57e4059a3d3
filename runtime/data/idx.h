// Readers for the IDX format of MNIST-family datasets (http://yann.lecun.com/exdb/mnist/): a
// big-endian header (two zero bytes, an element-type byte, a dimension count, then one uint32 per
// dimension) followed by the elements in C order. Files may be gzip-compressed. Internal to
// runtime/data; the public entry point is load_dataset (dataset.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace fc::runtime::data {

// The whole file, decompressed when it is gzip (zlib reads plain files unchanged). Throws
// fc::Error naming the file when it is missing, unreadable or a corrupt/truncated gzip stream.
std::vector<uint8_t> read_file_maybe_gz(const std::string& path);

// Images (magic 0x00000803, uint8 [N, rows, cols]) as f32 [N, 1, rows, cols] = byte / 255.
ir::Tensor read_idx_images(const std::string& path);
// Labels (magic 0x00000801, uint8 [N]) as i64 [N].
ir::Tensor read_idx_labels(const std::string& path);

}  // namespace fc::runtime::data
