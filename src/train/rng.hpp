// Counter-based random numbers for training: value i of stream s under seed k is a pure function of
// (k, s, i) — a SplitMix64-style finalizer over the three — so weight initialisation and data order
// are the same for any thread count and can be recomputed at any step (resume needs no RNG state).
#pragma once

#include <cstdint>
#include <span>

namespace minima::train {

// Bijective 64-bit mixer (SplitMix64's finalizer).
uint64_t mix64(uint64_t x);
uint64_t rand_u64(uint64_t seed, uint64_t stream, uint64_t index);
// Uniform in [0, 1) with 53 random bits.
double uniform01(uint64_t seed, uint64_t stream, uint64_t index);
// Standard normal (Box–Muller on the uniforms at 2·index and 2·index + 1).
double normal(uint64_t seed, uint64_t stream, uint64_t index);
// Uniform integer in [0, n) (n > 0), by 128-bit multiply-shift (bias below 2^-64·n).
uint64_t below(uint64_t n, uint64_t seed, uint64_t stream, uint64_t index);
// Fisher–Yates shuffle of v, a function of (seed, stream) only.
void shuffle(std::span<uint64_t> v, uint64_t seed, uint64_t stream);

}  // namespace minima::train
