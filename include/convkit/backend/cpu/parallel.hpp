#pragma once
// CPU threading: parallel_for over convkit's own thread pool (thread_pool.hpp). The
// thread count is OpenMP's (OMP_NUM_THREADS, ck::set_num_threads) when the build enables
// OpenMP (the convkit CMake target does when OpenMP is found); without OpenMP every loop
// runs serially and nothing else changes.
#include <cstdint>

#include "../../core/error.hpp"
#include "thread_pool.hpp"
#if defined(_OPENMP)
#include <omp.h>
#endif

/// Put before a loop whose iterations are independent: it is vectorised at -O2 too.
/// GCC's -O2 vectorises only loops that need no run-time checks, which leaves the
/// elementwise and copy loops scalar without it (one-image LeNet inference: 42 us at -O2
/// against 16 at -O3). `omp simd` (honoured with -fopenmp or -fopenmp-simd) asks for
/// vectorisation whatever the level.
#if defined(_OPENMP)
#define CONVKIT_SIMD _Pragma("omp simd")
#elif defined(__clang__)
#define CONVKIT_SIMD _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define CONVKIT_SIMD _Pragma("GCC ivdep")
#else
#define CONVKIT_SIMD
#endif

/// CONVKIT_SIMD for a loop over a caller's function, which may call something no compiler
/// vectorises (std::pow). Clang warns at every use of a marked loop it could not
/// vectorise, and its -O2 vectorises such loops unmarked, so for Clang it is empty.
#if defined(__clang__)
#define CONVKIT_SIMD_MAP
#else
#define CONVKIT_SIMD_MAP CONVKIT_SIMD
#endif

/// Put before a loop of at most n iterations (a literal) over a register block: it is
/// unrolled completely at -O2 too. GCC's -O2 does not unroll a 16-iteration loop over a
/// block of vector sums, so the block would live on the stack (LeNet conv2's forward:
/// 1.17 ms at -O2 without it, against 0.51 at -O3).
/// CONVKIT_INLINE_BODY goes after the parameters of a lambda that a vectorised loop calls
/// once per element (`[&](int64_t k) CONVKIT_INLINE_BODY { ... }`): at -O2 GCC left a
/// Winograd transform's body a call per tile, so the loop stayed scalar.
/// CONVKIT_PREFETCH(p) asks for p's cache line ahead of its use (a hint: never faults).
#if defined(__GNUC__) || defined(__clang__)
#define CONVKIT_PRAGMA(x) _Pragma(#x)
#define CONVKIT_UNROLL(n) CONVKIT_PRAGMA(GCC unroll n)
#define CONVKIT_INLINE_BODY __attribute__((always_inline))
#define CONVKIT_PREFETCH(p) __builtin_prefetch(p)
#else
#define CONVKIT_UNROLL(n)
#define CONVKIT_INLINE_BODY
#define CONVKIT_PREFETCH(p) ((void)(p))
#endif

namespace convkit::backend::cpu {

/// Threads an op may use.
inline int max_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// Inside a parallel_for body: the index of the chunk being run, in [0, threads), which
/// no other thread runs at the same time (kernels index per-thread scratch with it).
inline int thread_index() { return detail::chunk_context().chunk; }

/// True inside a parallel_for body (a kernel called there should not start threads of its own).
inline bool in_parallel() { return detail::chunk_context().inside; }

/// Work (in rough flops) below which a loop runs on the calling thread, because waking
/// the other threads costs more than it saves (one-image LeNet inference, all of whose ops
/// are about that small, on two threads: 15 us with 128k, 18 with 32k).
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

/// Work (in rough flops) of one image's convolution below which its planes or positions
/// are not split over threads when there are fewer images than threads. Splitting LeNet's
/// layers (0.2-0.5 Mflop an image) over two threads gains 6% when a parallel region costs
/// 0.2 us, and doubles one-image inference's time when a busy machine makes it 1 us.
constexpr int64_t kMinSplitWork = int64_t(1) << 21;

namespace detail {

/// Runs fn(body, begin, end) on contiguous chunks of [0, n): one per thread of `threads`
/// when `threads` > 1, else one chunk on the calling thread. The body goes through a plain
/// function pointer, so each op's loop is compiled once, not once per call path.
CONVKIT_NOINLINE inline void run_chunks(int threads, int64_t n, ChunkFn fn, const void* body) {
  if (threads > 1) {
    ThreadPool::instance().run(threads, n, fn, body);
    return;
  }
  if (n > 0) fn(body, 0, n);
}

}  // namespace detail

/// Calls body(begin, end) on contiguous chunks of [0, n), one per thread, in parallel when
/// the work (n * cost_per_item, in rough flops) is large enough to pay for the threads.
template <class Body>
void parallel_for(int64_t n, int64_t cost_per_item, Body body) {
  const int64_t work = n * cost_per_item;
  int threads = max_threads();
  if (threads > n) threads = static_cast<int>(n);
  if (work < kMinParallelWork) threads = 1;
  detail::run_chunks(
      threads, n, [](const void* b, int64_t begin, int64_t end) { (*static_cast<const Body*>(b))(begin, end); }, &body);
}

}  // namespace convkit::backend::cpu
