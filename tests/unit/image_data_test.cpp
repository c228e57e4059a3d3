// Image-folder data: JPEG/PNG decoding (RGB, greyscale, CMYK, alpha, DCT-domain reduction, corrupt
// files), torchvision's crop geometry (RandomResizedCrop statistics and fallback, Resize +
// CenterCrop), the resampler against PIL's numbers, and the folder listing and batch loading
// (class order, skipped images, errors, same samples on any rank count and after a resume).
// Test images are encoded here with libjpeg's compressor and libpng's writer.
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "support/error.h"
#include "runtime/data/dataset.h"
#include "runtime/data/image_decode.h"
#include "runtime/data/image_folder.h"
#include "runtime/data/image_transform.h"
#include "error_of.h"

using namespace fc;
using namespace fc::runtime;
using namespace fc::runtime::data;
namespace fs = std::filesystem;

namespace {

// A smooth test picture (JPEG keeps it within a few levels at quality 100).
std::vector<uint8_t> smooth_rgb(int w, int h) {
  std::vector<uint8_t> p(static_cast<size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* px = &p[static_cast<size_t>((y * w + x) * 3)];
      px[0] = static_cast<uint8_t>(40 + 150 * x / w);
      px[1] = static_cast<uint8_t>(200 - 120 * y / h);
      px[2] = static_cast<uint8_t>(90 + 60 * (x + y) / (w + h));
    }
  return p;
}

// components: 1 (grey), 3 (RGB) or 4 (CMYK as stored, i.e. Adobe-inverted ink). subsampled: libjpeg's
// default 4:2:0 chroma (what cameras and PIL write), else every component at full resolution.
void write_jpeg(const fs::path& path, const std::vector<uint8_t>& pixels, int w, int h, int components,
                bool subsampled = false, int quality = 100) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  jpeg_stdio_dest(&c, f);
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (!subsampled)
    for (int i = 0; i < c.num_components; ++i) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(&pixels[static_cast<size_t>(c.next_scanline) * w * components]);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::fclose(f);
}

void write_png(const fs::path& path, const std::vector<uint8_t>& pixels, int w, int h, uint32_t format) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(w);
  img.height = static_cast<png_uint_32>(h);
  img.format = format;
  ASSERT_TRUE(png_image_write_to_file(&img, path.c_str(), 0, pixels.data(), 0, nullptr)) << img.message;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("fc_image_test_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

int max_abs_diff(const Image& img, const std::vector<uint8_t>& want) {
  int d = 0;
  for (size_t i = 0; i < want.size(); ++i) d = std::max(d, std::abs(int(img.pixels[i]) - int(want[i])));
  return d;
}

using fc::test::error_of;

}  // namespace

TEST(ImageDecode, JpegRgbGreyAndLuma) {
  TempDir t;
  const int w = 40, h = 24;
  const std::vector<uint8_t> rgb = smooth_rgb(w, h);
  write_jpeg(t.path / "c.jpg", rgb, w, h, 3);
  Image img = decode_image((t.path / "c.jpg").string(), 3);
  ASSERT_EQ(img.width, w);
  ASSERT_EQ(img.height, h);
  ASSERT_EQ(img.channels, 3);
  EXPECT_LE(max_abs_diff(img, rgb), 3);
  EXPECT_EQ(read_image_size((t.path / "c.jpg").string()).width, w);

  std::vector<uint8_t> grey(static_cast<size_t>(w * h));
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = rgb[3 * i + 1];
  write_jpeg(t.path / "g.jpeg", grey, w, h, 1);
  Image as_rgb = decode_image((t.path / "g.jpeg").string(), 3);  // greyscale becomes RGB
  ASSERT_EQ(as_rgb.channels, 3);
  for (size_t i = 0; i < grey.size(); ++i) {
    ASSERT_EQ(as_rgb.pixels[3 * i], as_rgb.pixels[3 * i + 1]);
    ASSERT_EQ(as_rgb.pixels[3 * i], as_rgb.pixels[3 * i + 2]);
    ASSERT_LE(std::abs(int(as_rgb.pixels[3 * i]) - int(grey[i])), 2);
  }
  Image luma = decode_image((t.path / "c.jpg").string(), 1);  // a colour JPEG's Y plane
  ASSERT_EQ(luma.channels, 1);
  for (size_t i = 0; i < grey.size(); ++i) {
    const double y = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    ASSERT_LE(std::fabs(luma.pixels[i] - y), 3.0) << i;
  }
}

