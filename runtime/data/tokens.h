// Token corpora for language models ([data] format = "tokens"): a flat array of token ids in one
// file, raw little-endian ids of the recipe's token_dtype (uint8, uint16, int32) or a 1-D .npy that
// carries its own dtype. The file is memory-mapped: a corpus larger than memory works, only the
// windows read are paged in.
//
// A sample is a window of block + 1 consecutive tokens starting at an offset o: the model reads ids
// t[o, o + block), its labels are the next token of each position, t[o + 1, o + block + 1).
//   training:   windows at pseudo-random offsets, a pure function of (seed, step, sample index in the
//               global batch) (token_window_offset), so ranks draw disjoint samples of each global
//               batch and a resumed run sees the same windows;
//   evaluation: the consecutive non-overlapping windows o = 0, block, 2 * block, ... (whole ones).
#pragma once

#include <cstdint>
#include <string>

namespace fc::runtime::data {

class TokenFile {
 public:
  // Maps `path`; `dtype` ("uint8" | "uint16" | "int32") applies to raw files. Throws fc::Error naming
  // the file when it is missing, empty, not a whole number of ids, or a .npy that is not 1-D of one
  // of those types.
  TokenFile(const std::string& path, const std::string& dtype);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  int64_t size() const { return count_; }  // ids in the file
  const std::string& path() const { return path_; }
  // ids [offset, offset + n) widened to int64.
  void read(int64_t offset, int64_t n, int64_t* out) const;
  // Throws fc::Error "PATH: token id I at offset K is outside the model's vocabulary [0, V)" for the
  // first id outside [0, vocab).
  void check_vocabulary(int64_t vocab) const;

 private:
  int64_t id(int64_t i) const;
  std::string path_;
  int width_ = 2;          // bytes per id
  bool is_signed_ = false;  // int32
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const unsigned char* ids_ = nullptr;
  int64_t count_ = 0;
};

// Training window offsets: sample k (0-based within the global batch) of step s starts at a
// pseudo-random offset in [0, size - block - 1], from a counter-based hash of (seed, step, k)
// (splitmix64; modulo bias below 2^-20 for corpora up to 2^44 tokens).
int64_t token_window_offset(uint64_t seed, int64_t step, int64_t k, int64_t tokens, int64_t block);

}  // namespace fc::runtime::data
