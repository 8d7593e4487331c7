#pragma once
// CPU memory: 64-byte aligned (a cache line, and the widest SIMD load), from a caching
// allocator. Training allocates the same sizes every step; reusing freed blocks avoids
// the page faults of fresh large allocations, so the steady-state step allocates nothing
// from the system.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "parallel.hpp"

namespace convkit::backend::cpu {

constexpr size_t kAlignment = 64;

/// A lock for the allocator's short critical sections, taken by every tensor allocation
/// and release, often from two threads at once during a training step. std::mutex, which
/// can put a waiter to sleep in the kernel, makes the LeNet training step 10-15% slower.
/// A waiter here yields its core instead of spinning on it, so an oversubscribed machine
/// does not suffer.
class SpinLock {
 public:
  /// Waits until the lock is free, then takes it.
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
  }
  /// Releases the lock.
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

/// Keeps freed CPU blocks by size bucket and hands them out again, so a training step after the first allocates nothing
/// from the system.
class CachingAllocator {
 public:
  /// The process-wide allocator.
  static CachingAllocator& instance() {
    static CachingAllocator* a = new CachingAllocator();  // never destroyed: tensors may outlive statics
    return *a;
  }
  /// A 64-byte aligned block of at least `bytes` (from the cache when one fits).
  void* allocate(size_t bytes) {
    const size_t size = bucket(bytes);
    {
      std::lock_guard<SpinLock> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        char* base = it->second.back();
        it->second.pop_back();
        cached_ -= size;
        return base + kHeader;
      }
    }
    auto* base = static_cast<char*>(std::aligned_alloc(kAlignment, size + kHeader));
    if (!base) {
      release_cached();
      base = static_cast<char*>(std::aligned_alloc(kAlignment, size + kHeader));
      if (!base) throw std::bad_alloc();
    }
    const Header header{size, kTag};
    std::memcpy(base, &header, sizeof header);
    std::lock_guard<SpinLock> lock(mutex_);
    ++system_allocations_;
    return base + kHeader;
  }
  /// Returns a block to the cache (pointers it did not hand out are ignored).
  void deallocate(void* p) {
    if (!p) return;
    char* base = static_cast<char*>(p) - kHeader;
    Header header{};
    std::memcpy(&header, base, sizeof header);
    if (header.tag != kTag) return;  // not ours: never happens for convkit's own buffers
    std::lock_guard<SpinLock> lock(mutex_);
    if (cached_ + header.size > kMaxCached) {
      std::free(base);
      return;
    }
    free_[header.size].push_back(base);
    cached_ += header.size;
  }
  /// Returns every cached block to the system.
  void release_cached() {
    std::lock_guard<SpinLock> lock(mutex_);
    for (auto& [size, blocks] : free_)
      for (char* base : blocks) std::free(base);
    free_.clear();
    cached_ = 0;
  }
  /// Bytes held in the cache.
  size_t cached_bytes() const { return cached_; }
  /// How many blocks were taken from the system so far (a steady training loop stops
  /// adding to it after its first step; the tests check that).
  size_t system_allocations() const { return system_allocations_; }

 private:
  static constexpr size_t kMaxCached = size_t(1) << 30;
  /// Small sizes round to 64 bytes; large ones to 1/8 of their power of two, so a block is
  /// reused for requests of nearly the same size without wasting more than 12.5%.
  static size_t bucket(size_t bytes) {
    if (bytes <= 4096) return bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
    size_t p = 4096;
    while (p < bytes) p <<= 1;
    const size_t step = p / 8;
    return (bytes + step - 1) / step * step;
  }
  /// Each block starts with a header that records its bucket, a cache line long so that
  /// the memory handed out stays 64-byte aligned. Reading the size from there, rather
  /// than from a map of live blocks, saves a map node's allocation on every tensor.
  struct Header {
    size_t size;   ///< the block's bucket, without the header
    uint64_t tag;  ///< kTag: marks a block this allocator handed out
  };
  static constexpr size_t kHeader = kAlignment;
  static constexpr uint64_t kTag = 0x636f6e766b697421;  // "convkit!"
  SpinLock mutex_;
  std::map<size_t, std::vector<char*>> free_;
  size_t cached_ = 0;
  size_t system_allocations_ = 0;
};

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every tensor gets its own allocation, so a use after free is seen.
inline void* allocate(size_t bytes) {
  void* p = std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment + kAlignment);
  if (!p) throw std::bad_alloc();
  return p;
}
inline void deallocate(void* p) { std::free(p); }
#else
inline void* allocate(size_t bytes) { return CachingAllocator::instance().allocate(bytes); }
inline void deallocate(void* p) { CachingAllocator::instance().deallocate(p); }
#endif

/// Scratch memory for a kernel (e.g. an im2col matrix), from the same cache.
template <class T>
class Workspace {
 public:
  /// Room for n elements (none when n is 0).
  explicit Workspace(size_t n) : p_(n ? static_cast<T*>(allocate(n * sizeof(T))) : nullptr) {}
  ~Workspace() { deallocate(p_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  /// Takes over `other`'s memory.
  Workspace(Workspace&& other) noexcept : p_(other.p_) { other.p_ = nullptr; }
  /// Frees this memory and takes over `other`'s.
  Workspace& operator=(Workspace&& other) noexcept {
    if (this != &other) {
      deallocate(p_);
      p_ = other.p_;
      other.p_ = nullptr;
    }
    return *this;
  }
  /// The first element.
  T* data() const { return p_; }

 private:
  T* p_;
};
/// Large copies are split over threads (one thread's memcpy does not saturate memory).
inline void copy(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  const int64_t blocks = static_cast<int64_t>((bytes + 65535) / 65536);
  parallel_for(blocks, 65536, [&](int64_t b, int64_t e) {
    const size_t begin = static_cast<size_t>(b) * 65536, end = std::min(bytes, static_cast<size_t>(e) * 65536);
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin, end - begin);
  });
}

/// Copies `rows` blocks of `row_bytes` bytes from src to dst, whose blocks start src_pitch
/// and dst_pitch bytes apart (cat and its gradient: one input's slab of every outer index).
inline void copy_blocks(int64_t rows, size_t row_bytes, void* dst, size_t dst_pitch, const void* src,
                        size_t src_pitch) {
  if (rows <= 0 || row_bytes == 0) return;
  parallel_for(rows, static_cast<int64_t>(row_bytes / 4 + 16), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      std::memcpy(static_cast<char*>(dst) + static_cast<size_t>(r) * dst_pitch,
                  static_cast<const char*>(src) + static_cast<size_t>(r) * src_pitch, row_bytes);
  });
}

}  // namespace convkit::backend::cpu