TEST(ImageDecode, CmykJpegBecomesRgb) {
  TempDir t;
  const int w = 16, h = 16;
  // Stored Adobe-style: 255 - ink. Ink: C in the left half, K 50% in the bottom half.
  std::vector<uint8_t> cmyk(static_cast<size_t>(w * h * 4));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &cmyk[static_cast<size_t>((y * w + x) * 4)];
      p[0] = x < w / 2 ? 0 : 255;
      p[1] = p[2] = 255;
      p[3] = y < h / 2 ? 255 : 127;
    }
  write_jpeg(t.path / "k.jpg", cmyk, w, h, 4);
  Image img = decode_image((t.path / "k.jpg").string(), 3);
  ASSERT_EQ(img.channels, 3);
  auto px = [&](int x, int y) { return &img.pixels[static_cast<size_t>((y * w + x) * 3)]; };
  // Away from the edges (JPEG rings there): full cyan -> (0, 255, 255); white; and both at K 50%.
  const int want[4][5] = {{2, 2, 0, 255, 255}, {12, 2, 255, 255, 255}, {2, 12, 0, 127, 127}, {12, 12, 127, 127, 127}};
  for (const auto& c : want)
    for (int ch = 0; ch < 3; ++ch) EXPECT_NEAR(px(c[0], c[1])[ch], c[2 + ch], 4) << c[0] << "," << c[1] << " ch " << ch;
}

TEST(ImageDecode, PngRgbGreyAlpha) {
  TempDir t;
  const int w = 7, h = 5;
  const std::vector<uint8_t> rgb = smooth_rgb(w, h);
  write_png(t.path / "c.png", rgb, w, h, PNG_FORMAT_RGB);
  Image img = decode_image((t.path / "c.png").string(), 3);
  EXPECT_EQ(max_abs_diff(img, rgb), 0);
  // Grey + alpha: alpha dropped (not composited), grey replicated.
  std::vector<uint8_t> ga;
  for (int i = 0; i < w * h; ++i) ga.insert(ga.end(), {static_cast<uint8_t>(i * 7), static_cast<uint8_t>(i * 3)});
  write_png(t.path / "ga.PNG", ga, w, h, PNG_FORMAT_GA);
  Image g = decode_image((t.path / "ga.PNG").string(), 3);
  for (int i = 0; i < w * h; ++i)
    for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(g.pixels[static_cast<size_t>(3 * i + ch)], i * 7);
  // Luminance of an RGB PNG: PIL's convert("L") rounding.
  Image l = decode_image((t.path / "c.png").string(), 1);
  for (int i = 0; i < w * h; ++i) {
    const uint32_t r = rgb[3 * i], gg = rgb[3 * i + 1], b = rgb[3 * i + 2];
    ASSERT_EQ(l.pixels[static_cast<size_t>(i)], (r * 19595 + gg * 38470 + b * 7471 + 0x8000) >> 16);
  }
}

TEST(ImageDecode, DctReductionHalvesTheSize) {
  TempDir t;
  const int w = 64, h = 40;
  write_jpeg(t.path / "c.jpg", smooth_rgb(w, h), w, h, 3);
  Image half = decode_image((t.path / "c.jpg").string(), 3, 2);
  Image eighth = decode_image((t.path / "c.jpg").string(), 3, 8);
  EXPECT_EQ(half.width, 32);
  EXPECT_EQ(half.height, 20);
  EXPECT_EQ(eighth.width, 8);
  EXPECT_EQ(eighth.height, 5);
  // A smooth picture's reduced decode is close to its 2x2 means.
  const std::vector<uint8_t> full = smooth_rgb(w, h);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 32; ++x) {
      double m = 0;
      for (int k = 0; k < 4; ++k) m += full[static_cast<size_t>(((2 * y + k / 2) * w + 2 * x + k % 2) * 3)];
      ASSERT_NEAR(half.pixels[static_cast<size_t>((y * 32 + x) * 3)], m / 4, 4) << x << "," << y;
    }
  EXPECT_EQ(jpeg_reduction_for(500, 375, 224), 1);
  EXPECT_EQ(jpeg_reduction_for(500, 460, 224), 2);
  EXPECT_EQ(jpeg_reduction_for(2000, 1800, 224), 8);
  EXPECT_EQ(jpeg_reduction_for(900, 1000, 224), 4);
}

