// The CUDA backend: host functions of api.hpp, compiled by nvcc into convkit_cuda for float
// and double. Per-element work comes from backend/kernels.hpp (shared with the CPU and the
// emulated-launch tests); GEMM is cuBLAS. Nothing here has run on a GPU in convkit's CI,
// which has none: it is compiled and linked there, and the index arithmetic is tested
// through emulated launches on the CPU.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "../../core/functors.hpp"
#include "../../optim/rules.hpp"
#include "../kernels.hpp"
#include "api.hpp"
#include "kernels.cuh"
#include "plans.hpp"

namespace convkit::backend::cuda {

bool device_available() {
  static const bool available = [] {
    if (std::getenv("CONVKIT_DISABLE_CUDA")) return false;
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  }();
  return available;
}

// ---- memory: a caching allocator (cudaMalloc and cudaFree synchronise the device)
namespace {
struct DeviceCache {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free;
  std::map<void*, size_t> sizes;
};
DeviceCache& cache() {
  static DeviceCache* c = new DeviceCache();
  return *c;
}
size_t round_size(size_t bytes) { return bytes <= 512 ? 512 : (bytes + 4095) / 4096 * 4096; }
}  // namespace

void* allocate(Device d, size_t bytes) {
  if (!device_available())
    throw Error(
        "allocate: no usable CUDA device (none present, or CONVKIT_DISABLE_CUDA is set); use ck::Device::cpu()");
  check(cudaSetDevice(d.index), "cudaSetDevice");
  const size_t size = round_size(bytes);
  auto& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.free.find(size);
  void* p = nullptr;
  if (it != c.free.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else {
    check(cudaMalloc(&p, size), "cudaMalloc");
  }
  c.sizes[p] = size;
  return p;
}

void deallocate(Device, void* p) noexcept {
  if (!p) return;
  auto& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.sizes.find(p);
  if (it == c.sizes.end()) return;
  c.free[it->second].push_back(p);
  c.sizes.erase(it);
}

void copy(Device, void* dst, Device, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "cudaMemcpy");
}

void zero(Device, void* p, size_t bytes) {
  if (bytes) check(cudaMemset(p, 0, bytes), "cudaMemset");
}

void copy_blocks(int64_t rows, size_t row_bytes, void* dst, size_t dst_pitch, const void* src, size_t src_pitch) {
  if (rows > 0 && row_bytes > 0)
    check(cudaMemcpy2D(dst, dst_pitch, src, src_pitch, row_bytes, static_cast<size_t>(rows), cudaMemcpyDefault),
          "cudaMemcpy2D");
}

namespace {
kernels::BroadcastIndexer indexer(const BroadcastPlan& p) {
  kernels::BroadcastIndexer ix;
  if (p.out.rank() > kernels::BroadcastIndexer::kMaxRank)
    throw Error(convkit::detail::cat("broadcast: rank ", p.out.rank(), " exceeds the CUDA backend's limit of ",
                                     kernels::BroadcastIndexer::kMaxRank));
  ix.rank = static_cast<int>(p.out.rank());
  for (int d = 0; d < ix.rank; ++d) {
    ix.out[d] = p.out[static_cast<size_t>(d)];
    ix.a_stride[d] = p.a_stride[static_cast<size_t>(d)];
    ix.b_stride[d] = p.b_stride[static_cast<size_t>(d)];
  }
  return ix;
}

/// Scratch device memory for one call.
template <class T>
struct DeviceBuffer {
  explicit DeviceBuffer(size_t n) : p(n ? static_cast<T*>(allocate(Device::cuda(), n * sizeof(T))) : nullptr) {}
  ~DeviceBuffer() { deallocate(Device::cuda(), p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* p;
};

cublasHandle_t blas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) throw Error("cuBLAS: cublasCreate failed");
    return h;
  }();
  return handle;
}

void check_blas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw Error(convkit::detail::cat("cuBLAS error ", static_cast<int>(s), " in ", what));
}

