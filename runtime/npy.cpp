#include "runtime/npy.h"

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "ir/checked_size.h"
#include "support/error.h"

namespace fc::runtime {

using ir::DType;

namespace {

// numpy's descriptors of our element types ('<': little-endian, '|': one byte). numpy has no
// bfloat16: such tensors travel as ONNX TensorProto files (fcrun infer reads and writes .pb).
constexpr std::pair<DType, const char*> kDescriptors[] = {
    {DType::F32, "<f4"}, {DType::F64, "<f8"}, {DType::F16, "<f2"}, {DType::I64, "<i8"}, {DType::I32, "<i4"},
    {DType::I16, "<i2"}, {DType::I8, "|i1"},  {DType::U64, "<u8"}, {DType::U32, "<u4"}, {DType::U16, "<u2"},
    {DType::U8, "|u1"},  {DType::Bool, "|b1"}};

DType dtype_from_descr(const std::string& d, const std::string& path) {
  for (const auto& [t, descr] : kDescriptors)
    if (d == descr) return t;
  fail(path, ": unsupported npy dtype '", d, "' (use a float16/32/64, (u)int8/16/32/64 or bool array)");
}

const char* descr_of(DType t, const std::string& path) {
  for (const auto& [type, descr] : kDescriptors)
    if (type == t) return descr;
  fail(path, ": numpy has no ", ir::dtype_name(t), " type (write a .pb file instead)");
}

// Where the value of 'key': starts in a .npy header (a Python dict literal). The header is scanned
// by hand: std::regex recursed once per character matched and overflowed the stack on a long one.
size_t field_start(const std::string& header, const std::string& key, const std::string& path) {
  size_t p = header.find("'" + key + "':");
  FC_CHECK(p != std::string::npos, path, ": .npy header has no ", key);
  p = header.find_first_not_of(" \t", p + key.size() + 3);
  return p == std::string::npos ? header.size() : p;
}

// The text between `open` and `close` that starts the value of 'key'.
std::string header_field(const std::string& header, const std::string& key, char open, char close,
                         const std::string& path) {
  const size_t p = field_start(header, key, path);
  const size_t end = p < header.size() && header[p] == open ? header.find(close, p + 1) : std::string::npos;
  FC_CHECK(end != std::string::npos, path, ": .npy header's ", key, " is malformed");
  return header.substr(p + 1, end - p - 1);
}

}  // namespace

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FC_CHECK(f, path, ": cannot open file");
  char magic[8];
  f.read(magic, 8);
  FC_CHECK(f && std::memcmp(magic, "\x93NUMPY", 6) == 0, path, ": not a .npy file");
  const int major = static_cast<unsigned char>(magic[6]);
  FC_CHECK(major >= 1 && major <= 3, path, ": unsupported .npy version ", major);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  FC_CHECK(f && header_len < (1u << 20), path, ": truncated .npy header");
  std::string header(header_len, '\0');
  f.read(header.data(), header_len);
  FC_CHECK(f, path, ": truncated .npy header");

  NpyHeader h;
  h.data_offset = static_cast<size_t>(f.tellg());
  h.descr = header_field(header, "descr", '\'', '\'', path);
  const size_t fo = field_start(header, "fortran_order", path);
  const bool fortran = header.compare(fo, 4, "True") == 0;
  FC_CHECK(fortran || header.compare(fo, 5, "False") == 0, path, ": .npy header's fortran_order is neither True nor False");
  FC_CHECK(!fortran, path, ": Fortran-ordered arrays are not supported (save with np.ascontiguousarray)");
  const std::string shape = header_field(header, "shape", '(', ')', path);
  std::stringstream ss(shape);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a == std::string::npos) continue;
    int64_t d = 0;
    const char* end = item.data() + b + 1;
    const auto r = std::from_chars(item.data() + a, end, d);
    FC_CHECK(r.ec == std::errc() && r.ptr == end, path, ": .npy header has a bad shape (", shape, ")");
    h.dims.push_back(d);
  }
  return h;
}

ir::Tensor load_npy(const std::string& path) {
  const NpyHeader h = read_npy_header(path);
  const DType dtype = dtype_from_descr(h.descr, path);
  // The data must be in the file before the tensor is allocated (a header may claim any shape).
  const int64_t nbytes = ir::checked_nbytes(dtype, h.dims, path);
  std::ifstream f(path, std::ios::binary);
  f.seekg(0, std::ios::end);
  const std::streamoff have = f.tellg() - static_cast<std::streamoff>(h.data_offset);
  FC_CHECK(have >= nbytes, path, ": truncated .npy data (shape ", ir::dims_text(h.dims), " needs ", nbytes,
           " bytes, the file has ", have, ")");
  f.seekg(static_cast<std::streamoff>(h.data_offset));
  ir::Tensor t(dtype, h.dims);
  f.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  FC_CHECK(f && static_cast<size_t>(f.gcount()) == t.nbytes(), path, ": truncated .npy data (expected ", t.nbytes(),
           " bytes)");
  t.canonicalize_bools();
  return t;
}

void save_npy(const std::string& path, const ir::Tensor& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.rank(); ++i) shape += std::to_string(t.dim(i)) + (t.rank() == 1 ? "," : (i + 1 < t.rank() ? ", " : ""));
  shape += ")";
  std::string header = std::string("{'descr': '") + descr_of(t.dtype(), path) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  FC_CHECK(f, path, ": cannot write file");
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const char lb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  f.write(lb, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  FC_CHECK(f.good(), path, ": write failed");
}

}  // namespace fc::runtime
