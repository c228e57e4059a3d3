// Crop geometry (torchvision 0.14) and PIL's antialiased bilinear resampling (Resample.c,
// precompute_coeffs), computed in float without PIL's rounding to 8 bits between the two passes.
#include "runtime/data/image_transform.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "support/error.h"
#include "runtime/data/random.h"

namespace fc::runtime::data {

namespace {

// Python's round(): halves to even (the default rounding mode does this for nearbyint).
int64_t round_half_even(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

// The taps of every output pixel of one axis: output o reads source pixels [first[o], first[o] +
// count[o]) with weights[o * width ...] (normalised), flat so that the passes below stream them.
// Each decoding thread keeps two (resize_held's tx, ty) and refills them per sample.
struct Taps {
  std::vector<int> first, count;
  std::vector<float> weights;
  size_t width = 0;  // the most taps any output has
  int lo = 0, hi = 0;  // the footprint: the union of [first, first + count)
};

// PIL's precompute_coeffs for the bilinear (triangle, support 1) filter over source [in0, in1) of
// an axis of in_size pixels, resized to out_size. The support clamps to the image, not the box.
void taps_for(int in_size, double in0, double in1, int out_size, Taps& t) {
  const double scale = (in1 - in0) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;
  t.width = static_cast<size_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<size_t>(out_size));
  t.count.resize(static_cast<size_t>(out_size));
  t.weights.assign(static_cast<size_t>(out_size) * t.width, 0.0f);
  t.lo = in_size;
  t.hi = 0;
  thread_local std::vector<double> ws;
  ws.resize(t.width);
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
    if (hi > lo) {
      t.lo = std::min(t.lo, lo);
      t.hi = std::max(t.hi, hi);
    }
    for (int k = 0; k < hi - lo; ++k)
      t.weights[oo * t.width + static_cast<size_t>(k)] = static_cast<float>(total != 0 ? ws[k] / total : ws[k]);
  }
  if (t.hi < t.lo) t.lo = t.hi = 0;
}

// GCC/Clang vector extensions (SSE/AVX on x86, NEON on Arm), loaded and stored unaligned (memcpy,
// which the compiler turns into one unaligned move; it may alias anything, so the loops below keep
// sizes and pointers in locals).
typedef float f4 __attribute__((vector_size(16)));
typedef float f8 __attribute__((vector_size(32)));
template <typename V>
V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V>
void store(float* p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

// One source row (its footprint's columns [lo, hi), c channels) to float: dst[(x - lo) * c + ch].
void row_to_float(const uint8_t* src, size_t n, float* dst) {
  size_t i = 0;
#if defined(__AVX2__)
  for (; i + 8 <= n; i += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)));
  }
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

// The horizontal pass of one row: dst[o * c + ch] = sum_k w[o][k] * row[(first[o] + k - lo) * c + ch].
// For 3 channels a pixel is one 4-lane vector (its fourth lane, the next pixel's red, is discarded:
// the store's fourth lane is overwritten by the next output, or lands in dst's one float of slack),
// and four outputs go at once over all t.width taps (those past count[o] weigh 0 and read row's
// slack), so that their four sums are independent chains rather than one long one.
void horizontal(const float* row, const Taps& t, int size, size_t c, float* dst) {
  const size_t width = t.width;
  const float* const weights = t.weights.data();
  const int* const first = t.first.data();
  const int lo = t.lo;
  size_t o = 0;
  if (c == 3) {
    for (; o + 4 <= static_cast<size_t>(size); o += 4) {
      const float* w = weights + o * width;
      const float* p0 = row + static_cast<size_t>(first[o] - lo) * 3;
      const float* p1 = row + static_cast<size_t>(first[o + 1] - lo) * 3;
      const float* p2 = row + static_cast<size_t>(first[o + 2] - lo) * 3;
      const float* p3 = row + static_cast<size_t>(first[o + 3] - lo) * 3;
      f4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
      for (size_t k = 0; k < width; ++k) {
        a0 += w[k] * load<f4>(p0 + 3 * k);
        a1 += w[width + k] * load<f4>(p1 + 3 * k);
        a2 += w[2 * width + k] * load<f4>(p2 + 3 * k);
        a3 += w[3 * width + k] * load<f4>(p3 + 3 * k);
      }
      store(dst + o * 3, a0);
      store(dst + o * 3 + 3, a1);
      store(dst + o * 3 + 6, a2);
      store(dst + o * 3 + 9, a3);
    }
  }
  for (; o < static_cast<size_t>(size); ++o) {
    const float* w = t.weights.data() + o * t.width;
    const float* p = row + static_cast<size_t>(t.first[o] - t.lo) * c;
    const int count = t.count[o];
    if (c == 3) {
      f4 acc = {0, 0, 0, 0};
      for (int k = 0; k < count; ++k, p += 3) acc += w[k] * load<f4>(p);
      store(dst + o * 3, acc);
      continue;
    }
    for (size_t ch = 0; ch < c; ++ch) {
      float acc = 0;
      for (int k = 0; k < count; ++k) acc += w[k] * p[static_cast<size_t>(k) * c + ch];
      dst[o * c + ch] = acc;
    }
  }
}

