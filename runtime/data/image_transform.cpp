// Crop geometry (torchvision 0.14) and PIL's antialiased bilinear resampling (Resample.c,
// precompute_coeffs), computed in float without PIL's rounding to 8 bits between the two passes.
#include "runtime/data/image_transform.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ir/error.h"
#include "runtime/data/random.h"

namespace fc::runtime::data {

namespace {

// Python's round(): halves to even (the default rounding mode does this for nearbyint).
int64_t round_half_even(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

// The taps of every output pixel of one axis: output o reads source pixels [first[o], first[o] +
// count[o]) with weights[o * width ...] (normalised), flat so that the passes below stream them.
struct Taps {
  std::vector<int> first, count;
  std::vector<float> weights;
  size_t width = 0;  // the most taps any output has
};

// PIL's precompute_coeffs for the bilinear (triangle, support 1) filter over source [in0, in1) of
// an axis of in_size pixels, resized to out_size. The support clamps to the image, not the box.
Taps taps_for(int in_size, double in0, double in1, int out_size) {
  const double scale = (in1 - in0) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;
  Taps t;
  t.width = static_cast<size_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<size_t>(out_size));
  t.count.resize(static_cast<size_t>(out_size));
  t.weights.assign(static_cast<size_t>(out_size) * t.width, 0.0f);
  std::vector<double> ws(t.width);
  for (int o = 0; o < out_size; ++o) {
    const double center = in0 + (o + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    double total = 0;
    for (int x = lo; x < hi; ++x) {
      const double d = std::fabs((x - center + 0.5) / filterscale);
      ws[x - lo] = d < 1 ? 1 - d : 0;
      total += ws[x - lo];
    }
    const size_t oo = static_cast<size_t>(o);
    t.first[oo] = lo;
    t.count[oo] = std::max(hi - lo, 0);
    for (int k = 0; k < hi - lo; ++k)
      t.weights[oo * t.width + static_cast<size_t>(k)] = static_cast<float>(total != 0 ? ws[k] / total : ws[k]);
  }
  return t;
}

}  // namespace

std::mt19937_64 augment_rng(uint64_t seed, int64_t epoch, int64_t sample) {
  // A different stream from epoch_order's (the constant), decorrelated per (epoch, sample).
  uint64_t s = splitmix64(seed ^ 0x696D616765ull);
  s = splitmix64(s ^ static_cast<uint64_t>(epoch));
  return std::mt19937_64(splitmix64(s ^ static_cast<uint64_t>(sample)));
}

CropBox random_resized_crop(int width, int height, std::mt19937_64& gen, double scale_min, double scale_max,
                            double ratio_min, double ratio_max) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  CropBox box;
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    const double target_area = area * uniform_real(gen, scale_min, scale_max);
    const double aspect = std::exp(uniform_real(gen, log_lo, log_hi));
    const int64_t w = round_half_even(std::sqrt(target_area * aspect));
    const int64_t h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int64_t i = static_cast<int64_t>(uniform_below(gen, static_cast<uint64_t>(height - h) + 1));
      const int64_t j = static_cast<int64_t>(uniform_below(gen, static_cast<uint64_t>(width - w) + 1));
      box = {double(j), double(i), double(j + w), double(i + h)};
      found = true;
    }
  }
  if (!found) {  // torchvision's fallback: the central crop of the clamped aspect ratio
    const double in_ratio = static_cast<double>(width) / height;
    int64_t w = width, h = height;
    if (in_ratio < ratio_min) h = round_half_even(w / ratio_min);
    else if (in_ratio > ratio_max) w = round_half_even(h * ratio_max);
    const int64_t i = (height - h) / 2, j = (width - w) / 2;
    box = {double(j), double(i), double(j + w), double(i + h)};
  }
  box.flip = uniform_real(gen, 0, 1) < 0.5;
  return box;
}

