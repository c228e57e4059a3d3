// The geometry of the image-folder transforms, as torchvision computes it, and the resampler that
// applies it:
//   training ("imagenet"): RandomResizedCrop(size, scale 0.08-1, ratio 3/4-4/3) with torchvision's
//     10 tries and its centre-crop fallback, then a horizontal flip with probability 1/2;
//   training ("none") and evaluation: Resize(int(size / fraction)) of the short side, CenterCrop(size),
//     fraction 0.875 unless the recipe sets [data] eval_crop_fraction (timm's crop_pct; 1 keeps the
//     whole short side).
// A crop is a box in source pixels (fractional after a JPEG's DCT-domain reduction), resized to
// size x size by PIL's separable bilinear filter with antialiasing (the triangle widened by the
// shrink factor), so that resizing a box equals resizing the whole image and cropping. The filter
// reads only the box's footprint (the box widened by the filter's support, clamped to the image),
// which is all a JPEG needs to decode (image_decode.h's window).
// Randomness comes from (seed, epoch, sample index) alone: any rank, and a resumed run, draws the
// same crop for the same sample.
#pragma once

#include <cstdint>
#include <random>

#include "runtime/data/image_decode.h"

namespace fc::runtime::data {

struct CropBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // [x0, x1) x [y0, y1) in source pixels
  bool flip = false;                      // mirror left-right after resizing
};

// The generator of one sample's augmentation in one epoch.
std::mt19937_64 augment_rng(uint64_t seed, int64_t epoch, int64_t sample);
// torchvision.transforms.RandomResizedCrop.get_params (integer box), plus the flip draw.
CropBox random_resized_crop(int width, int height, std::mt19937_64& gen, double scale_min = 0.08,
                            double scale_max = 1.0, double ratio_min = 3.0 / 4.0, double ratio_max = 4.0 / 3.0);
// Resize(int(size / fraction)) then CenterCrop(size), as a box in the source image; fraction in (0, 1].
CropBox center_crop(int width, int height, int size, double fraction = 0.875);

// The pixels of a width x height image that resizing `box` (times scale, as below) to size x size reads.
PixelRect resize_footprint(int width, int height, CropBox box, double scale_x, double scale_y, int size);

// Resizes `box` of an 8-bit HWC image (c channels) to size x size and writes it as float CHW,
// each value (v / 255 - mean[ch]) / std[ch] (mean/std: one value per channel). `scale` maps box
// coordinates given for the original image onto this (possibly DCT-reduced) one.
void resize_box_to_chw(const uint8_t* pixels, int width, int height, int channels, CropBox box, double scale_x,
                       double scale_y, int size, const float* mean, const float* stdev, float* out);
// The same from a window decode (image_decode.h), in the coordinates of the whole image
// (img.full_width x img.full_height). Throws fc::Error when the window misses part of the footprint.
void resize_box_to_chw(const Image& img, CropBox box, double scale_x, double scale_y, int size, const float* mean,
                       const float* stdev, float* out);

}  // namespace fc::runtime::data
