// The run's own random number generator: xoshiro256** seeded through splitmix64, with our own
// uniform / normal draws so streams are bit-identical on every standard library (std::
// distributions are not specified bit-for-bit). Each consumer (data, init, batches) gets its
// own stream derived from (seed, stream name), so adding draws in one never shifts another.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace gradflow {

struct Rng {
  std::uint64_t s[4];

  // Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).
  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform01();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi);
  // Standard normal by the Box-Muller transform (Box & Muller 1958); no cached second draw,
  // so the stream position depends only on how many normals were drawn.
  double normal();
  // Uniform integer in [0, n), unbiased (Lemire 2019, "Fast random integer generation in an
  // interval").
  std::uint64_t below(std::uint64_t n);
};

// Stream `stream` of run seed `seed`. Different names give independent streams.
Rng make_rng(std::uint64_t seed, std::string_view stream);

// Fisher-Yates shuffle of `items` in place.
void shuffle(std::vector<std::size_t>& items, Rng& rng);

}  // namespace gradflow
