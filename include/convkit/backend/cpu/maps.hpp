// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (maps_by_isa.hpp).
// The elementwise maps: each op's per-element math (core/functors.hpp) in a loop that
// vectorises for the copy's instruction set (the functor, defined outside the copy, is
// inlined into it).
namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// y[i] = f(x[i]).
template <class T, class F>
void unary_map_in(Copy, int64_t n, const T* x, T* y, F f) {
  parallel_for(n, 8, [&](int64_t b, int64_t e) { CONVKIT_SIMD_MAP for (int64_t i = b; i < e; ++i) y[i] = f(x[i]); });
}

/// y[i] = f(a[i], b[i]) for equal-sized a and b (used by gradients of activations).
template <class T, class F>
void zip_map_in(Copy, int64_t n, const T* a, const T* b, T* y, F f) {
  parallel_for(n, 8,
               [&](int64_t s, int64_t e) { CONVKIT_SIMD_MAP for (int64_t i = s; i < e; ++i) y[i] = f(a[i], b[i]); });
}

/// y = f(a, b) with a and b broadcast by the plan p.
template <class T, class F>
void binary_map_in(Copy copy, const BroadcastPlan& p, const T* a, const T* b, T* y, F f) {
  using K = BroadcastPlan::Kind;
  const int64_t n = p.numel;
  switch (p.kind) {
    case K::Same:
      zip_map_in(copy, n, a, b, y, f);
      break;
    case K::AScalar: {
      const T s = a[0];
      parallel_for(n, 4, [&](int64_t u, int64_t v) { CONVKIT_SIMD for (int64_t i = u; i < v; ++i) y[i] = f(s, b[i]); });
    } break;
    case K::BScalar: {
      const T s = b[0];
      parallel_for(n, 4, [&](int64_t u, int64_t v) { CONVKIT_SIMD for (int64_t i = u; i < v; ++i) y[i] = f(a[i], s); });
    } break;
    case K::BSuffix:
      for (int64_t i = 0; i < n; i += p.b_numel)
        CONVKIT_SIMD for (int64_t j = 0; j < p.b_numel; ++j) y[i + j] = f(a[i + j], b[j]);
      break;
    case K::ASuffix:
      for (int64_t i = 0; i < n; i += p.a_numel)
        CONVKIT_SIMD for (int64_t j = 0; j < p.a_numel; ++j) y[i + j] = f(a[j], b[i + j]);
      break;
    case K::General:
      for_each_broadcast(p, [&](int64_t i, int64_t ia, int64_t ib) { y[i] = f(a[ia], b[ib]); });
      break;
  }
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
