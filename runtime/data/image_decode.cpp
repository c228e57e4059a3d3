// JPEG (libjpeg-turbo's libjpeg API) and PNG (libpng's simplified API) decoding into 8-bit HWC.
// libjpeg reports fatal errors through error_exit, which must not return: it longjmps back to the
// decode function's setjmp, whose frame owns every C++ object (the jump crosses only libjpeg's C
// frames), and the error is then thrown as fc::Error naming the file.
#include "runtime/data/image_decode.h"

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <fstream>

#include "support/error.h"

namespace fc::runtime::data {

namespace {

std::string lower_extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// The file's bytes, into a buffer that each thread keeps (no fresh pages per image).
const std::vector<uint8_t>& read_bytes(const std::string& path) {
  thread_local std::vector<uint8_t> bytes;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  FC_CHECK(in, path, ": cannot open image");
  const std::streamoff size = in.tellg();
  FC_CHECK(size > 0, path, ": empty file");
  bytes.resize(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  FC_CHECK(in, path, ": cannot read image");
  return bytes;
}

bool looks_like_png(const std::vector<uint8_t>& b) { return b.size() >= 8 && png_sig_cmp(b.data(), 0, 8) == 0; }

// PIL's convert("L"): ITU-R 601-2 luma in 16-bit fixed point, rounded.
uint8_t luma(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

void to_luma(Image& img) {
  if (img.channels == 1) return;
  const size_t n = static_cast<size_t>(img.width) * static_cast<size_t>(img.height);
  for (size_t i = 0; i < n; ++i)
    img.pixels[i] = luma(img.pixels[3 * i], img.pixels[3 * i + 1], img.pixels[3 * i + 2]);
  img.pixels.resize(n);
  img.channels = 1;
}

// ---- JPEG

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  cinfo->err->format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// A truncated file is only a warning to libjpeg (it pads with grey); we count it as corrupt, as
// PIL does. Other warnings (extraneous bytes before a marker, ...) are tolerated.
void jpeg_warn(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

// Adobe CMYK JPEGs store inverted ink values (what Photoshop and PIL write): 255 is no ink.
void cmyk_to_rgb(const uint8_t* cmyk, size_t n, bool inverted, uint8_t* rgb) {
  for (size_t i = 0; i < n; ++i, cmyk += 4, rgb += 3) {
    const int k = inverted ? cmyk[3] : 255 - cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const int v = inverted ? cmyk[c] : 255 - cmyk[c];
      rgb[c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
}

// Pixels kept around a decoded window: fancy upsampling of 2x-subsampled chroma reads one chroma
// sample (two pixels) beyond the pixel it makes, and the window's edges are edges to libjpeg.
constexpr int kWindowMargin = 4;

// Whether a JPEG whose decode stopped before its last row still has its end (EOI) marker, i.e. is
// not truncated. After a single scan's entropy-coded data only RST markers (FF D0-D7) and stuffed
// bytes (FF 00) follow until EOI, so an FF D9 between the reading position and the file's end is
// the EOI; a multi-scan (progressive) file was read whole by jpeg_start_decompress.
bool has_end_marker(jpeg_decompress_struct& cinfo) {
  if (jpeg_input_complete(&cinfo) || cinfo.unread_marker == 0xD9) return true;
  const uint8_t* p = cinfo.src->next_input_byte;
  for (size_t i = cinfo.src->bytes_in_buffer; i >= 2; --i)
    if (p[i - 2] == 0xFF && p[i - 1] == 0xD9) return true;
  return false;
}

// Decodes (header_only: reads the header) a JPEG held in memory, whole or (window) in part.
// Returns false with `why` set on error; nothing in this frame that owns memory is created after
// setjmp.
bool decode_jpeg(const std::vector<uint8_t>& bytes, int channels, int reduction, bool header_only,
                 const PixelRect* window, Image& out, std::string& why) {
  jpeg_decompress_struct cinfo;
  JpegError err{};
  std::vector<uint8_t> cmyk_row;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_warn;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    why = err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (header_only) {
    out.width = static_cast<int>(cinfo.image_width);
    out.height = static_cast<int>(cinfo.image_height);
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (cmyk) cinfo.out_color_space = JCS_CMYK;
  else cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;  // libjpeg-turbo expands grey
  cinfo.scale_num = 1;
  cinfo.scale_denom = static_cast<unsigned>(reduction);
  // PIL's defaults: islow DCT, fancy upsampling.
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);
  out.full_width = static_cast<int>(cinfo.output_width);
  out.full_height = static_cast<int>(cinfo.output_height);
  // The rows [y0, y1) and columns to decode: all, or the window with its margin.
  JDIMENSION x0 = 0, cols = cinfo.output_width, y0 = 0, y1 = cinfo.output_height;
  if (window) {
    const auto clamp = [](int v, JDIMENSION hi) { return static_cast<JDIMENSION>(std::clamp<int64_t>(v, 0, hi)); };
    x0 = clamp(window->x0 - kWindowMargin, cinfo.output_width);
    cols = std::max<JDIMENSION>(clamp(window->x1 + kWindowMargin, cinfo.output_width), x0 + 1) - x0;
    y0 = clamp(window->y0 - kWindowMargin, cinfo.output_height);
    y1 = std::max<JDIMENSION>(clamp(window->y1 + kWindowMargin, cinfo.output_height), y0 + 1);
    // Moves x0 left to an iMCU boundary (widening cols to keep the right edge); a no-op when whole.
    if (cols < cinfo.output_width) jpeg_crop_scanline(&cinfo, &x0, &cols);
    if (y0 > 0) jpeg_skip_scanlines(&cinfo, y0);
  }
  out.x0 = static_cast<int>(x0);
  out.y0 = static_cast<int>(y0);
  out.width = static_cast<int>(cinfo.output_width);  // = cols after jpeg_crop_scanline
  out.height = static_cast<int>(y1 - y0);
  out.channels = cmyk ? 3 : channels;
  out.pixels.resize(static_cast<size_t>(out.width) * static_cast<size_t>(out.height) * static_cast<size_t>(out.channels));
  if (cmyk) cmyk_row.resize(static_cast<size_t>(out.width) * 4);
  const size_t row_bytes = static_cast<size_t>(out.width) * static_cast<size_t>(out.channels);
  while (cinfo.output_scanline < y1) {
    uint8_t* dst = out.pixels.data() + (cinfo.output_scanline - y0) * row_bytes;
    JSAMPROW row = cmyk ? cmyk_row.data() : dst;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) cmyk_to_rgb(cmyk_row.data(), static_cast<size_t>(out.width), cinfo.saw_Adobe_marker, dst);
  }
  if (cinfo.output_scanline < cinfo.output_height) {
    // The rows below the window are not decoded; a file cut short there is still corrupt.
    if (!has_end_marker(cinfo)) err.truncated = true;
  } else {
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  if (err.truncated) {
    why = "premature end of JPEG data (truncated file)";
    return false;
  }
  if (cmyk && channels == 1) to_luma(out);
  return true;
}

// ---- PNG

Image decode_png(const std::string& path, const std::vector<uint8_t>& bytes, int channels, bool header_only) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    fail(path, ": corrupt PNG (", png.message, ")");
  Image img;
  img.width = static_cast<int>(png.width);
  img.height = static_cast<int>(png.height);
  if (header_only) {
    png_image_free(&png);
    return img;
  }
  // RGBA keeps colour values as stored; alpha is then dropped, as PIL's convert("RGB") does
  // (the simplified API would otherwise composite onto a background).
  png.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr)) {
    std::string why = png.message;
    png_image_free(&png);
    fail(path, ": corrupt PNG (", why, ")");
  }
  const size_t n = static_cast<size_t>(img.width) * static_cast<size_t>(img.height);
  img.full_width = img.width;
  img.full_height = img.height;
  img.channels = 3;
  img.pixels.resize(n * 3);
  for (size_t i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c) img.pixels[3 * i + c] = rgba[4 * i + c];
  if (channels == 1) to_luma(img);
  return img;
}

void decode_any(const std::string& path, int channels, int reduction, bool header_only, const PixelRect* window,
                Image& img) {
  FC_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  FC_CHECK(reduction == 1 || reduction == 2 || reduction == 4 || reduction == 8,
           "decode_image: reduction must be 1, 2, 4 or 8, got ", reduction);
  const std::vector<uint8_t>& bytes = read_bytes(path);
  if (looks_like_png(bytes)) {
    img = decode_png(path, bytes, channels, header_only);
    return;
  }
  FC_CHECK(bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8, path, ": not a JPEG or PNG image");
  std::string why;
  FC_CHECK(decode_jpeg(bytes, channels, reduction, header_only, window, img, why), path, ": corrupt JPEG (", why, ")");
}

}  // namespace

ImageSize read_image_size(const std::string& path) {
  Image img;
  decode_any(path, 3, 1, /*header_only=*/true, nullptr, img);
  FC_CHECK(img.width > 0 && img.height > 0, path, ": image has no pixels");
  return {img.width, img.height};
}

Image decode_image(const std::string& path, int channels, int reduction) {
  Image img;
  decode_any(path, channels, reduction, /*header_only=*/false, nullptr, img);
  return img;
}

void decode_image_into(const std::string& path, int channels, int reduction, Image& into, const PixelRect* window) {
  decode_any(path, channels, reduction, /*header_only=*/false, window, into);
}

ImageSize reduced_size(ImageSize size, int reduction) {
  return {(size.width + reduction - 1) / reduction, (size.height + reduction - 1) / reduction};
}

int jpeg_reduction_for(double crop_w, double crop_h, int out) {
  int r = 8;
  while (r > 1 && (crop_w / r < out || crop_h / r < out)) r /= 2;
  return r;
}

bool is_jpeg_path(const std::string& path) {
  const std::string e = lower_extension(path);
  return e == "jpg" || e == "jpeg";
}

bool is_png_path(const std::string& path) { return lower_extension(path) == "png"; }

}  // namespace fc::runtime::data