cublasStatus_t gemm_call(cublasOperation_t a, cublasOperation_t b, int m, int n, int k, const float* alpha,
                         const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
  return cublasSgemm(blas(), a, b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
cublasStatus_t gemm_call(cublasOperation_t a, cublasOperation_t b, int m, int n, int k, const double* alpha,
                         const double* A, int lda, const double* B, int ldb, const double* beta, double* C, int ldc) {
  return cublasDgemm(blas(), a, b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
__global__ void block_sum_kernel(int64_t n, const T* x, double* total) {
  __shared__ double partial[256];
  double s = 0;
  for (int64_t i = first_element(blockIdx.x, blockDim.x, threadIdx.x); i < n; i += grid_stride(gridDim.x, blockDim.x))
    s += static_cast<double>(x[i]);
  partial[threadIdx.x] = s;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) partial[threadIdx.x] += partial[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(total, partial[0]);
}
}  // namespace

// ---- elementwise and reductions
template <class T, class F>
void unary_map(int64_t n, const T* x, T* y, F f) {
  launch("unary_map", n, [=] __device__(int64_t i) { y[i] = f(x[i]); });
}
template <class T, class F>
void zip_map(int64_t n, const T* a, const T* b, T* y, F f) {
  launch("zip_map", n, [=] __device__(int64_t i) { y[i] = f(a[i], b[i]); });
}
template <class T, class F>
void binary_map(const BroadcastPlan& p, const T* a, const T* b, T* y, F f) {
  const auto ix = indexer(p);
  launch("binary_map", p.numel, [=] __device__(int64_t i) { kernels::binary_map(ix, a, b, y, f, i); });
}
template <class T>
void sum_to_a(const BroadcastPlan& p, const T* g, T* out) {
  const auto ix = indexer(p);
  launch("sum_to", p.numel, [=] __device__(int64_t i) { kernels::sum_to_a(ix, g, out, i); });
}
template <class T>
T sum(int64_t n, const T* x) {
  DeviceBuffer<double> total(1);
  zero(Device::cuda(), total.p, sizeof(double));
  if (n > 0) {
    const LaunchConfig cfg = launch_config(n);
    block_sum_kernel<T><<<static_cast<unsigned>(cfg.grid), 256>>>(n, x, total.p);
    check(cudaGetLastError(), "sum");
  }
  double host = 0;
  copy(Device::cpu(), &host, Device::cuda(), total.p, sizeof(double));
  return static_cast<T>(host);
}
template <class T>
void fill(int64_t n, T* x, T value) {
  launch("fill", n, [=] __device__(int64_t i) { x[i] = value; });
}
template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  launch("axpy", n, [=] __device__(int64_t i) { y[i] += alpha * x[i]; });
}
template <class T>
void add_bias(int64_t rows, int64_t channels, int64_t inner, const T* b, T* y) {
  launch("add_bias", rows * channels * inner, AddBiasBody<T>{channels, inner, b, y});
}
template <class T>
void bias_grad(int64_t rows, int64_t channels, int64_t inner, const T* gy, T* gb) {
  launch("bias_grad", channels, BiasGradBody<T>{rows, channels, inner, gy, gb});
}

// ---- linear algebra: row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (beta == T(0))
      fill(M * N, C, T(0));
    else if (beta != T(1))
      launch("gemm scale", M * N, [=] __device__(int64_t i) { C[i] *= beta; });
    return;
  }
  check_blas(gemm_call(tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(N),
                       static_cast<int>(M), static_cast<int>(K), &alpha, B, static_cast<int>(tb ? K : N), A,
                       static_cast<int>(ta ? M : K), &beta, C, static_cast<int>(N)),
             "gemm");
}

// ---- convolution
template <class T>
void corr2d_forward(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, T* Y) {
  const int64_t oh = h - kh + 1, ow = w - kw + 1;
  launch("corr2d", oh * ow, [=] __device__(int64_t i) { kernels::corr2d_forward(w, kh, kw, ow, X, K, Y, i); });
}
template <class T>
void corr2d_backward(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, const T* gY, T* gX, T* gK) {
  if (gX)
    launch("corr2d grad input", h * w,
           [=] __device__(int64_t i) { kernels::corr2d_grad_input(h, w, kh, kw, K, gY, gX, i); });
  if (gK)
    launch("corr2d grad kernel", kh * kw,
           [=] __device__(int64_t i) { kernels::corr2d_grad_kernel(h, w, kh, kw, X, gY, gK, i); });
}

