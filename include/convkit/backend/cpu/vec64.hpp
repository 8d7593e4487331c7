// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Vec64: 64 bytes of values as vector-extension registers of the machine's width, the unit
// the register-blocked CPU kernels (direct and lane convolutions, depthwise rows, max
// pooling's lanes) keep their running values in, so that they stay in registers.
#include <cstdint>

#include "parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// The register-blocked kernels hold their running values in 64-byte vectors (Vec64). How
/// many of them the register file holds sizes each kernel's block: 32 zmm on AVX-512,
/// 16 ymm (8 Vec64) on AVX, 16 xmm (4 Vec64) otherwise.
#if CONVKIT_KERNEL_ISA == 2
constexpr int kVecBytes = 64;  ///< the widest vector register
constexpr int kVec64Registers = 32;
#elif CONVKIT_KERNEL_ISA >= 1
constexpr int kVecBytes = 32;
constexpr int kVec64Registers = 8;
#else
constexpr int kVecBytes = 16;
constexpr int kVec64Registers = 4;
#endif

#if defined(__GNUC__) || defined(__clang__)
/// 64 bytes of T as 64 / kVecBytes vectors of the machine's width (GCC and Clang vector
/// extensions). One 64-byte extension vector would do on AVX-512, but below it GCC 12
/// builds `scalar * vector` through the stack one element at a time (an AVX2 build of
/// LeNet conv1's forward, two threads: 8.5 ms that way, 0.6 with machine-width vectors).
template <class T>
struct Vec64 {
  typedef T Part __attribute__((vector_size(kVecBytes)));  ///< one register
  /// A Part read or written at any address, aliasing T (a memcpy of the whole Vec64 sent
  /// the sums through the stack).
  typedef T Unaligned __attribute__((vector_size(kVecBytes), aligned(alignof(T)), may_alias));
  static constexpr int kParts = 64 / kVecBytes;             ///< registers per Vec64
  static constexpr int kLanes = 64 / sizeof(T);             ///< T values per Vec64
  static constexpr int kPartLanes = kVecBytes / sizeof(T);  ///< T values per Part
  Part part[kParts];                                        ///< values [i * kPartLanes, ...)
  /// The Part at p (any alignment).
  static Part load_part(const T* p) { return *reinterpret_cast<const Unaligned*>(p); }
  /// Writes a Part to p (any alignment).
  static void store_part(const Part& v, T* p) { *reinterpret_cast<Unaligned*>(p) = v; }
  /// The 64 bytes at p (any alignment).
  static Vec64 load(const T* p) {
    Vec64 v;
    CONVKIT_UNROLL(4)
    for (int i = 0; i < kParts; ++i) v.part[i] = load_part(p + i * kPartLanes);
    return v;
  }
  /// Every value `value`.
  static Vec64 splat(T value) {
    Vec64 v;
    CONVKIT_UNROLL(4)
    for (auto& q : v.part) q = Part{} + value;
    return v;
  }
  /// Writes the 64 bytes to p.
  void store(T* p) const {
    CONVKIT_UNROLL(4)
    for (int i = 0; i < kParts; ++i) store_part(part[i], p + i * kPartLanes);
  }
  /// acc[j] = the 64 bytes at p + j * kLanes, for a block of N sums.
  template <int N>
  static void load_block(Vec64 (&acc)[N], const T* p) {
    CONVKIT_UNROLL(16)
    for (int j = 0; j < N; ++j) acc[j] = load(p + j * kLanes);
  }
  /// Writes acc[j] to p + j * kLanes, for a block of N sums.
  template <int N>
  static void store_block(const Vec64 (&acc)[N], T* p) {
    CONVKIT_UNROLL(16)
    for (int j = 0; j < N; ++j) acc[j].store(p + j * kLanes);
  }
  /// Keeps this value in registers: GCC otherwise folds the load into each multiply-add
  /// that reads it, loading one vector once per use.
  void pin() {
#if defined(__x86_64__) || defined(__i386__)
    for (auto& q : part) __asm__("" : "+v"(q));
#endif
  }
  /// this += a * b, b one value for every lane (a broadcast).
  void fma(const Vec64& a, T b) {
    CONVKIT_UNROLL(4)
    for (int i = 0; i < kParts; ++i) part[i] += a.part[i] * b;
  }
  /// this += a * b, lane by lane.
  void fma(const Vec64& a, const Vec64& b) {
    CONVKIT_UNROLL(4)
    for (int i = 0; i < kParts; ++i) part[i] += a.part[i] * b.part[i];
  }
};
#endif

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
