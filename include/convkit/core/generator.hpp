#pragma once
// Generator: a seeded random source, so every random tensor is reproducible.
#include <cmath>
#include <cstdint>
#include <random>

namespace convkit {

/// Seeded pseudo-random generator (64-bit Mersenne twister). The same seed gives the
/// same sequence on every platform for uniform draws (normal draws use Box-Muller on
/// top of it, so they are reproducible too).
class Generator {
 public:
  /// A generator seeded with `seed`; the same seed gives the same sequence.
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  /// Restarts the sequence from `s`.
  void seed(uint64_t s) { engine_.seed(s); }

  /// Uniform double in [0, 1), built from 53 random bits (portable, unlike
  /// std::uniform_real_distribution whose algorithm is implementation-defined).
  double next_double() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// A double drawn uniformly from [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * next_double(); }
  /// Standard normal draw (Box-Muller).
  double normal(double mean, double stddev) {
    double u1 = next_double(), u2 = next_double();
    if (u1 < 1e-300) u1 = 1e-300;
    constexpr double two_pi = 6.283185307179586476925286766559;
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
  }
  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(next_double() * static_cast<double>(n)) % n; }
  /// The underlying engine (for std:: distributions).
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace convkit
