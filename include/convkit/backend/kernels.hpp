#pragma once
// Per-element kernel bodies shared by the backends. Each function computes the work of one
// thread of a flat launch (element `i` of its index space) and is __host__ __device__
// under nvcc, so the CUDA kernels, the CPU and the tests' emulated launches (which run
// the CUDA index arithmetic on the CPU) all execute the same code.
#include <cmath>
#include <cstdint>

#include "../core/geometry.hpp"

#if defined(__CUDA_ARCH__)
#define CK_ATOMIC_ADD(ptr, value) atomicAdd((ptr), (value))
#else
#define CK_ATOMIC_ADD(ptr, value) (*(ptr) += (value))  // CPU: callers do not race on one slot
#endif

namespace convkit::kernels {

/// A broadcast plan in fixed-size arrays (device code cannot hold a std::vector).
struct BroadcastIndexer {
  /// The largest rank a broadcast can have.
  static constexpr int kMaxRank = 8;
  /// The output's rank.
  int rank = 0;
  /// Per dimension: output size, and the strides of a and b (0 where broadcast).
  ///@{
  int64_t out[kMaxRank] = {}, a_stride[kMaxRank] = {}, b_stride[kMaxRank] = {};
  ///@}

  /// Offsets into a and b of output element i.
  CK_HOST_DEVICE void offsets(int64_t i, int64_t& ia, int64_t& ib) const {
    ia = 0;
    ib = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t k = i % out[d];
      i /= out[d];
      ia += k * a_stride[d];
      ib += k * b_stride[d];
    }
  }
};

template <class T, class F>
CK_HOST_DEVICE void binary_map(const BroadcastIndexer& ix, const T* a, const T* b, T* y, F f, int64_t i) {
  int64_t ia, ib;
  ix.offsets(i, ia, ib);
  y[i] = f(a[ia], b[ib]);
}

/// out (a's shape) += g (output shape) at element i: the gradient of broadcasting a.
template <class T>
CK_HOST_DEVICE void sum_to_a(const BroadcastIndexer& ix, const T* g, T* out, int64_t i) {
  int64_t ia, ib;
  ix.offsets(i, ia, ib);
  CK_ATOMIC_ADD(out + ia, g[i]);
}

/// y[r, c, k] += b[c] for element i of y (rows, channels, inner).
template <class T>
CK_HOST_DEVICE void add_bias(int64_t channels, int64_t inner, const T* b, T* y, int64_t i) {
  y[i] += b[(i / inner) % channels];
}

/// gb[c] = sum over rows and inner of gy, for channel c = i.
template <class T>
CK_HOST_DEVICE void bias_grad(int64_t rows, int64_t channels, int64_t inner, const T* gy, T* gb, int64_t c) {
  T s = T(0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < inner; ++k) s += gy[(r * channels + c) * inner + k];
  gb[c] = s;
}

/// One element of the im2col matrix (channels*kh*kw, OH*OW) of `channels` planes of x.
template <class T>
CK_HOST_DEVICE void im2col(const Conv2dGeometry& g, const T* x, T* col, int64_t i) {
  const int64_t j = i % g.OW, oi = (i / g.OW) % g.OH, row = i / (g.OW * g.OH);
  const int64_t v = row % g.kw, u = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
  const int64_t hi = oi * g.sh - g.ph + u * g.dh, wi = j * g.sw - g.pw + v * g.dw;
  col[i] = (hi >= 0 && hi < g.H && wi >= 0 && wi < g.W) ? x[(c * g.H + hi) * g.W + wi] : T(0);
}

/// One input element of col2im: x[c, h, w] = the sum of every col entry that im2col copied
/// from it (a gather, so no two threads write one element); added to x[c, h, w] when
/// `accumulate`.
template <class T>
CK_HOST_DEVICE void col2im(const Conv2dGeometry& g, const T* col, T* x, int64_t i, bool accumulate = false) {
  const int64_t w = i % g.W, h = (i / g.W) % g.H, c = i / (g.W * g.H);
  T s = T(0);
  for (int64_t u = 0; u < g.kh; ++u) {
    const int64_t top = h + g.ph - u * g.dh;  // = oi * sh when (h, u) is used by output row oi
    if (top < 0 || top % g.sh != 0 || top / g.sh >= g.OH) continue;
    for (int64_t v = 0; v < g.kw; ++v) {
      const int64_t left = w + g.pw - v * g.dw;
      if (left < 0 || left % g.sw != 0 || left / g.sw >= g.OW) continue;
      s += col[((c * g.kh + u) * g.kw + v) * g.OH * g.OW + (top / g.sh) * g.OW + left / g.sw];
    }
  }
  x[i] = accumulate ? x[i] + s : s;
}

