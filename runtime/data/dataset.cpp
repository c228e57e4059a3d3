// Dataset loading (IDX or .npy pairs), normalisation, and the per-epoch sample order.
#include "runtime/data/dataset.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "support/error.h"
#include "runtime/data/idx.h"
#include "runtime/data/random.h"
#include "runtime/data/tokens.h"
#include "runtime/npy.h"

namespace fc::runtime::data {

int64_t Dataset::size() const {
  if (tokens) return (tokens->size() - 1) / block;  // each window needs block + 1 ids
  return x.defined() ? x.dim(0) : y.defined() ? y.dim(0) : 0;
}

std::vector<int64_t> Dataset::sample_shape() const {
  if (tokens) return {block};
  if (source) return source->sample_shape();
  if (!x.defined()) return {};
  return std::vector<int64_t>(x.dims().begin() + 1, x.dims().end());
}

ir::DType Dataset::x_dtype() const { return tokens ? ir::DType::I64 : source ? ir::DType::F32 : x.dtype(); }
ir::DType Dataset::y_dtype() const { return tokens ? ir::DType::I64 : y.dtype(); }

void Dataset::slice(int64_t first, int64_t n, ir::Tensor& x_out, ir::Tensor& y_out) const {
  FC_CHECK(first >= 0 && n >= 0 && first + n <= size(), "dataset: samples [", first, ", ", first + n,
           ") outside ", size());
  if (tokens) {
    x_out = ir::Tensor(ir::DType::I64, {n, block});
    y_out = ir::Tensor(ir::DType::I64, {n, block});
    std::vector<int64_t> window(static_cast<size_t>(block + 1));
    for (int64_t i = 0; i < n; ++i) {
      tokens->read((first + i) * block, block + 1, window.data());
      std::copy(window.begin(), window.end() - 1, x_out.data<int64_t>() + i * block);
      std::copy(window.begin() + 1, window.end(), y_out.data<int64_t>() + i * block);
    }
    return;
  }
  auto rows = [&](const ir::Tensor& all) {
    std::vector<int64_t> dims = all.dims();
    dims[0] = n;
    ir::Tensor out(all.dtype(), dims);
    const size_t row_bytes = all.nbytes() / static_cast<size_t>(all.dim(0));
    std::memcpy(out.raw(), static_cast<const std::byte*>(all.raw()) + static_cast<size_t>(first) * row_bytes,
                static_cast<size_t>(n) * row_bytes);
    return out;
  };
  if (source) {
    std::vector<int64_t> dims = source->sample_shape(), indices(static_cast<size_t>(n));
    dims.insert(dims.begin(), n);
    x_out = ir::Tensor(ir::DType::F32, dims);
    for (int64_t i = 0; i < n; ++i) indices[static_cast<size_t>(i)] = first + i;
    source->fill(indices.data(), n, 0, 0, x_out.data<float>());
  } else {
    x_out = rows(x);
  }
  y_out = rows(y);
}

namespace {

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

ir::Tensor widen_i32(const ir::Tensor& t) {
  if (t.dtype() != ir::DType::I32) return t;
  ir::Tensor wide(ir::DType::I64, t.dims());
  const int32_t* in = t.data<int32_t>();
  int64_t* out = wide.data<int64_t>();
  for (size_t i = 0; i < t.numel(); ++i) out[i] = in[i];
  return wide;
}

Dataset load_npy_pair(const std::string& x_path, const std::string& y_path) {
  Dataset ds;
  // Float samples, or integer ids (a language model's tokens [N, T]; int32 is widened).
  ds.x = widen_i32(load_npy(x_path));
  FC_CHECK(ds.x.dtype() == ir::DType::F32 || ds.x.dtype() == ir::DType::I64, x_path,
           ": expected float32 samples or int64 ids, got ", ir::dtype_name(ds.x.dtype()),
           " (save with x.astype(numpy.float32))");
  FC_CHECK(ds.x.rank() >= 2, x_path, ": expected samples [N, ...] with at least 2 dimensions, got ",
           shape_text(ds.x.dims()));
  ir::Tensor y = widen_i32(load_npy(y_path));
  FC_CHECK(y.rank() >= 1, y_path, ": expected labels [N] or targets [N, ...], got a scalar");
  FC_CHECK(y.dtype() == ir::DType::I64 || y.dtype() == ir::DType::F32, y_path,
           ": expected int64 (or int32) labels [N] or [N, T] or float32 regression targets [N, ...], got ",
           ir::dtype_name(y.dtype()), " ", shape_text(y.dims()));
  ds.y = y;
  return ds;
}

// (x - mean) / std in float, per channel (dim 1) or with one value for all, as torchvision's
// Normalize computes it. `values` of length 1 apply to every channel.
const float* channel_values(const std::vector<float>& values, int64_t channels, const char* key,
                            const std::vector<int64_t>& dims) {
  FC_CHECK(values.size() == 1 || static_cast<int64_t>(values.size()) == channels, "[data] normalize.", key, ": ",
           values.size(), " values for data ", shape_text(dims), " with ", channels,
           " channels (dim 1); give one value or one per channel");
  return values.data();
}

void normalize_in_place(ir::Tensor& x, const Normalize& norm) {
  if (norm.mean.empty() && norm.std.empty()) return;
  FC_CHECK(x.dtype() == ir::DType::F32, "[data] normalize: the samples are integer ids, which are not normalised");
  const std::vector<float> mean = norm.mean.empty() ? std::vector<float>{0.0f} : norm.mean;
  const std::vector<float> stdev = norm.std.empty() ? std::vector<float>{1.0f} : norm.std;
  // x: [N, C, ...inner]
  const int64_t n = x.dim(0), c = x.dim(1);
  const int64_t inner = n * c == 0 ? 0 : static_cast<int64_t>(x.numel()) / (n * c);
  const float* m = channel_values(mean, c, "mean", x.dims());
  const float* s = channel_values(stdev, c, "std", x.dims());
  const bool per_m = mean.size() > 1, per_s = stdev.size() > 1;
  float* p = x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float mv = m[per_m ? ch : 0], sv = s[per_s ? ch : 0];
      for (int64_t k = 0; k < inner; ++k, ++p) *p = (*p - mv) / sv;
    }
}

}  // namespace