// A photograph-like test picture: smooth colour fields plus pseudo-random texture (seeded).
std::vector<uint8_t> textured_rgb(int w, int h, uint32_t seed) {
  std::vector<uint8_t> p = smooth_rgb(w, h);
  std::mt19937 g(seed);
  for (uint8_t& v : p) v = static_cast<uint8_t>(std::clamp(int(v) + int(g() % 41) - 20, 0, 255));
  return p;
}

// Window decodes (jpeg_crop_scanline + jpeg_skip_scanlines) give the same pixels as the same region
// of a whole decode: 4:2:0 chroma (fancy upsampling at the window's edges), 1 and 3 channels, every
// DCT reduction, windows at the image's corners and inside it.
TEST(ImageDecode, WindowEqualsTheSameRegionOfAWholeDecode) {
  TempDir t;
  const int w = 203, h = 157;  // not multiples of the 16-pixel iMCU
  write_jpeg(t.path / "p.jpg", textured_rgb(w, h, 3), w, h, 3, /*subsampled=*/true, 90);
  const std::string path = (t.path / "p.jpg").string();
  std::mt19937 g(11);
  int windows = 0;
  for (int channels : {3, 1})
    for (int r : {1, 2, 4}) {
      const Image whole = decode_image(path, channels, r);
      const ImageSize rs = reduced_size({w, h}, r);
      ASSERT_EQ(whole.width, rs.width);
      ASSERT_EQ(whole.height, rs.height);
      std::vector<PixelRect> cases = {{0, 0, rs.width, rs.height}, {0, 0, 5, 3}, {rs.width - 4, rs.height - 2, rs.width, rs.height}};
      for (int k = 0; k < 12; ++k) {
        const int x0 = int(g() % uint32_t(rs.width - 1)), y0 = int(g() % uint32_t(rs.height - 1));
        cases.push_back({x0, y0, x0 + 1 + int(g() % uint32_t(rs.width - x0)), y0 + 1 + int(g() % uint32_t(rs.height - y0))});
      }
      for (const PixelRect& win : cases) {
        Image part;
        decode_image_into(path, channels, r, part, &win);
        SCOPED_TRACE("channels " + std::to_string(channels) + " reduction " + std::to_string(r) + " window [" +
                     std::to_string(win.x0) + ", " + std::to_string(win.x1) + ") x [" + std::to_string(win.y0) + ", " +
                     std::to_string(win.y1) + ")");
        ASSERT_EQ(part.full_width, rs.width);
        ASSERT_EQ(part.full_height, rs.height);
        ASSERT_TRUE(part.x0 <= win.x0 && part.y0 <= win.y0 && part.x0 + part.width >= win.x1 &&
                    part.y0 + part.height >= win.y1);
        const bool cropped = part.width < rs.width || part.height < rs.height;
        windows += cropped;
        for (int y = win.y0; y < win.y1; ++y)
          for (int x = win.x0; x < win.x1; ++x)
            for (int ch = 0; ch < channels; ++ch) {
              const size_t a = static_cast<size_t>(((y - part.y0) * part.width + x - part.x0) * channels + ch);
              const size_t b = static_cast<size_t>((y * whole.width + x) * channels + ch);
              ASSERT_EQ(part.pixels[a], whole.pixels[b]) << "at " << x << "," << y << " ch " << ch;
            }
      }
    }
  EXPECT_GT(windows, 60);  // most windows decoded less than the whole image
}