/// Max pooling's rule for a window element met after `best`: a larger value or a NaN
/// replaces it (PyTorch's rule: a NaN propagates, and the window's last NaN is its argmax).
template <class T>
CK_HOST_DEVICE inline bool max_pool_takes(T val, T best) {
  return val > best || val != val;  // NOLINT(misc-redundant-expression): val != val is isnan
}

/// Max-pooling output (p, oi, j) of plane p: the maximum and its flat index in the plane.
template <class T>
CK_HOST_DEVICE void max_pool_at(const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax, int64_t p, int64_t oi,
                                int64_t j) {
  const T* in = x + p * g.H * g.W;
  T best = T(0);
  PoolIndex best_at = -1;
  for (int64_t u = 0; u < g.kh; ++u) {
    const int64_t hi = oi * g.sh - g.ph + u * g.dh;
    if (hi < 0 || hi >= g.H) continue;
    for (int64_t v = 0; v < g.kw; ++v) {
      const int64_t wi = j * g.sw - g.pw + v * g.dw;
      if (wi < 0 || wi >= g.W) continue;
      const T val = in[hi * g.W + wi];
      if (best_at < 0 || max_pool_takes(val, best)) {
        best = val;
        best_at = static_cast<PoolIndex>(hi * g.W + wi);
      }
    }
  }
  const int64_t o = (p * g.OH + oi) * g.OW + j;
  y[o] = best;                      // validation guarantees every window holds a real element
  if (argmax) argmax[o] = best_at;  // null when no backward will need it
}

/// Flat-index form for a launch over N*C*OH*OW outputs.
template <class T>
CK_HOST_DEVICE void max_pool_forward(const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax, int64_t i) {
  max_pool_at(g, x, y, argmax, i / (g.OW * g.OH), (i / g.OW) % g.OH, i % g.OW);
}

/// Adds output element i's gradient at its window's maximum (gx zeroed beforehand, or
/// holding the gradient to add to).
template <class T>
CK_HOST_DEVICE void max_pool_backward(const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx, int64_t i) {
  const int64_t p = i / (g.OW * g.OH);
  CK_ATOMIC_ADD(gx + p * g.H * g.W + argmax[i], gy[i]);
}

/// Average-pooling output (p, oi, j).
template <class T>
CK_HOST_DEVICE void avg_pool_at(const Pool2dGeometry& g, const T* x, T* y, int64_t p, int64_t oi, int64_t j) {
  const AvgWindow win = avg_pool_window(g, oi, j);
  const T* in = x + p * g.H * g.W;
  T s = T(0);
  for (int64_t h = win.h0; h < win.h1; ++h)
    for (int64_t w = win.w0; w < win.w1; ++w) s += in[h * g.W + w];
  y[(p * g.OH + oi) * g.OW + j] = s / static_cast<T>(win.divisor);
}

template <class T>
CK_HOST_DEVICE void avg_pool_forward(const Pool2dGeometry& g, const T* x, T* y, int64_t i) {
  avg_pool_at(g, x, y, i / (g.OW * g.OH), (i / g.OW) % g.OH, i % g.OW);
}

/// Spreads the gradient of output (p, oi, j) over its window (gx zeroed beforehand).
template <class T>
CK_HOST_DEVICE void avg_pool_backward_at(const Pool2dGeometry& g, const T* gy, T* gx, int64_t p, int64_t oi,
                                         int64_t j) {
  const AvgWindow win = avg_pool_window(g, oi, j);
  const T share = gy[(p * g.OH + oi) * g.OW + j] / static_cast<T>(win.divisor);
  T* out = gx + p * g.H * g.W;
  for (int64_t h = win.h0; h < win.h1; ++h)
    for (int64_t w = win.w0; w < win.w1; ++w) CK_ATOMIC_ADD(out + h * g.W + w, share);
}