Dataset load_dataset(const std::string& format, const std::string& x_path, const std::string& y_path,
                     const Normalize& normalize) {
  Dataset ds;
  if (format == "idx") {
    ds.x = read_idx_images(x_path);
    ds.y = read_idx_labels(y_path);
  } else if (format == "npy") {
    ds = load_npy_pair(x_path, y_path);
  } else {
    fail("[data] format: unknown format '", format, "' (expected \"idx\" or \"npy\")");
  }
  FC_CHECK(ds.x.dim(0) == ds.y.dim(0), x_path, " has ", ds.x.dim(0), " samples but ", y_path, " has ", ds.y.dim(0),
           " labels");
  FC_CHECK(ds.x.dim(0) > 0, x_path, ": the dataset is empty");
  normalize_in_place(ds.x, normalize);
  return ds;
}

Dataset load_token_dataset(const std::string& path, const std::string& dtype, int64_t block) {
  FC_CHECK(block > 0, "[data] block_size: must be > 0, got ", block);
  Dataset ds;
  ds.tokens = std::make_shared<TokenFile>(path, dtype);
  ds.block = block;
  FC_CHECK(ds.tokens->size() > block, path, ": ", ds.tokens->size(), " token ids hold no window of block_size ", block,
           " + 1");
  return ds;
}

void check_vocabulary(const Dataset& ds, int64_t vocab) {
  if (ds.tokens) ds.tokens->check_vocabulary(vocab);
}

void check_labels_fit(const Dataset& ds, const ir::TensorType& want, const std::string& what) {
  const std::vector<int64_t> y_dims = ds.tokens ? std::vector<int64_t>{ds.size(), ds.block} : ds.y.dims();
  bool fits = ds.y_dtype() == want.dtype && y_dims.size() == want.rank();
  for (size_t d = 1; fits && d < want.rank(); ++d)
    fits = !want.dims[d].is_known() || want.dims[d].size == y_dims[d];
  const char* hint = want.dtype == ir::DType::I64 ? " (the loss needs int64 class labels, one per row of the logits)"
                                                  : " (the loss needs float32 targets shaped like the model output)";
  FC_CHECK(fits, what, ": ", ir::dtype_name(ds.y_dtype()), " ", shape_text(y_dims),
           " does not fit the loss's labels input ", ir::to_string(want), hint);
}

std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch) {
  FC_CHECK(n >= 0, "epoch_order: negative sample count ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (!shuffle) return order;
  // Seeds of neighbouring (seed, epoch) pairs are decorrelated by two splitmix64 steps.
  std::mt19937_64 gen(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch)));
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates, from the back
    int64_t j = static_cast<int64_t>(uniform_below(gen, static_cast<uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace fc::runtime::data
