// Image decoding for image-folder datasets: JPEG through libjpeg-turbo (optionally at 1/2, 1/4 or
// 1/8 scale in the DCT domain, which is where most of a large photograph's decode time goes when
// the crop is later shrunk anyway), PNG through libpng. Output is 8-bit, interleaved (HWC), with 3
// channels (RGB: greyscale replicated, CMYK/YCCK converted, alpha dropped) or 1 (luminance: the
// JPEG's Y plane, or ITU-R 601 luma of an RGB PNG as PIL's convert("L") computes it).
// A JPEG can also be decoded in part, a window of rows and columns (libjpeg-turbo's
// jpeg_skip_scanlines and jpeg_crop_scanline): rows below the window are never decoded, rows above
// it are entropy-decoded only, and only the window's columns (widened to whole iMCUs) go through
// the inverse DCT, upsampling and colour conversion. A margin around the window keeps its pixels
// equal to a whole decode's (fancy upsampling reads a neighbouring chroma sample).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fc::runtime::data {

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // [height, width, channels]
  // Where these pixels sit in the whole (possibly reduced) image, full_width x full_height: pixel
  // (0, 0) here is its (x0, y0). A whole decode has x0 = y0 = 0 and full_* = width, height.
  int x0 = 0, y0 = 0, full_width = 0, full_height = 0;
};

// Columns [x0, x1) and rows [y0, y1) of an image.
struct PixelRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// Width and height from the file's header alone. Throws fc::Error naming the file when it is
// unreadable, not a JPEG or PNG, or its header is corrupt.
struct ImageSize {
  int width = 0, height = 0;
};
ImageSize read_image_size(const std::string& path);

// Decodes the whole image with `channels` (1 or 3) channels. For a JPEG, `reduction` (1, 2, 4 or 8)
// asks libjpeg to decode at 1/reduction of the size (each side rounded up); PNGs ignore it. Throws
// fc::Error naming the file on a corrupt or truncated image.
Image decode_image(const std::string& path, int channels, int reduction = 1);
// The same into `into`, whose pixel storage is reused (a loader thread's buffer). With `window`
// (in the coordinates of the reduced image), a JPEG decodes only a part that contains it (clamped
// to the image; `into` says which part); a PNG decodes whole.
void decode_image_into(const std::string& path, int channels, int reduction, Image& into,
                       const PixelRect* window = nullptr);

// The size of a width x height JPEG decoded at 1/reduction (libjpeg rounds each side up).
ImageSize reduced_size(ImageSize size, int reduction);

// The largest reduction in {1, 2, 4, 8} at which a crop of crop_w x crop_h source pixels still has
// at least `out` pixels on each side (so the resampler only ever shrinks it).
int jpeg_reduction_for(double crop_w, double crop_h, int out);

bool is_jpeg_path(const std::string& path);
bool is_png_path(const std::string& path);

}  // namespace fc::runtime::data