template <class T>
CK_HOST_DEVICE void avg_pool_backward(const Pool2dGeometry& g, const T* gy, T* gx, int64_t i) {
  avg_pool_backward_at(g, gy, gx, i / (g.OW * g.OH), (i / g.OW) % g.OH, i % g.OW);
}

/// The stable log-sum-exp loss of row n: logsumexp(row) - row[label].
template <class T>
CK_HOST_DEVICE T cross_entropy_row(int64_t K, const T* logits, const int64_t* labels, int64_t n) {
  using std::exp;
  using std::log;
  const T* row = logits + n * K;
  T m = row[0];
  for (int64_t k = 1; k < K; ++k) m = row[k] > m ? row[k] : m;
  T s = T(0);
  for (int64_t k = 0; k < K; ++k) s += exp(row[k] - m);
  return m + log(s) - row[labels[n]];
}

/// glogits of row n = per_row * (softmax(row) - onehot(label)).
template <class T>
CK_HOST_DEVICE void cross_entropy_row_grad(int64_t K, const T* logits, const int64_t* labels, T per_row, T* glogits,
                                           int64_t n) {
  using std::exp;
  const T* row = logits + n * K;
  T* g = glogits + n * K;
  T m = row[0];
  for (int64_t k = 1; k < K; ++k) m = row[k] > m ? row[k] : m;
  T s = T(0);
  for (int64_t k = 0; k < K; ++k) s += (g[k] = exp(row[k] - m));
  for (int64_t k = 0; k < K; ++k) g[k] = g[k] / s * per_row;
  g[labels[n]] -= per_row;
}

/// corr2d output element i: Y[oi, j] = sum_{u,v} X[oi+u, j+v] K[u, v].
template <class T>
CK_HOST_DEVICE void corr2d_forward(int64_t w, int64_t kh, int64_t kw, int64_t ow, const T* X, const T* K, T* Y,
                                   int64_t i) {
  const int64_t oi = i / ow, j = i % ow;
  T s = T(0);
  for (int64_t u = 0; u < kh; ++u)
    for (int64_t v = 0; v < kw; ++v) s += X[(oi + u) * w + j + v] * K[u * kw + v];
  Y[i] = s;
}

/// corr2d input gradient element i = (r, c): sum over the outputs that read X[r, c].
template <class T>
CK_HOST_DEVICE void corr2d_grad_input(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* K, const T* gY, T* gX,
                                      int64_t i) {
  const int64_t r = i / w, c = i % w, oh = h - kh + 1, ow = w - kw + 1;
  T s = T(0);
  for (int64_t u = 0; u < kh; ++u)
    for (int64_t v = 0; v < kw; ++v) {
      const int64_t oi = r - u, oj = c - v;
      if (oi >= 0 && oi < oh && oj >= 0 && oj < ow) s += gY[oi * ow + oj] * K[u * kw + v];
    }
  gX[i] = s;
}

/// corr2d kernel gradient element i = (u, v): sum over outputs of gY * the X it read.
template <class T>
CK_HOST_DEVICE void corr2d_grad_kernel(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* gY, T* gK,
                                       int64_t i) {
  const int64_t u = i / kw, v = i % kw, oh = h - kh + 1, ow = w - kw + 1;
  T s = T(0);
  for (int64_t oi = 0; oi < oh; ++oi)
    for (int64_t oj = 0; oj < ow; ++oj) s += gY[oi * ow + oj] * X[(oi + u) * w + oj + v];
  gK[i] = s;
}

// ---- adaptive average pooling

/// Output (p, oi, j) of adaptive average pooling: the mean of its bin.
template <class T>
CK_HOST_DEVICE void adaptive_avg_pool_at(const AdaptivePool2dGeometry& g, const T* x, T* y, int64_t p, int64_t oi,
                                         int64_t j) {
  const int64_t h0 = adaptive_bin_start(oi, g.H, g.OH), h1 = adaptive_bin_end(oi, g.H, g.OH);
  const int64_t w0 = adaptive_bin_start(j, g.W, g.OW), w1 = adaptive_bin_end(j, g.W, g.OW);
  const T* in = x + p * g.H * g.W;
  T s = T(0);
  for (int64_t h = h0; h < h1; ++h)
    for (int64_t w = w0; w < w1; ++w) s += in[h * g.W + w];
  y[(p * g.OH + oi) * g.OW + j] = s / static_cast<T>((h1 - h0) * (w1 - w0));
}