namespace {
/// What the shared plans (plans.hpp) need, on the device.
struct DeviceOps {
  template <class Body>
  void launch(const char* what, int64_t n, Body body) {
    cuda::launch(what, n, body);
  }
  template <class T>
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
    cuda::gemm<T>(ta, tb, M, N, K, alpha, A, B, beta, C);
  }
  template <class T>
  void fill(int64_t n, T* x, T value) {
    cuda::fill<T>(n, x, value);
  }
  template <class T>
  T sum(int64_t n, const T* x) {
    return cuda::sum<T>(n, x);
  }
};
}  // namespace

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  DeviceOps ops;
  DeviceBuffer<T> col(g.is_pointwise() ? 0 : static_cast<size_t>(g.patch() * g.OH * g.OW));
  conv2d_forward_plan(ops, g, x, w, b, y, col.p);
}
template <class T>
void conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                     bool accumulate_gx) {
  DeviceOps ops;
  DeviceBuffer<T> col(static_cast<size_t>(g.patch() * g.OH * g.OW));
  conv2d_backward_plan(ops, g, x, w, gy, gx, gw, gb, col.p, accumulate_gx);
}

// ---- pooling
template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax) {
  DeviceOps ops;
  max_pool2d_forward_plan(ops, g, x, y, argmax);
}
template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx, bool accumulate) {
  DeviceOps ops;
  max_pool2d_backward_plan(ops, g, argmax, gy, gx, accumulate);
}
template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  DeviceOps ops;
  avg_pool2d_forward_plan(ops, g, x, y);
}
template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  DeviceOps ops;
  avg_pool2d_backward_plan(ops, g, gy, gx, accumulate);
}

template <class T>
void adaptive_avg_pool2d_forward(const AdaptivePool2dGeometry& g, const T* x, T* y) {
  DeviceOps ops;
  adaptive_avg_pool2d_forward_plan(ops, g, x, y);
}
template <class T>
void adaptive_avg_pool2d_backward(const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  DeviceOps ops;
  adaptive_avg_pool2d_backward_plan(ops, g, gy, gx, accumulate);
}

// ---- batch normalisation
template <class T>
void batch_norm_forward(const BatchNormGeometry& g, const T* x, const T* weight, const T* bias, T* running_mean,
                        T* running_var, bool training, double momentum, double eps, T* saved, T* y) {
  DeviceOps ops;
  batch_norm_forward_plan(ops, g, x, weight, bias, running_mean, running_var, training, momentum, eps, saved, y);
}
template <class T>
void batch_norm_backward(const BatchNormGeometry& g, const T* x, const T* weight, const T* saved, const T* gy,
                         bool training, T* gx, T* gw, T* gb) {
  DeviceOps ops;
  DeviceBuffer<T> coef(static_cast<size_t>(3 * g.C));
  batch_norm_backward_plan(ops, g, x, weight, saved, gy, training, gx, gw, gb, coef.p);
}

// ---- loss
template <class T>
T cross_entropy_forward(int64_t N, int64_t K, const T* logits, const int64_t* labels) {
  DeviceOps ops;
  DeviceBuffer<T> rows(static_cast<size_t>(N));
  return cross_entropy_forward_plan(ops, N, K, logits, labels, rows.p);
}
template <class T>
void cross_entropy_backward(int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale, T* glogits) {
  DeviceOps ops;
  cross_entropy_backward_plan(ops, N, K, logits, labels, scale, glogits);
}

// ---- optimizers
template <class T, class Rule>
void sgd_step(int64_t n, T* p, const T* g, T* buf, const Rule& rule) {
  const Rule r = rule;
  launch("SGD", n, [=] __device__(int64_t i) {
    T unused = T(0);
    r(p[i], g[i], buf ? buf[i] : unused);
  });
}
template <class T, class Rule>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const Rule& rule) {
  const Rule r = rule;
  launch("Adam", n, [=] __device__(int64_t i) { r(p[i], g[i], m[i], v[i]); });
}