// The loader's path (footprint -> window decode -> resize) equals resizing the whole decode, and
// a file cut short below the window is still corrupt.
TEST(ImageDecode, CropFromAWindowEqualsCropFromTheWholeImage) {
  TempDir t;
  const int w = 500, h = 375;
  write_jpeg(t.path / "p.jpg", textured_rgb(w, h, 5), w, h, 3, /*subsampled=*/true, 90);
  const std::string path = (t.path / "p.jpg").string();
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  const int size = 64;
  int smaller = 0;
  for (int i = 0; i < 40; ++i) {
    std::mt19937_64 gen = augment_rng(9, 0, i);
    const CropBox box = random_resized_crop(w, h, gen);
    const int r = jpeg_reduction_for(box.x1 - box.x0, box.y1 - box.y0, size);
    const ImageSize rs = reduced_size({w, h}, r);
    const double sx = double(rs.width) / w, sy = double(rs.height) / h;
    const PixelRect win = resize_footprint(rs.width, rs.height, box, sx, sy, size);
    Image part;
    decode_image_into(path, 3, r, part, &win);
    smaller += part.width * part.height < rs.width * rs.height;
    const Image whole = decode_image(path, 3, r);
    std::vector<float> a(3 * size * size), b(a.size());
    resize_box_to_chw(part, box, sx, sy, size, mean, stdev, a.data());
    resize_box_to_chw(whole.pixels.data(), whole.width, whole.height, 3, box, sx, sy, size, mean, stdev, b.data());
    ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "crop " << i;
  }
  EXPECT_GT(smaller, 30);
  // A window needs more than the window's pixels it cannot have: an error, not a read out of bounds.
  Image part;
  const PixelRect top = {0, 0, 40, 20};
  decode_image_into(path, 3, 1, part, &top);
  std::vector<float> out(3 * 8 * 8);
  EXPECT_NE(error_of([&] { resize_box_to_chw(part, {0, 0, 400, 300}, 1, 1, 8, mean, stdev, out.data()); })
                .find("misses part of the crop's footprint"),
            std::string::npos);
  // Cut in half: a window in the intact top rows decodes nothing past them, yet the file is corrupt.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(t.path / "cut.jpg", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string e = error_of([&] { decode_image_into((t.path / "cut.jpg").string(), 3, 1, part, &top); });
  EXPECT_NE(e.find("cut.jpg: corrupt JPEG (premature end"), std::string::npos) << e;
  // The intact file with the same window decodes (its end marker is found past the window).
  decode_image_into(path, 3, 1, part, &top);
  EXPECT_LT(part.height, h);
}

