#pragma once
// Which vector instructions this CPU has, read once at run time, so that one binary built
// for plain x86-64 still uses AVX2 or AVX-512 where the machine has them (and a binary
// built with -march=native is not required for speed).
#include <atomic>
#include <cstdlib>
#include <cstring>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define CONVKIT_X86_DISPATCH 1
#else
#define CONVKIT_X86_DISPATCH 0
#endif

// GCC 12's AVX-512 intrinsics (_mm512_undefined_ps inside e.g. _mm512_set1_ps) trip
// -Wuninitialized when inlined into a function with a target attribute: a known false
// positive. Code that uses them sits between these two macros.
#if defined(__GNUC__) && !defined(__clang__)
#define CONVKIT_AVX512_INTRINSICS_BEGIN                                                \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define CONVKIT_AVX512_INTRINSICS_END _Pragma("GCC diagnostic pop")
#else
#define CONVKIT_AVX512_INTRINSICS_BEGIN
#define CONVKIT_AVX512_INTRINSICS_END
#endif

// The instruction set the compiler's own flags target: 2 for AVX-512, 1 for AVX2 with FMA,
// 0 below (and off x86). The kernel copy for it needs no target attribute.
#if CONVKIT_X86_DISPATCH && defined(__AVX512F__)
#define CONVKIT_BUILD_ISA 2
#elif CONVKIT_X86_DISPATCH && defined(__AVX2__) && defined(__FMA__)
#define CONVKIT_BUILD_ISA 1
#else
#define CONVKIT_BUILD_ISA 0
#endif

// 1 where a kernel copy can be compiled for an instruction set above the build's (a target
// attribute per function): GCC and Clang on x86, but not nvcc's front end, which compiles
// a .cu file's host code and has no use for the CPU kernels (kernels.cpp compiles them).
#if CONVKIT_X86_DISPATCH && !defined(__CUDACC__)
#define CONVKIT_ISA_COPIES 1
#else
#define CONVKIT_ISA_COPIES 0
#endif

/// 1 where vector-extension values can be compared and shuffled (max pooling's lanes,
/// the one-row GEMM's sums): GCC and Clang, but not nvcc's front end, which compiles a
/// .cu file's host code and rejects comparisons of such values. There the plain loops
/// run instead, with the same results (the GEMM's sums in another order).
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define CONVKIT_VECTOR_OPS 1
#else
#define CONVKIT_VECTOR_OPS 0
#endif

namespace convkit::backend::cpu {

/// The instruction sets the float GEMM has a micro-kernel for, best last.
enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    default:
      return "generic";
  }
}

/// True when this CPU can run `isa`'s micro-kernel.
inline bool cpu_supports(Isa isa) {
#if CONVKIT_X86_DISPATCH
  switch (isa) {
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default:
      return true;
  }
#else
  return isa == Isa::generic;
#endif
}

/// True when this build carries `isa`'s micro-kernel. A kernel that can never be the best
/// on a CPU able to run the binary is left out (a -march=native build on an AVX-512 machine
/// has only the AVX-512 one), which keeps compile time down; a build without -march has
/// all three, and its tests check each.
inline constexpr bool kernel_compiled(Isa isa) {
  const int level = static_cast<int>(isa);
  return CONVKIT_X86_DISPATCH ? level >= CONVKIT_BUILD_ISA : level == CONVKIT_BUILD_ISA;
}

/// True when this build has `isa`'s kernel and this CPU can run it.
inline bool isa_usable(Isa isa) { return kernel_compiled(isa) && cpu_supports(isa); }

namespace detail {
/// The best usable instruction set, or the one the environment variable CONVKIT_ISA names
/// (generic, avx2 or avx512) when it is usable: a way to run the other paths.
inline Isa detect_isa() {
  Isa best = Isa::generic;
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (isa_usable(isa)) best = isa;
  if (const char* env = std::getenv("CONVKIT_ISA")) {
    for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
      if (std::strcmp(env, isa_name(isa)) == 0 && isa_usable(isa)) return isa;
  }
  return best;
}
inline std::atomic<int>& active_isa_slot() {
  static std::atomic<int> slot{static_cast<int>(detect_isa())};
  return slot;
}
}  // namespace detail

/// True when the convolution and pooling kernels have a copy compiled for `isa`
/// (kernels_by_isa.hpp): the build's own instruction set and, on x86 with GCC or Clang,
/// each one above it.
inline constexpr bool kernel_copy_compiled(Isa isa) {
  const int level = static_cast<int>(isa);
  return CONVKIT_ISA_COPIES ? level >= CONVKIT_BUILD_ISA : level == CONVKIT_BUILD_ISA;
}

/// The instruction set the float GEMM uses now.
inline Isa active_isa() { return static_cast<Isa>(detail::active_isa_slot().load(std::memory_order_relaxed)); }

/// Makes the float GEMM use `isa` (tests run every path this CPU supports). Returns false,
/// changing nothing, when the build lacks its kernel or the CPU cannot run it.
inline bool set_active_isa(Isa isa) {
  if (!isa_usable(isa)) return false;
  detail::active_isa_slot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

}  // namespace convkit::backend::cpu
