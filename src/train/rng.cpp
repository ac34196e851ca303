#include "train/rng.hpp"

#include <cmath>
#include <utility>

namespace minima::train {

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t rand_u64(uint64_t seed, uint64_t stream, uint64_t index) {
  return mix64(mix64(mix64(seed) ^ stream) ^ index);
}

double uniform01(uint64_t seed, uint64_t stream, uint64_t index) {
  return double(rand_u64(seed, stream, index) >> 11) * 0x1.0p-53;
}

double normal(uint64_t seed, uint64_t stream, uint64_t index) {
  // 1 - u is in (0, 1]: the logarithm is finite.
  const double u1 = 1.0 - uniform01(seed, stream, 2 * index);
  const double u2 = uniform01(seed, stream, 2 * index + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

__extension__ using U128 = unsigned __int128;

uint64_t below(uint64_t n, uint64_t seed, uint64_t stream, uint64_t index) {
  return uint64_t(U128{rand_u64(seed, stream, index)} * n >> 64);
}

void shuffle(std::span<uint64_t> v, uint64_t seed, uint64_t stream) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i, seed, stream, i)]);
}

}  // namespace minima::train