template <class T>
CK_HOST_DEVICE void adaptive_avg_pool_forward(const AdaptivePool2dGeometry& g, const T* x, T* y, int64_t i) {
  adaptive_avg_pool_at(g, x, y, i / (g.OW * g.OH), (i / g.OW) % g.OH, i % g.OW);
}

/// Spreads the gradient of output (p, oi, j) over its bin (gx zeroed beforehand; bins overlap
/// where H is not a multiple of OH, so the additions are atomic on a GPU).
template <class T>
CK_HOST_DEVICE void adaptive_avg_pool_backward_at(const AdaptivePool2dGeometry& g, const T* gy, T* gx, int64_t p,
                                                  int64_t oi, int64_t j) {
  const int64_t h0 = adaptive_bin_start(oi, g.H, g.OH), h1 = adaptive_bin_end(oi, g.H, g.OH);
  const int64_t w0 = adaptive_bin_start(j, g.W, g.OW), w1 = adaptive_bin_end(j, g.W, g.OW);
  const T share = gy[(p * g.OH + oi) * g.OW + j] / static_cast<T>((h1 - h0) * (w1 - w0));
  T* out = gx + p * g.H * g.W;
  for (int64_t h = h0; h < h1; ++h)
    for (int64_t w = w0; w < w1; ++w) CK_ATOMIC_ADD(out + h * g.W + w, share);
}

template <class T>
CK_HOST_DEVICE void adaptive_avg_pool_backward(const AdaptivePool2dGeometry& g, const T* gy, T* gx, int64_t i) {
  adaptive_avg_pool_backward_at(g, gy, gx, i / (g.OW * g.OH), (i / g.OW) % g.OH, i % g.OW);
}

// ---- batch normalisation
//
// saved[c] = m[c] and saved[C + c] = invstd[c] = 1 / sqrt(v[c] + eps), where m, v are the
// batch mean and biased variance in training and the running statistics in eval. Then
//   y = (x - m[c]) * (weight[c] * invstd[c]) + bias[c]
// (x - m is formed first: with a large common offset, x * scale + shift would cancel).

/// Partial sums per channel: whole blocks of kStatLanes values of a plane go to one sum
/// per position in the block, the rest of the plane to one more, and these are added at
/// the end. Independent sums let the loop run at the adder's throughput instead of its
/// latency (one add after another, 3-4 cycles each: the forward pass of the batch norm
/// after ResNet-18's stem took 20 ms on one thread, 9.5 ms with lanes); the order is
/// fixed, so a result is the same on every run.
constexpr int kStatLanes = 8;

/// sum[j] = the sum of f(x[k], y[k])[j] over channel c's values, for the `Sums` values f
/// returns (a StatValues); x, y are (N, C, inner) tensors (y may equal x).
template <int Sums, class T, class F>
CK_HOST_DEVICE void channel_sums(const BatchNormGeometry& g, const T* x, const T* y, int64_t c, F f,
                                 double (&sum)[Sums]) {
  double lane[Sums][kStatLanes] = {}, rest[Sums] = {};
  const int64_t whole = g.inner / kStatLanes * kStatLanes;
  for (int64_t n = 0; n < g.N; ++n) {
    const int64_t at = (n * g.C + c) * g.inner;
    const T* xr = x + at;
    const T* yr = y + at;
    for (int64_t k = 0; k < whole; k += kStatLanes)
      for (int l = 0; l < kStatLanes; ++l) {
        const auto v = f(static_cast<double>(xr[k + l]), static_cast<double>(yr[k + l]));
        for (int j = 0; j < Sums; ++j) lane[j][l] += v[j];
      }
    for (int64_t k = whole; k < g.inner; ++k) {
      const auto v = f(static_cast<double>(xr[k]), static_cast<double>(yr[k]));
      for (int j = 0; j < Sums; ++j) rest[j] += v[j];
    }
  }
  for (int j = 0; j < Sums; ++j) {
    double total = rest[j];
    for (int l = 0; l < kStatLanes; ++l) total += lane[j][l];
    sum[j] = total;
  }
}

/// What the function channel_sums calls returns: one value per sum.
template <int Sums>
struct StatValues {
  double v[Sums];  ///< the values
  /// Value j.
  CK_HOST_DEVICE double operator[](int j) const { return v[j]; }
};

