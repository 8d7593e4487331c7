#pragma once
// What the kernel copies compiled once per instruction set share (kernels_by_isa.hpp,
// maps_by_isa.hpp): their tags, the pragma that gives a copy its instruction set, and the
// run-time choice of the copy that runs.
#include "cpu_features.hpp"

namespace convkit::backend::cpu {
// One tag per copy: an entry point passes its copy's tag to pick that copy's functions
// (found by argument-dependent lookup in the copy's namespace).
namespace isa_generic {
/// The generic copy's tag.
struct Copy {
  static constexpr Isa isa = Isa::generic;  ///< the copy's instruction set
};
}  // namespace isa_generic
namespace isa_avx2 {
/// The AVX2 copy's tag.
struct Copy {
  static constexpr Isa isa = Isa::avx2;  ///< the copy's instruction set
};
}  // namespace isa_avx2
namespace isa_avx512 {
/// The AVX-512 copy's tag.
struct Copy {
  static constexpr Isa isa = Isa::avx512;  ///< the copy's instruction set
};
}  // namespace isa_avx512
#if CONVKIT_BUILD_ISA == 2
namespace build_copy = isa_avx512;  ///< the copy for the build's own instruction set
#elif CONVKIT_BUILD_ISA == 1
namespace build_copy = isa_avx2;
#else
namespace build_copy = isa_generic;
#endif
}  // namespace convkit::backend::cpu

// A target pragma around a copy: every function defined between the two gets the target.
#if defined(__clang__)
#define CONVKIT_TARGET_BEGIN(isa) \
  _Pragma(CONVKIT_STRINGIFY(clang attribute push(__attribute__((target(isa))), apply_to = function)))
#define CONVKIT_TARGET_END _Pragma("clang attribute pop")
#else
#define CONVKIT_TARGET_BEGIN(isa) _Pragma("GCC push_options") _Pragma(CONVKIT_STRINGIFY(GCC target(isa)))
#define CONVKIT_TARGET_END _Pragma("GCC pop_options")
#endif
#define CONVKIT_STRINGIFY(x) #x

// GCC warns, in a copy above the build's instruction set, that passing its vectors by value
// "changes the ABI" (every function in the copy has the same target, so no call crosses
// it), and falsely of uninitialized values inside its AVX-512 intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#define CONVKIT_COPY_DIAGNOSTICS_BEGIN                                         \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wpsabi\"") \
      _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")                    \
          _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define CONVKIT_COPY_DIAGNOSTICS_END _Pragma("GCC diagnostic pop")
#else
#define CONVKIT_COPY_DIAGNOSTICS_BEGIN
#define CONVKIT_COPY_DIAGNOSTICS_END
#endif

namespace convkit::backend::cpu {

/// The instruction set whose kernel copy runs now: active_isa() where that copy is
/// compiled, else the build's own.
inline Isa kernel_isa() {
  const Isa isa = active_isa();
  return kernel_copy_compiled(isa) ? isa : static_cast<Isa>(CONVKIT_BUILD_ISA);
}

/// Calls f with the tag (Copy) of kernel_isa()'s copy.
template <class F>
void with_kernel_copy(F&& f) {
  switch (kernel_isa()) {
#if CONVKIT_BUILD_ISA <= 2 && (CONVKIT_ISA_COPIES || CONVKIT_BUILD_ISA == 2)
    case Isa::avx512:
      return f(isa_avx512::Copy{});
#endif
#if CONVKIT_BUILD_ISA <= 1 && (CONVKIT_ISA_COPIES || CONVKIT_BUILD_ISA == 1)
    case Isa::avx2:
      return f(isa_avx2::Copy{});
#endif
#if CONVKIT_BUILD_ISA == 0
    case Isa::generic:
      return f(isa_generic::Copy{});
#endif
    default:  // not reached: kernel_isa() names a compiled copy
      return f(build_copy::Copy{});
  }
}

}  // namespace convkit::backend::cpu
