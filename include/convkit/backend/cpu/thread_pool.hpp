#pragma once
// The CPU kernels' threads: a pool whose caller takes part in the work and never waits
// for a thread that has not started.
//
// Why not an OpenMP parallel region: OpenMP splits a loop into one chunk per thread and
// the caller waits for every thread's chunk. On a machine whose cores are busy with other
// processes, a sleeping thread can take a scheduler tick (milliseconds) to wake, and a
// small-batch training step (BN-LeNet at batch 32, dozens of parallel loops a step) ran
// 80x slower on two threads than on one. Here the chunks are claimed one at a time by
// whichever thread is free first, the caller included: when the other threads are late,
// the caller runs every chunk itself and the loop costs what it costs on one thread. When
// workers keep taking far longer over their chunks than the caller over its own (they lost
// their core to another process while the caller waited), the pool runs the next loops on
// the caller alone for a while (a busy machine
// gains nothing from a second thread it cannot get). On an idle machine the workers spin
// briefly between loops, so they start as fast as OpenMP's.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define CONVKIT_CPU_RELAX() _mm_pause()
#else
#define CONVKIT_CPU_RELAX() std::this_thread::yield()
#endif

namespace convkit::backend::cpu {

/// A loop body seen through a plain function pointer (see parallel_for).
using ChunkFn = void (*)(const void* body, int64_t begin, int64_t end);

namespace detail {

/// Per thread: the chunk being run (thread_index() inside a loop body) and whether a
/// loop body is running (nested loops run serially).
struct ChunkContext {
  int chunk = 0;        ///< the chunk this thread runs
  bool inside = false;  ///< true while it runs one
};
/// This thread's context.
inline ChunkContext& chunk_context() {
  thread_local ChunkContext context;
  return context;
}

}  // namespace detail

/// The process's pool of worker threads (created on first use, grown to the largest
/// thread count asked for, never destroyed: its threads sleep when unused).
class ThreadPool {
 public:
  /// The pool.
  static ThreadPool& instance() {
    static ThreadPool* pool = new ThreadPool();  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  /// Runs fn(body, begin, end) on `chunks` contiguous chunks of [0, n), chunk t being
  /// [n*t/chunks, n*(t+1)/chunks), each on one thread, the caller among them. Returns
  /// when every chunk is done; rethrows the first exception a chunk threw.
  void run(int chunks, int64_t n, ChunkFn fn, const void* body) {
    detail::ChunkContext& context = detail::chunk_context();
    std::unique_lock<std::mutex> caller(run_mutex_, std::try_to_lock);
    if (chunks <= 1 || context.inside || !caller.owns_lock()) {  // nested, or another thread has the pool
      run_serially(chunks, n, fn, body);
      return;
    }
    const auto start = Clock::now();
    if (start < alone_until_) {  // the machine is busy: see the file comment
      run_serially(chunks, n, fn, body);
      return;
    }
    grow(chunks - 1);
    fn_ = fn;
    body_ = body;
    n_ = n;
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    generation_ = (generation_ + 1) & 0xFFFFFFFF;
    // One word holds the job's generation, its chunk count and the next chunk to claim, so
    // a worker that wakes late cannot claim a chunk of a later job.
    state_.store(generation_ << 32 | uint64_t(chunks) << 16, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);  // a worker about to sleep sees the new state
    }
    wake_.notify_all();
    slowest_other_.store(0, std::memory_order_relaxed);
    const int own = work_on(generation_, false);
    const auto own_time = Clock::now() - start;
    for (int spins = 0; done_.load(std::memory_order_acquire) < chunks; ++spins) {
      if (spins < 4096) {
        CONVKIT_CPU_RELAX();
      } else {
        std::this_thread::yield();  // the chunk left runs on a thread that lost its core
      }
    }
    note_chunk_times(own > 0 ? own_time / own : own_time,
                     Clock::duration(slowest_other_.load(std::memory_order_relaxed)));
    if (error_) std::rethrow_exception(error_);
  }