/// Channel c's statistics, the running statistics' update (training) and saved[c], saved[C + c].
/// The batch variance is summed from the deviations from the mean, in double, so an
/// offset of 1000 loses nothing in float.
template <class T>
CK_HOST_DEVICE void batch_norm_channel(const BatchNormGeometry& g, const T* x, T* running_mean, T* running_var,
                                       bool training, double momentum, double eps, T* saved, int64_t c) {
  double mean, var;
  if (training) {
    double s[1], q[1];
    channel_sums(
        g, x, x, c, [](double v, double) { return StatValues<1>{{v}}; }, s);
    const double M = static_cast<double>(g.count());
    mean = s[0] / M;
    channel_sums(
        g, x, x, c,
        [mean](double v, double) {
          const double d = v - mean;
          return StatValues<1>{{d * d}};
        },
        q);
    var = q[0] / M;
    if (running_mean)
      running_mean[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_mean[c]) + momentum * mean);
    if (running_var)
      running_var[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_var[c]) + momentum * q[0] / (M - 1));
  } else {
    mean = static_cast<double>(running_mean[c]);
    var = static_cast<double>(running_var[c]);
  }
  using std::sqrt;
  saved[c] = static_cast<T>(mean);
  saved[g.C + c] = static_cast<T>(1 / sqrt(var + eps));
}

/// One output value of channel c: (x - m) * weight * invstd + bias.
template <class T>
CK_HOST_DEVICE T batch_norm_value(T x, T mean, T scale, T bias) {
  return (x - mean) * scale + bias;
}

/// Element i of the output (the GPU's flat launch; the CPU runs whole planes).
template <class T>
CK_HOST_DEVICE void batch_norm_apply(const BatchNormGeometry& g, const T* x, const T* weight, const T* bias,
                                     const T* saved, T* y, int64_t i) {
  const int64_t c = (i / g.inner) % g.C;
  const T scale = (weight ? weight[c] : T(1)) * saved[g.C + c];
  y[i] = batch_norm_value(x[i], saved[c], scale, bias ? bias[c] : T(0));
}

/// Channel c's sums for the backward pass: gb = sum gy, gw = sum gy * xhat (into gw, gb
/// where given), and coef[c], coef[C + c], coef[2C + c] for batch_norm_input_grad:
/// weight * invstd, and in training avg(gy) and avg(gy * xhat) (0 in eval, where the
/// statistics are constants).
template <class T>
CK_HOST_DEVICE void batch_norm_grad_channel(const BatchNormGeometry& g, const T* x, const T* weight, const T* saved,
                                            const T* gy, bool training, T* gw, T* gb, T* coef, int64_t c) {
  const double mean = static_cast<double>(saved[c]), invstd = static_cast<double>(saved[g.C + c]);
  double sums[2];
  channel_sums(
      g, gy, x, c,
      [mean, invstd](double d, double v) {
        return StatValues<2>{{d, d * (v - mean) * invstd}};
      },
      sums);
  const double sg = sums[0], sgx = sums[1];
  if (gb) gb[c] = static_cast<T>(sg);
  if (gw) gw[c] = static_cast<T>(sgx);
  const double M = static_cast<double>(g.count());
  coef[c] = static_cast<T>((weight ? static_cast<double>(weight[c]) : 1.0) * invstd);
  coef[g.C + c] = training ? static_cast<T>(sg / M) : T(0);
  coef[2 * g.C + c] = training ? static_cast<T>(sgx / M) : T(0);
}

/// One input-gradient value of channel c: weight * invstd * (gy - avg(gy) - xhat * avg(gy * xhat)).
template <class T>
CK_HOST_DEVICE T batch_norm_input_grad(T gy, T x, T mean, T invstd, T k, T avg_gy, T avg_gyx) {
  return k * (gy - avg_gy - (x - mean) * invstd * avg_gyx);
}

/// Element i of the input gradient (the GPU's flat launch).
template <class T>
CK_HOST_DEVICE void batch_norm_input_grad_at(const BatchNormGeometry& g, const T* x, const T* saved, const T* coef,
                                             const T* gy, T* gx, int64_t i) {
  const int64_t c = (i / g.inner) % g.C;
  gx[i] = batch_norm_input_grad(gy[i], x[i], saved[c], saved[g.C + c], coef[c], coef[g.C + c], coef[2 * g.C + c]);
}

}  // namespace convkit::kernels
