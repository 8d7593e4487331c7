// The kernels compiled once per instruction set (kernels_by_isa.hpp includes this file
// through each_isa.hpp once per copy). CONVKIT_KERNEL_ISA sizes the kernels' register
// blocks and turns on the AVX-512-only ones. No include guard: that is the point.
#if !defined(CONVKIT_ISA_COPY) || !defined(CONVKIT_KERNEL_ISA)
#error "backend/cpu/isa_copy.hpp is included by kernels_by_isa.hpp only"
#endif

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
#include "conv/position_gemm.hpp"
#include "conv/conv.hpp"
#include "pool.hpp"
#include "adaptive_pool.hpp"
#include "batch_norm.hpp"
#include "loss.hpp"
// clang-format on
