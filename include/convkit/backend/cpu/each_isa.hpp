// Includes CONVKIT_PER_ISA_HEADER once per kernel copy: for the build's own instruction set
// (CONVKIT_BUILD_ISA, no target pragma) and, on x86 with GCC or Clang, for each one above
// it under a target pragma. Each time CONVKIT_ISA_COPY names the copy's namespace
// (isa_generic, isa_avx2, isa_avx512) and CONVKIT_KERNEL_ISA its level (0, 1, 2), the only
// two things that vary a copy's body. No include guard: that is the point.
#if !defined(CONVKIT_PER_ISA_HEADER)
#error "define CONVKIT_PER_ISA_HEADER before including backend/cpu/each_isa.hpp"
#endif

#if CONVKIT_BUILD_ISA == 2
#define CONVKIT_ISA_COPY isa_avx512
#elif CONVKIT_BUILD_ISA == 1
#define CONVKIT_ISA_COPY isa_avx2
#else
#define CONVKIT_ISA_COPY isa_generic
#endif
#define CONVKIT_KERNEL_ISA CONVKIT_BUILD_ISA
#include CONVKIT_PER_ISA_HEADER
#undef CONVKIT_ISA_COPY
#undef CONVKIT_KERNEL_ISA

#if CONVKIT_ISA_COPIES && CONVKIT_BUILD_ISA < 1
#define CONVKIT_ISA_COPY isa_avx2
#define CONVKIT_KERNEL_ISA 1
CONVKIT_COPY_DIAGNOSTICS_BEGIN
CONVKIT_TARGET_BEGIN("avx2,fma")
#include CONVKIT_PER_ISA_HEADER
CONVKIT_TARGET_END
CONVKIT_COPY_DIAGNOSTICS_END
#undef CONVKIT_ISA_COPY
#undef CONVKIT_KERNEL_ISA
#endif

#if CONVKIT_ISA_COPIES && CONVKIT_BUILD_ISA < 2
#define CONVKIT_ISA_COPY isa_avx512
#define CONVKIT_KERNEL_ISA 2
CONVKIT_COPY_DIAGNOSTICS_BEGIN
CONVKIT_TARGET_BEGIN("avx512f,avx2,fma")
#include CONVKIT_PER_ISA_HEADER
CONVKIT_TARGET_END
CONVKIT_COPY_DIAGNOSTICS_END
#undef CONVKIT_ISA_COPY
#undef CONVKIT_KERNEL_ISA
#endif
