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

// One output pixel's source range [first, first + weights.size()) and normalised weights.
struct Taps {
  int first = 0;
  std::vector<float> weights;
};

// PIL's precompute_coeffs for the bilinear (triangle, support 1) filter over source [in0, in1) of
// an axis of in_size pixels, resized to out_size. The support clamps to the image, not the box.
std::vector<Taps> taps_for(int in_size, double in0, double in1, int out_size) {
  const double scale = (in1 - in0) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;
  std::vector<Taps> out(static_cast<size_t>(out_size));
  for (int o = 0; o < out_size; ++o) {
    const double center = in0 + (o + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    Taps& t = out[static_cast<size_t>(o)];
    t.first = lo;
    double total = 0;
    std::vector<double> w;
    for (int x = lo; x < hi; ++x) {
      const double d = std::fabs((x - center + 0.5) / filterscale);
      w.push_back(d < 1 ? 1 - d : 0);
      total += w.back();
    }
    for (double v : w) t.weights.push_back(static_cast<float>(total != 0 ? v / total : v));
  }
  return out;
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

CropBox center_crop(int width, int height, int size) {
  // Resize: the short side becomes int(size / 0.875), the long side int(short' * long / short).
  const int64_t s = static_cast<int64_t>(size / 0.875);
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
  const std::vector<Taps> tx = taps_for(width, box.x0 * scale_x, box.x1 * scale_x, size);
  const std::vector<Taps> ty = taps_for(height, box.y0 * scale_y, box.y1 * scale_y, size);
  // Horizontal pass over the rows the vertical taps reach: rows [row0, row1) -> tmp [rows, size, c].
  int row0 = height, row1 = 0;
  for (const Taps& t : ty) {
    row0 = std::min(row0, t.first);
    row1 = std::max(row1, t.first + static_cast<int>(t.weights.size()));
  }
  const size_t c = static_cast<size_t>(channels), n = static_cast<size_t>(size);
  std::vector<float> tmp(static_cast<size_t>(std::max(row1 - row0, 0)) * n * c);
  for (int y = row0; y < row1; ++y) {
    const uint8_t* src = pixels + static_cast<size_t>(y) * static_cast<size_t>(width) * c;
    float* dst = tmp.data() + static_cast<size_t>(y - row0) * n * c;
    for (size_t o = 0; o < n; ++o) {
      const Taps& t = tx[o];
      for (size_t ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (size_t k = 0; k < t.weights.size(); ++k) acc += t.weights[k] * src[(t.first + k) * c + ch];
        dst[o * c + ch] = acc;
      }
    }
  }
  // Vertical pass, flip, scale to [0, 1] and normalise, into CHW.
  for (size_t oy = 0; oy < n; ++oy) {
    const Taps& t = ty[oy];
    for (size_t ox = 0; ox < n; ++ox) {
      const size_t src_x = box.flip ? n - 1 - ox : ox;
      for (size_t ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (size_t k = 0; k < t.weights.size(); ++k)
          acc += t.weights[k] * tmp[((static_cast<size_t>(t.first - row0) + k) * n + src_x) * c + ch];
        out[(ch * n + oy) * n + ox] = (acc / 255.0f - mean[ch]) / stdev[ch];
      }
    }
  }
}

}  // namespace fc::runtime::data
