#pragma once
// CPU memory: 64-byte aligned (a cache line, and the widest SIMD load).
#include <cstdlib>
#include <cstring>
#include <new>

namespace convkit::backend::cpu {

constexpr size_t kAlignment = 64;

inline void* allocate(size_t bytes) {
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (!p) throw std::bad_alloc();
  return p;
}
inline void deallocate(void* p) { std::free(p); }
inline void copy(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(dst, src, bytes);
}
inline void zero(void* dst, size_t bytes) {
  if (bytes) std::memset(dst, 0, bytes);
}

}  // namespace convkit::backend::cpu