TEST(ImageDecode, CorruptFilesNameThemselves) {
  TempDir t;
  const int w = 32, h = 32;
  write_jpeg(t.path / "c.jpg", smooth_rgb(w, h), w, h, 3);
  std::ifstream in(t.path / "c.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(t.path / "cut.jpg", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string cut = (t.path / "cut.jpg").string();
  EXPECT_EQ(read_image_size(cut).width, w);  // the header is intact
  const std::string e = error_of([&] { decode_image(cut, 3); });
  EXPECT_NE(e.find(cut + ": corrupt JPEG"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  std::ofstream(t.path / "junk.jpg") << "not an image at all";
  EXPECT_NE(error_of([&] { read_image_size((t.path / "junk.jpg").string()); }).find("junk.jpg: not a JPEG or PNG"),
            std::string::npos);
  std::ofstream(t.path / "head.png", std::ios::binary) << std::string("\x89PNG\r\n\x1a\n\0\0", 10);
  EXPECT_NE(error_of([&] { read_image_size((t.path / "head.png").string()); }).find("head.png: corrupt PNG"),
            std::string::npos);
}

TEST(ImageTransform, RandomResizedCropStatistics) {
  const int w = 500, h = 375;
  int flips = 0, n = 20000;
  double area_sum = 0, min_ratio = 10, max_ratio = 0;
  int at_left = 0, at_right = 0;
  for (int i = 0; i < n; ++i) {
    std::mt19937_64 g = augment_rng(7, 0, i);
    CropBox b = random_resized_crop(w, h, g);
    const double bw = b.x1 - b.x0, bh = b.y1 - b.y0;
    ASSERT_TRUE(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= w && b.y1 <= h && bw >= 1 && bh >= 1);
    ASSERT_EQ(b.x0, std::floor(b.x0));  // integer boxes, as torchvision's
    const double frac = bw * bh / (w * h);
    ASSERT_GT(frac, 0.075);  // scale 0.08 less rounding
    area_sum += frac;
    min_ratio = std::min(min_ratio, bw / bh);
    max_ratio = std::max(max_ratio, bw / bh);
    flips += b.flip;
    at_left += b.x0 == 0;
    at_right += b.x1 == w;
  }
  EXPECT_NEAR(double(flips) / n, 0.5, 0.015);
  // Scale ~ U(0.08, 1) with large areas rejected more often than small ones: mean below 0.54.
  EXPECT_GT(area_sum / n, 0.40);
  EXPECT_LT(area_sum / n, 0.54);
  EXPECT_LT(min_ratio, 0.76);
  EXPECT_GT(max_ratio, 1.31);
  EXPECT_GT(at_left, 0);
  EXPECT_GT(at_right, 0);
  // Deterministic per (seed, epoch, sample); different otherwise.
  std::mt19937_64 a = augment_rng(7, 3, 11), b = augment_rng(7, 3, 11), c = augment_rng(7, 4, 11);
  CropBox ba = random_resized_crop(w, h, a), bb = random_resized_crop(w, h, b), bc = random_resized_crop(w, h, c);
  EXPECT_EQ(ba.x0, bb.x0);
  EXPECT_EQ(ba.y1, bb.y1);
  EXPECT_FALSE(ba.x0 == bc.x0 && ba.x1 == bc.x1 && ba.y0 == bc.y0 && ba.y1 == bc.y1);
}

TEST(ImageTransform, RandomResizedCropFallbackAndCenterCrop) {
  // 1000 x 10: no draw fits, so torchvision's fallback: height 10, width round(10 * 4/3) = 13, centred.
  std::mt19937_64 g = augment_rng(1, 0, 0);
  CropBox b = random_resized_crop(1000, 10, g);
  EXPECT_EQ(b.x0, 493);
  EXPECT_EQ(b.x1, 506);
  EXPECT_EQ(b.y0, 0);
  EXPECT_EQ(b.y1, 10);
  // Resize(256) of 500 x 375 -> 341 x 256; CenterCrop(224): left round(58.5) = 58 (half to even), top 16.
  CropBox c = center_crop(500, 375, 224);
  EXPECT_NEAR(c.x0, 58 * 500.0 / 341, 1e-9);
  EXPECT_NEAR(c.x1, 282 * 500.0 / 341, 1e-9);
  EXPECT_NEAR(c.y0, 16 * 375.0 / 256, 1e-9);
  EXPECT_NEAR(c.y1, 240 * 375.0 / 256, 1e-9);
  // 28 x 28 -> Resize(32) -> crop [2, 30).
  CropBox f = center_crop(28, 28, 28);
  EXPECT_NEAR(f.x0, 2 * 28.0 / 32, 1e-12);
  EXPECT_NEAR(f.y1, 30 * 28.0 / 32, 1e-12);
  // eval_crop_fraction 1: the short side resized to the size itself, so a 28 x 28 image is kept
  // whole; 500 x 375 -> Resize(224) -> 298 x 224, crop left round(37) = 37.
  CropBox whole = center_crop(28, 28, 28, 1.0);
  EXPECT_EQ(whole.x0, 0);
  EXPECT_EQ(whole.y0, 0);
  EXPECT_EQ(whole.x1, 28);
  EXPECT_EQ(whole.y1, 28);
  CropBox wide = center_crop(500, 375, 224, 1.0);
  EXPECT_NEAR(wide.x0, 37 * 500.0 / 298, 1e-9);
  EXPECT_NEAR(wide.x1, 261 * 500.0 / 298, 1e-9);
  EXPECT_EQ(wide.y0, 0);
  EXPECT_NEAR(wide.y1, 375, 1e-9);
  // timm's crop_pct 0.95 at 224: Resize(int(235.79)) = 235.
  CropBox pct = center_crop(300, 300, 224, 0.95);
  EXPECT_NEAR(pct.x0, round(5.5) * 300.0 / 235, 1e-9);
}

TEST(ImageTransform, ResizeMatchesPil) {
  // PIL 9.4: Image.fromarray(a, "L").resize((n, n), Image.BILINEAR, box=...) with
  // a[y][x] = (x*37 + y*91 + (x*y) % 13 * 5) % 256, 9 x 7. PIL rounds to 8 bits between its two
  // passes and at the end; we do not, hence the tolerance of one level.
  const int W = 9, H = 7;
  std::vector<uint8_t> a(W * H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) a[static_cast<size_t>(y * W + x)] = static_cast<uint8_t>((x * 37 + y * 91 + (x * y) % 13 * 5) % 256);
  struct Case {
    CropBox box;
    int n;
    std::vector<int> want;
  };
  const std::vector<Case> cases = {
      {{1.5, 0.75, 8.25, 6.5}, 4, {135, 109, 101, 128, 102, 139, 158, 138, 138, 88, 112, 126, 93, 133, 170, 164}},
      {{0, 0, 9, 7}, 3, {109, 115, 127, 115, 127, 131, 103, 137, 157}},
      {{2, 1, 5, 4}, 5, {147, 171, 196, 98, 40, 125, 131, 157, 91, 56, 62, 39, 67, 95, 123,
                         91, 101, 131, 160, 182, 131, 142, 143, 167, 183}},
  };
  const float mean = 0, stdev = 1;
  for (const Case& c : cases) {
    std::vector<float> out(static_cast<size_t>(c.n * c.n));
    resize_box_to_chw(a.data(), W, H, 1, c.box, 1, 1, c.n, &mean, &stdev, out.data());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i] * 255, c.want[i], 1.0) << "n " << c.n << " at " << i;
    // Flipped: the same rows mirrored.
    CropBox fb = c.box;
    fb.flip = true;
    std::vector<float> flipped(out.size());
    resize_box_to_chw(a.data(), W, H, 1, fb, 1, 1, c.n, &mean, &stdev, flipped.data());
    for (int y = 0; y < c.n; ++y)
      for (int x = 0; x < c.n; ++x) ASSERT_EQ(flipped[static_cast<size_t>(y * c.n + x)], out[static_cast<size_t>(y * c.n + c.n - 1 - x)]);
  }
  // A scale maps the box onto a reduced image; per-channel normalisation into CHW.
  std::vector<uint8_t> rgb = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};  // 2 x 2 RGB
  const float m3[3] = {0.1f, 0.2f, 0.3f}, s3[3] = {0.5f, 0.25f, 2.0f};
  std::vector<float> o(3);
  resize_box_to_chw(rgb.data(), 2, 2, 3, {0, 0, 4, 4}, 0.5, 0.5, 1, m3, s3, o.data());
  for (int ch = 0; ch < 3; ++ch)
    EXPECT_NEAR(o[static_cast<size_t>(ch)], ((55 + 10 * ch) / 255.0 - m3[ch]) / s3[ch], 1e-5);
}