// The whole resample from pixels holding rows/columns `held` of a full_w x full_h image.
void resize_held(const uint8_t* pixels, PixelRect held, int full_w, int full_h, int channels, CropBox box,
                 double scale_x, double scale_y, int size, const float* mean, const float* stdev, float* out) {
  thread_local Taps tx, ty;
  taps_for(full_w, box.x0 * scale_x, box.x1 * scale_x, size, tx);
  taps_for(full_h, box.y0 * scale_y, box.y1 * scale_y, size, ty);
  FC_CHECK(held.x0 <= tx.lo && tx.hi <= held.x1 && held.y0 <= ty.lo && ty.hi <= held.y1,
           "resize: the decoded window misses part of the crop's footprint");
  FC_CHECK(channels >= 1 && channels <= 4, "resize: ", channels, " channels");
  const size_t c = static_cast<size_t>(channels), n = static_cast<size_t>(size), row = n * c;
  const size_t held_row = static_cast<size_t>(held.x1 - held.x0) * c;
  const size_t cols = static_cast<size_t>(tx.hi - tx.lo) * c;
  // Horizontal pass over the footprint's rows -> tmp [rows, size, c] (+ slack for the 4-lane stores).
  thread_local std::vector<float> src_row, tmp, acc;
  src_row.resize(cols + (tx.width + 2) * c);  // slack for the taps past an output's count (weight 0)
  std::fill(src_row.begin() + static_cast<std::ptrdiff_t>(cols), src_row.end(), 0.0f);
  tmp.resize(static_cast<size_t>(ty.hi - ty.lo) * row + 1);
  acc.resize(row);
  // Plain pointers from here: a thread_local in a shared library costs a call per access.
  float* const srow = src_row.data();
  float* const tmpp = tmp.data();
  float* const accp = acc.data();
  for (int y = ty.lo; y < ty.hi; ++y) {
    const uint8_t* src = pixels + static_cast<size_t>(y - held.y0) * held_row + static_cast<size_t>(tx.lo - held.x0) * c;
    row_to_float(src, cols, srow);
    horizontal(srow, tx, size, c, tmpp + static_cast<size_t>(y - ty.lo) * row);
  }
  // Vertical pass a whole row at a time (contiguous, 8 lanes), then flip and normalise into CHW:
  // (v / 255 - mean) / std as v * a + b.
  float a[4], b[4];
  for (size_t ch = 0; ch < c; ++ch) {
    a[ch] = 1.0f / (255.0f * stdev[ch]);
    b[ch] = -mean[ch] / stdev[ch];
  }
  for (size_t oy = 0; oy < n; ++oy) {
    const float* w = ty.weights.data() + oy * ty.width;
    const float* first = tmpp + static_cast<size_t>(ty.first[oy] - ty.lo) * row;
    const int count = ty.count[oy];
    size_t j = 0;
    for (; j + 8 <= row; j += 8) {
      f8 s = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int k = 0; k < count; ++k) s += w[k] * load<f8>(first + static_cast<size_t>(k) * row + j);
      store(accp + j, s);
    }
    for (; j < row; ++j) {
      float s = 0;
      for (int k = 0; k < count; ++k) s += w[k] * first[static_cast<size_t>(k) * row + j];
      accp[j] = s;
    }
    for (size_t ch = 0; ch < c; ++ch) {
      float* dst = out + (ch * n + oy) * n;
      const float* src = accp + ch;
      if (box.flip) {
        for (size_t ox = 0; ox < n; ++ox) dst[ox] = src[(n - 1 - ox) * c] * a[ch] + b[ch];
      } else {
        for (size_t ox = 0; ox < n; ++ox) dst[ox] = src[ox * c] * a[ch] + b[ch];
      }
    }
  }
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

PixelRect resize_footprint(int width, int height, CropBox box, double scale_x, double scale_y, int size) {
  Taps tx, ty;
  taps_for(width, box.x0 * scale_x, box.x1 * scale_x, size, tx);
  taps_for(height, box.y0 * scale_y, box.y1 * scale_y, size, ty);
  return {tx.lo, ty.lo, tx.hi, ty.hi};
}

void resize_box_to_chw(const uint8_t* pixels, int width, int height, int channels, CropBox box, double scale_x,
                       double scale_y, int size, const float* mean, const float* stdev, float* out) {
  resize_held(pixels, {0, 0, width, height}, width, height, channels, box, scale_x, scale_y, size, mean, stdev, out);
}

void resize_box_to_chw(const Image& img, CropBox box, double scale_x, double scale_y, int size, const float* mean,
                       const float* stdev, float* out) {
  resize_held(img.pixels.data(), {img.x0, img.y0, img.x0 + img.width, img.y0 + img.height}, img.full_width,
              img.full_height, img.channels, box, scale_x, scale_y, size, mean, stdev, out);
}

}  // namespace fc::runtime::data