CropBox center_crop(int width, int height, int size, double fraction) {
  // Resize: the short side becomes int(size / fraction), the long side int(short' * long / short).
  const int64_t s = static_cast<int64_t>(size / fraction);
  int64_t ow = s, oh = s;
  if (width < height) oh = static_cast<int64_t>(static_cast<double>(s) * height / width);
  else if (height < width) ow = static_cast<int64_t>(static_cast<double>(s) * width / height);
  // CenterCrop on the resized image (torchvision: int(round((h - size) / 2.0)); a crop larger
  // than the image cannot happen here since s >= size).
  const int64_t top = round_half_even((oh - size) / 2.0), left = round_half_even((ow - size) / 2.0);
  const double sx = static_cast<double>(width) / ow, sy = static_cast<double>(height) / oh;
  return {left * sx, top * sy, (left + size) * sx, (top + size) * sy, false};
}

void resize_box_to_chw(const uint8_t* pixels, int width, int height, int channels, CropBox box, double scale_x,
                       double scale_y, int size, const float* mean, const float* stdev, float* out) {
  const Taps tx = taps_for(width, box.x0 * scale_x, box.x1 * scale_x, size);
  const Taps ty = taps_for(height, box.y0 * scale_y, box.y1 * scale_y, size);
  // Horizontal pass over the rows the vertical taps reach: rows [row0, row1) -> tmp [rows, size, c].
  int row0 = height, row1 = 0;
  for (int o = 0; o < size; ++o) {
    row0 = std::min(row0, ty.first[static_cast<size_t>(o)]);
    row1 = std::max(row1, ty.first[static_cast<size_t>(o)] + ty.count[static_cast<size_t>(o)]);
  }
  const size_t c = static_cast<size_t>(channels), n = static_cast<size_t>(size), row = n * c;
  thread_local std::vector<float> tmp;  // every element used is written first
  tmp.resize(static_cast<size_t>(std::max(row1 - row0, 0)) * row);
  for (int y = row0; y < row1; ++y) {
    const uint8_t* src = pixels + static_cast<size_t>(y) * static_cast<size_t>(width) * c;
    float* dst = tmp.data() + static_cast<size_t>(y - row0) * row;
    for (size_t o = 0; o < n; ++o) {
      const float* w = tx.weights.data() + o * tx.width;
      const uint8_t* p = src + static_cast<size_t>(tx.first[o]) * c;
      const int count = tx.count[o];
      if (c == 3) {  // the common case, its three channels in one pass over the taps
        float a0 = 0, a1 = 0, a2 = 0;
        for (int k = 0; k < count; ++k, p += 3) {
          a0 += w[k] * p[0];
          a1 += w[k] * p[1];
          a2 += w[k] * p[2];
        }
        dst[o * 3] = a0;
        dst[o * 3 + 1] = a1;
        dst[o * 3 + 2] = a2;
        continue;
      }
      for (size_t ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (int k = 0; k < count; ++k) acc += w[k] * p[static_cast<size_t>(k) * c + ch];
        dst[o * c + ch] = acc;
      }
    }
  }
  // Vertical pass a whole row at a time (contiguous), then flip, scale to [0, 1], normalise, CHW.
  std::vector<float> acc(row);
  for (size_t oy = 0; oy < n; ++oy) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    const float* w = ty.weights.data() + oy * ty.width;
    for (int k = 0; k < ty.count[oy]; ++k) {
      const float* src = tmp.data() + static_cast<size_t>(ty.first[oy] - row0 + k) * row;
      const float wk = w[k];
      for (size_t j = 0; j < row; ++j) acc[j] += wk * src[j];
    }
    for (size_t ch = 0; ch < c; ++ch) {
      float* dst = out + (ch * n + oy) * n;
      for (size_t ox = 0; ox < n; ++ox) {
        const size_t src_x = box.flip ? n - 1 - ox : ox;
        dst[ox] = (acc[src_x * c + ch] / 255.0f - mean[ch]) / stdev[ch];
      }
    }
  }
}

}  // namespace fc::runtime::data
