// The kernels compiled once per instruction set, in the order they use each other.
// kernels_by_isa.hpp includes this file once per copy, with CONVKIT_ISA_COPY naming the
// copy's namespace (isa_generic, isa_avx2, isa_avx512) and CONVKIT_KERNEL_ISA its level
// (0, 1, 2), which sizes the kernels' register blocks and turns on the AVX-512-only ones.
// No include guard: that is the point.
#if !defined(CONVKIT_ISA_COPY) || !defined(CONVKIT_KERNEL_ISA)
#error "backend/cpu/isa_copy.hpp is included by kernels_by_isa.hpp only"
#endif

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {
/// This copy's tag: the entry points of kernels_by_isa.hpp pass it to pick this copy's
/// functions (found by argument-dependent lookup).
struct Copy {
  static constexpr Isa isa = static_cast<Isa>(CONVKIT_KERNEL_ISA);  ///< the copy's instruction set
};
}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY

// In the order they use each other (clang-format would sort them).
// clang-format off
#include "vec64.hpp"
#include "conv/direct.hpp"
#include "conv/depthwise.hpp"
#include "conv/channel_lanes.hpp"
#include "conv/winograd.hpp"
#include "conv/image_lanes_winograd.hpp"
#include "conv/image_lanes.hpp"
#include "conv/strided_winograd.hpp"
#include "conv/conv.hpp"
#include "pool.hpp"
#include "adaptive_pool.hpp"
#include "batch_norm.hpp"
#include "loss.hpp"
// clang-format on