// ---- the folder

namespace {

// classes "b_shirt" (3 JPEGs), "a_coat" (2 PNGs + 1 corrupt JPEG), "c_bag" (2 JPEGs, one in a sub-folder).
void make_folder(const fs::path& root) {
  auto img = [](int seed) {
    std::vector<uint8_t> p = smooth_rgb(40, 30);
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(p[i] + seed * 17);
    return p;
  };
  fs::create_directories(root / "b_shirt");
  fs::create_directories(root / "a_coat");
  fs::create_directories(root / "c_bag" / "more");
  for (int i = 0; i < 3; ++i) write_jpeg(root / "b_shirt" / ("s" + std::to_string(i) + ".jpg"), img(i), 40, 30, 3);
  for (int i = 0; i < 2; ++i) write_png(root / "a_coat" / ("c" + std::to_string(i) + ".png"), img(5 + i), 40, 30, PNG_FORMAT_RGB);
  std::ofstream(root / "a_coat" / "bad.jpg") << "garbage";
  std::ofstream(root / "a_coat" / "notes.txt") << "not an image: ignored";
  write_jpeg(root / "c_bag" / "z.jpg", img(8), 40, 30, 3);
  write_jpeg(root / "c_bag" / "more" / "a.jpg", img(9), 40, 30, 3);
}

ImageFolderOptions options(const fs::path& dir, bool augment) {
  ImageFolderOptions o;
  o.dir = dir.string();
  o.what = "r.toml: [data] train_dir";
  o.image_size = 16;
  o.augment = augment;
  o.normalize = {{0.5f}, {0.25f}};
  o.warn = false;
  return o;
}

}  // namespace