// ---- explicit instantiations: every (type, functor) pair the ops use
#define CK_CUDA_INSTANTIATE(T)                                                                                         \
  template void unary_map<T, fn::Neg>(int64_t, const T*, T*, fn::Neg);                                                 \
  template void unary_map<T, fn::Sigmoid>(int64_t, const T*, T*, fn::Sigmoid);                                         \
  template void unary_map<T, fn::Relu>(int64_t, const T*, T*, fn::Relu);                                               \
  template void unary_map<T, fn::Tanh>(int64_t, const T*, T*, fn::Tanh);                                               \
  template void unary_map<T, fn::Pow<T>>(int64_t, const T*, T*, fn::Pow<T>);                                           \
  template void zip_map<T, fn::SigmoidGrad>(int64_t, const T*, const T*, T*, fn::SigmoidGrad);                         \
  template void zip_map<T, fn::ReluGrad>(int64_t, const T*, const T*, T*, fn::ReluGrad);                               \
  template void zip_map<T, fn::TanhGrad>(int64_t, const T*, const T*, T*, fn::TanhGrad);                               \
  template void zip_map<T, fn::PowGrad<T>>(int64_t, const T*, const T*, T*, fn::PowGrad<T>);                           \
  template void binary_map<T, fn::Add>(const BroadcastPlan&, const T*, const T*, T*, fn::Add);                         \
  template void binary_map<T, fn::Sub>(const BroadcastPlan&, const T*, const T*, T*, fn::Sub);                         \
  template void binary_map<T, fn::Mul>(const BroadcastPlan&, const T*, const T*, T*, fn::Mul);                         \
  template void binary_map<T, fn::Div>(const BroadcastPlan&, const T*, const T*, T*, fn::Div);                         \
  template void sum_to_a<T>(const BroadcastPlan&, const T*, T*);                                                       \
  template T sum<T>(int64_t, const T*);                                                                                \
  template void fill<T>(int64_t, T*, T);                                                                               \
  template void axpy<T>(int64_t, T, const T*, T*);                                                                     \
  template void add_bias<T>(int64_t, int64_t, int64_t, const T*, T*);                                                  \
  template void bias_grad<T>(int64_t, int64_t, int64_t, const T*, T*);                                                 \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, const T*, T, T*);                          \
  template void corr2d_forward<T>(int64_t, int64_t, int64_t, int64_t, const T*, const T*, T*);                         \
  template void corr2d_backward<T>(int64_t, int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, T*);          \
  template void conv2d_forward<T>(const Conv2dGeometry&, const T*, const T*, const T*, T*);                            \
  template void conv2d_backward<T>(const Conv2dGeometry&, const T*, const T*, const T*, T*, T*, T*, bool);             \
  template void max_pool2d_forward<T>(const Pool2dGeometry&, const T*, T*, PoolIndex*);                                \
  template void max_pool2d_backward<T>(const Pool2dGeometry&, const PoolIndex*, const T*, T*, bool);                   \
  template void avg_pool2d_forward<T>(const Pool2dGeometry&, const T*, T*);                                            \
  template void avg_pool2d_backward<T>(const Pool2dGeometry&, const T*, T*, bool);                                     \
  template void adaptive_avg_pool2d_forward<T>(const AdaptivePool2dGeometry&, const T*, T*);                           \
  template void adaptive_avg_pool2d_backward<T>(const AdaptivePool2dGeometry&, const T*, T*, bool);                    \
  template void batch_norm_forward<T>(const BatchNormGeometry&, const T*, const T*, const T*, T*, T*, bool, double,    \
                                      double, T*, T*);                                                                 \
  template void batch_norm_backward<T>(const BatchNormGeometry&, const T*, const T*, const T*, const T*, bool, T*, T*, \
                                       T*);                                                                            \
  template T cross_entropy_forward<T>(int64_t, int64_t, const T*, const int64_t*);                                     \
  template void cross_entropy_backward<T>(int64_t, int64_t, const T*, const int64_t*, T, T*);                          \
  template void sgd_step<T, optim::SgdRule<T>>(int64_t, T*, const T*, T*, const optim::SgdRule<T>&);                   \
  template void adam_step<T, optim::AdamRule<T>>(int64_t, T*, const T*, T*, T*, const optim::AdamRule<T>&);

CK_CUDA_INSTANTIATE(float)
CK_CUDA_INSTANTIATE(double)
template void fill<int64_t>(int64_t, int64_t*, int64_t);

}  // namespace convkit::backend::cuda
