// Datasets for training and evaluation: MNIST-family IDX files (.gz or not; uint8 images scaled to
// [0,1]) and .npy pairs (x: float32 [N, ...] or int64 ids [N, ...], y: int64 class labels [N] or
// per position [N, T], or float32 regression targets [N, ...]); optional normalisation
// ((x - mean) / std, scalar or per channel) applied after scaling.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/tensor.h"
#include "runtime/recipe.h"

namespace fc::runtime::data {

class TokenFile;

// Samples made on demand rather than held in memory (decoded, augmented images: image_folder.h).
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual std::vector<int64_t> sample_shape() const = 0;
  // Writes samples indices[0 .. n) into out (f32 [n, ...sample_shape]); a random augmentation is a
  // function of (seed, epoch, sample index) only.
  virtual void fill(const int64_t* indices, int64_t n, uint64_t seed, int64_t epoch, float* out) const = 0;
  // Images skipped so far as unreadable (when listing the folder and when decoding).
  virtual int64_t skipped() const = 0;
};

struct Dataset {
  ir::Tensor x;  // f32 [N, ...] (IDX images: [N, 1, H, W]) or i64 ids [N, ...]; undefined when `source` makes samples
  ir::Tensor y;  // i64 [N] class labels or [N, ...] per-position labels, or f32 [N, ...] regression targets
  std::shared_ptr<const SampleSource> source;  // set instead of x for training image folders
  std::vector<std::string> classes;            // class names by label (image folders), else empty
  // Format "tokens" (tokens.h): x and y stay undefined; samples are windows of `block` ids read from
  // the mapped file, sample i the non-overlapping window at offset i * block (evaluation's walk;
  // training draws its own offsets).
  std::shared_ptr<const TokenFile> tokens;
  int64_t block = 0;

  int64_t size() const;                       // samples (token data: whole non-overlapping windows)
  std::vector<int64_t> sample_shape() const;  // x's dims without N ([block] for tokens)
  ir::DType x_dtype() const;                  // i64 for tokens
  ir::DType y_dtype() const;                  // i64 for tokens
  bool is_tokens() const { return tokens != nullptr; }
  // Samples [first, first + n) in order: x [n, ...], y [n, ...]. A `source` makes them now, as
  // epoch 0 of seed 0 (evaluation's sources do not augment).
  void slice(int64_t first, int64_t n, ir::Tensor& x_out, ir::Tensor& y_out) const;
};

// A token corpus as a dataset of windows of `block` ids (tokens.h); throws fc::Error naming the file.
Dataset load_token_dataset(const std::string& path, const std::string& dtype, int64_t block);

// Throws fc::Error naming the file on a missing/corrupt/truncated file, label/image count mismatch,
// or labels neither int64 (int32 .npy labels are widened) nor float32, and naming the key when `normalize` has
// neither one value nor one per channel (dim 1 of x).
Dataset load_dataset(const std::string& format, const std::string& x_path, const std::string& y_path,
                     const Normalize& normalize);

// Throws fc::Error starting with `what` (e.g. "r.toml: [data] train_y") when the dataset's labels or
// targets cannot feed a graph input of type `want` (element type, and shape beyond the batch).
void check_labels_fit(const Dataset& ds, const ir::TensorType& want, const std::string& what);

// Throws fc::Error naming the file and offset of the first token id outside [0, vocab) (token data;
// other datasets pass).
void check_vocabulary(const Dataset& ds, int64_t vocab);

// The order in which an epoch visits the samples: identity, or a permutation seeded by (seed, epoch)
// with a generator of our own (std::mt19937_64 + our Fisher-Yates), so it is identical on every
// platform and every rank.
std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch);

// Batches of a dataset, produced ahead of compute on a background thread (bounded queue of
// `prefetch` batches). Batch b of epoch e holds samples order[b*batch .. (b+1)*batch) with
// order = epoch_order(N, shuffle, seed, e) (the last partial batch is dropped for training). Rank r
// of R takes its contiguous share [r*batch/R, (r+1)*batch/R) of every global batch: x [batch/R, ...],
// y [batch/R, ...]. Training step s is batch s % steps_per_epoch of epoch s / steps_per_epoch, so a
// loader made with start_step = s continues a run exactly. Token data: sample k of step s's global
// batch is the window at token_window_offset(seed, s, k) (tokens.h; `shuffle` does not apply), an
// epoch is size() / batch steps. Throws fc::Error when batch % R != 0 or the batch exceeds the dataset.
struct Batch {
  int64_t epoch = 0;
  int64_t index_in_epoch = 0;
  ir::Tensor x, y;
};

class BatchLoader {
 public:
  BatchLoader(const Dataset& ds, int64_t global_batch, bool shuffle, uint64_t seed, int rank = 0, int world = 1,
              int64_t start_step = 0, int prefetch = 4);
  ~BatchLoader();  // stops the producer promptly, however many batches are still queued
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  // Blocks until the next batch is ready; batches continue across epochs forever. An error in the
  // producer thread is re-thrown here.
  Batch next();
  int64_t steps_per_epoch() const;

 private:
  struct Impl;
  Impl* impl_ = nullptr;
};

}  // namespace fc::runtime::data