TEST(ImageFolder, ClassesLabelsAndSkippedImages) {
  TempDir t;
  make_folder(t.path);
  Dataset ds = load_image_folder(options(t.path, true));
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"a_coat", "b_shirt", "c_bag"}));
  ASSERT_EQ(ds.size(), 7);  // bad.jpg skipped, notes.txt ignored
  const std::vector<int64_t> want = {0, 0, 1, 1, 1, 2, 2};
  for (int64_t i = 0; i < 7; ++i) EXPECT_EQ(ds.y.data<int64_t>()[i], want[static_cast<size_t>(i)]);
  EXPECT_EQ(ds.source->skipped(), 1);
  EXPECT_EQ(ds.sample_shape(), (std::vector<int64_t>{3, 16, 16}));

  // Evaluation form: nothing decoded up front; slice() decodes the samples it is asked for.
  Dataset test = load_image_folder(options(t.path, false));
  EXPECT_FALSE(test.x.defined());
  ir::Tensor x, y;
  test.slice(1, 3, x, y);
  ASSERT_EQ(x.dims(), (std::vector<int64_t>{3, 3, 16, 16}));
  EXPECT_EQ(std::vector<int64_t>(y.data<int64_t>(), y.data<int64_t>() + 3), (std::vector<int64_t>{0, 1, 1}));
  // Sample 2 (the slice's second) equals decoding by hand: resize + centre crop, normalised.
  Image img = decode_image((t.path / "b_shirt" / "s0.jpg").string(), 3);
  std::vector<float> expect(3 * 16 * 16);
  const float m = 0.5f, s = 0.25f, ms[3] = {m, m, m}, ss[3] = {s, s, s};
  resize_box_to_chw(img.pixels.data(), 40, 30, 3, center_crop(40, 30, 16), 1, 1, 16, ms, ss, expect.data());
  for (size_t i = 0; i < expect.size(); ++i) ASSERT_EQ(x.data<float>()[expect.size() + i], expect[i]);
  // The same in any slicing (as evaluation shards it over ranks) and on every call.
  ir::Tensor x1, y1;
  test.slice(2, 1, x1, y1);
  EXPECT_EQ(std::memcmp(x1.data<float>(), x.data<float>() + expect.size(), x1.nbytes()), 0);

  // crop_fraction 1 with images of the model's size: each image whole, pixel for pixel, normalised.
  fs::create_directories(t.path / "small" / "only");
  const std::vector<uint8_t> px = smooth_rgb(16, 16);
  write_png(t.path / "small" / "only" / "p.png", px, 16, 16, PNG_FORMAT_RGB);
  ImageFolderOptions whole = options(t.path / "small", false);
  whole.crop_fraction = 1.0;
  ir::Tensor wx, wy;
  load_image_folder(whole).slice(0, 1, wx, wy);
  ASSERT_EQ(wx.dims(), (std::vector<int64_t>{1, 3, 16, 16}));
  for (int ch = 0; ch < 3; ++ch)
    for (int i = 0; i < 16 * 16; ++i)
      ASSERT_NEAR(wx.data<float>()[ch * 256 + i], (px[static_cast<size_t>(3 * i + ch)] / 255.0f - m) / s, 1e-5) << ch << " " << i;
  whole.crop_fraction = 0;
  EXPECT_EQ(error_of([&] { load_image_folder(whole); }),
            "r.toml: [data] train_dir: eval_crop_fraction must be in (0, 1], got 0");
}