  /// Runs the chunks one after another on the calling thread.
  static void run_serially(int chunks, int64_t n, ChunkFn fn, const void* body) {
    detail::ChunkContext& context = detail::chunk_context();
    const detail::ChunkContext saved = context;
    context.inside = true;
    for (int t = 0; t < chunks; ++t) {
      const int64_t begin = n * t / chunks, end = n * (t + 1) / chunks;
      context.chunk = t;
      if (begin < end) fn(body, begin, end);
    }
    context = saved;
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

 private:
  using Clock = std::chrono::steady_clock;
  ThreadPool() = default;

  /// The caller took `own` a chunk, the slowest worker `other` over one. A worker taking
  /// more than twice as long, and 100 us more, lost its core; two such loops (without
  /// 1000 others in between) make the next loops serial for a while: 20 ms, doubling up to
  /// a second while it keeps happening (an idle machine has a stray one now and then; a
  /// busy one has them all the time).
  void note_chunk_times(Clock::duration own, Clock::duration other) {
    if (other > 2 * own + std::chrono::microseconds(100)) {
      on_time_ = 0;
      if (++late_ >= 2) {
        late_ = 0;
        alone_until_ = Clock::now() + alone_for_;
        alone_for_ = std::min<Clock::duration>(2 * alone_for_, std::chrono::seconds(1));
      }
    } else if (++on_time_ >= 1000) {
      late_ = on_time_ = 0;
      alone_for_ = std::chrono::milliseconds(20);
    }
  }

  void grow(int workers) {
    while (static_cast<int>(threads_.size()) < workers) {
      threads_.emplace_back([this] { worker(); });
      threads_.back().detach();
    }
  }

  /// Claims and runs chunks of job `generation` until none is left; returns how many it
  /// ran. A worker (timed) records its slowest chunk's duration.
  int work_on(uint64_t generation, bool timed) {
    detail::ChunkContext& context = detail::chunk_context();
    for (int ran = 0;; ++ran) {
      uint64_t state = state_.load(std::memory_order_acquire);
      int chunk = 0, chunks = 0;
      do {
        chunks = static_cast<int>(state >> 16 & 0xFFFF);
        chunk = static_cast<int>(state & 0xFFFF);
        if (state >> 32 != generation || chunk >= chunks) return ran;
      } while (!state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel));
      const int64_t begin = n_ * chunk / chunks, end = n_ * (chunk + 1) / chunks;
      context.inside = true;
      context.chunk = chunk;
      const auto chunk_start = timed ? Clock::now() : Clock::time_point();
      try {
        if (begin < end) fn_(body_, begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (timed) {
        const int64_t took = (Clock::now() - chunk_start).count();
        int64_t slowest = slowest_other_.load(std::memory_order_relaxed);
        while (took > slowest && !slowest_other_.compare_exchange_weak(slowest, took, std::memory_order_relaxed)) {
        }
      }
      context.inside = false;
      context.chunk = 0;
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      // Spin up to 2 ms for the next loop (a training step starts one every few
      // microseconds; a woken thread starts 50 us or more late), then sleep until notified.
      uint64_t now = state_.load(std::memory_order_acquire) >> 32;
      const auto spin_until = Clock::now() + std::chrono::milliseconds(2);
      for (int spins = 1; now == seen; ++spins) {
        CONVKIT_CPU_RELAX();
        now = state_.load(std::memory_order_acquire) >> 32;
        if (spins % 256 == 0 && Clock::now() > spin_until) break;
      }
      if (now == seen) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        wake_.wait(lock, [&] { return (state_.load(std::memory_order_acquire) >> 32) != seen; });
        now = state_.load(std::memory_order_acquire) >> 32;
      }
      seen = now;
      work_on(now, true);
    }
  }

  std::mutex run_mutex_;             ///< held by the thread whose loop the pool runs
  int late_ = 0, on_time_ = 0;       ///< recent loops whose caller waited long, and prompt ones since
  Clock::time_point alone_until_{};  ///< loops before this run on the caller alone
  Clock::duration alone_for_ = std::chrono::milliseconds(20);  ///< how long the next serial spell lasts
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> state_{0};         ///< generation << 32 | chunks << 16 | next chunk
  std::atomic<int> done_{0};               ///< chunks of the current job finished
  std::atomic<int64_t> slowest_other_{0};  ///< the longest a worker took over a chunk of it (Clock ticks)
  uint64_t generation_ = 0;
  ChunkFn fn_ = nullptr;
  const void* body_ = nullptr;
  int64_t n_ = 0;
  std::exception_ptr error_;
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
};

}  // namespace convkit::backend::cpu
