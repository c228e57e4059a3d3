// The data pipeline's random numbers, the same on every platform and standard library (std's
// distributions are implementation-defined): splitmix64 to derive decorrelated seeds, and uniform
// draws from std::mt19937_64's raw 64-bit output. Sample orders (dataset.cpp), image augmentation
// (image_transform.cpp), token windows (tokens.cpp) and dropout masks (cpu/kernels/dropout_training.cpp)
// are functions of these alone.
#pragma once

#include <cstdint>
#include <random>

namespace fc::runtime::data {

inline uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, bound) without modulo bias: draws below 2^64 mod bound are rejected, leaving a
// range whose size is a multiple of bound.
inline uint64_t uniform_below(std::mt19937_64& gen, uint64_t bound) {
  const uint64_t reject_below = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const uint64_t r = gen();
    if (r >= reject_below) return r % bound;
  }
}

// Uniform in [lo, hi) from the top 53 bits of one draw.
inline double uniform_real(std::mt19937_64& gen, double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(gen() >> 11) * 0x1.0p-53);
}

}  // namespace fc::runtime::data