TEST(ImageFolder, SameSamplesOnAnyRankCountAndAfterResume) {
  TempDir t;
  make_folder(t.path);
  Dataset ds = load_image_folder(options(t.path, true));
  BatchLoader one(ds, 4, true, 5, 0, 1);
  BatchLoader r0(ds, 4, true, 5, 0, 2), r1(ds, 4, true, 5, 1, 2);
  std::vector<Batch> first;
  for (int step = 0; step < 5; ++step) {  // crosses epochs (one batch of 4 per epoch of 7)
    Batch a = one.next(), b0 = r0.next(), b1 = r1.next();
    const size_t half = a.x.numel() / 2;
    ASSERT_EQ(std::memcmp(a.x.data<float>(), b0.x.data<float>(), half * 4), 0) << step;
    ASSERT_EQ(std::memcmp(a.x.data<float>() + half, b1.x.data<float>(), half * 4), 0) << step;
    first.push_back(a);
  }
  // Epochs differ in their crops; a loader resumed at step 3 sees what step 3 saw.
  EXPECT_NE(std::memcmp(first[0].x.data<float>(), first[1].x.data<float>(), first[0].x.nbytes()), 0);
  BatchLoader resumed(ds, 4, true, 5, 0, 1, 3);
  Batch c = resumed.next();
  EXPECT_EQ(std::memcmp(c.x.data<float>(), first[3].x.data<float>(), c.x.nbytes()), 0);
  EXPECT_EQ(std::memcmp(c.y.data<int64_t>(), first[3].y.data<int64_t>(), c.y.nbytes()), 0);
}

// Made batches' storage is recycled (batch_loader.cpp's pool): batches still held, even past the
// loader's end, are never written again; each equals the same step from a loader whose batches
// were dropped at once.
TEST(ImageFolder, HeldBatchesStayIntactWhileStorageIsRecycled) {
  TempDir t;
  make_folder(t.path);
  Dataset ds = load_image_folder(options(t.path, true));
  std::vector<Batch> held;
  {
    BatchLoader keep(ds, 2, true, 4, 0, 1, 0, 2);
    for (int step = 0; step < 12; ++step) held.push_back(keep.next());
  }
  std::vector<Batch> later;
  {
    BatchLoader other(ds, 2, true, 4, 0, 1, 0, 2);  // a new loader: allocates while `held` lives
    for (int step = 0; step < 12; ++step) {
      Batch b = other.next();
      ASSERT_EQ(std::memcmp(b.x.data<float>(), held[static_cast<size_t>(step)].x.data<float>(), b.x.nbytes()), 0)
          << step;
      if (step % 3 == 0) later.push_back(b);
    }
  }
  for (size_t k = 0; k < later.size(); ++k)
    ASSERT_EQ(std::memcmp(later[k].x.data<float>(), held[3 * k].x.data<float>(), later[k].x.nbytes()), 0) << k;
}

TEST(ImageFolder, Errors) {
  TempDir t;
  EXPECT_EQ(error_of([&] { load_image_folder(options(t.path / "nope", false)); }),
            "r.toml: [data] train_dir: folder not found: " + (t.path / "nope").string());
  EXPECT_NE(error_of([&] { load_image_folder(options(t.path, false)); }).find("has no class sub-folders"),
            std::string::npos);
  make_folder(t.path);
  fs::create_directories(t.path / "d_empty");
  EXPECT_EQ(error_of([&] { load_image_folder(options(t.path, false)); }),
            "r.toml: [data] train_dir: class folder " + (t.path / "d_empty").string() + " has no images (.jpg, .jpeg, .png)");
  std::ofstream(t.path / "d_empty" / "x.png") << "garbage";
  EXPECT_EQ(error_of([&] { load_image_folder(options(t.path, false)); }),
            "r.toml: [data] train_dir: class folder " + (t.path / "d_empty").string() + " has no readable image");
  fs::remove_all(t.path / "d_empty");
  ImageFolderOptions o = options(t.path, false);
  o.normalize.mean = {0.1f, 0.2f};
  EXPECT_EQ(error_of([&] { load_image_folder(o); }),
            "r.toml: [data] normalize.mean: 2 values for 3-channel images; give one value or one per channel");
}

TEST(ImageFolder, ClassIndexFile) {
  TempDir t;
  write_class_index((t.path / "model.onnx").string(), {"a_coat", "b_shirt"});
  EXPECT_EQ(class_index_path((t.path / "model.onnx").string()), (t.path / "model.classes.txt").string());
  std::ifstream in(t.path / "model.classes.txt");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(all, "a_coat\nb_shirt\n");
}
