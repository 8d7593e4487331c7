#pragma once
// Data-parallel training over MPI (optional: include this header and link convkit::mpi,
// which -DCONVKIT_MPI=ON provides; nothing else in convkit needs MPI).
//
//   ck::distributed::ProcessGroup world(&argc, &argv);     // MPI_Init .. MPI_Finalize
//   ck::distributed::DataParallel<float> ddp(net, world);  // rank 0's weights everywhere
//   DataLoader<float> loader(set, options.shard(world.rank(), world.size()));
//   ... loss.backward(); ddp.average_gradients(); opt.step();
//
// Each process trains on its shard of every global batch; after backward, gradients are
// averaged over the processes with MPI_Allreduce, in buckets of about 4 MB started one after
// another without waiting (communication overlaps the packing of the next bucket, not the
// backward pass). Batch norm's statistics stay per process, as PyTorch's DDP keeps them by
// default. CUDA tensors are staged through host memory (MPI's CUDA awareness is not used).
// A process that leaves a ProcessGroup's scope by an exception aborts the whole job
// (MPI_Abort) with the message, so the others never wait for it.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

#include "../nn/module.hpp"
#include "../tensor.hpp"

namespace convkit::distributed {

/// How allreduce combines the processes' values.
enum class ReduceOp { Sum, Mean };

namespace detail {

template <class T>
MPI_Datatype mpi_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int64_t>,
                "distributed: float, double and int64 tensors");
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  return MPI_INT64_T;
}

inline void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(convkit::detail::cat("distributed: ", what, " failed: ", std::string(text, static_cast<size_t>(length))));
}

}  // namespace detail

/// The processes of the job (MPI_COMM_WORLD). Initialises MPI unless the program already
/// has; finalises it at the end of the scope if it initialised it. Leaving the scope by
/// an exception calls MPI_Abort instead, so the job ends on every process (with the
/// exception's message printed by the rank that threw, when the caller prints it).
class ProcessGroup {
 public:
  /// Joins the job (mpirun's processes, or a job of one when started without mpirun).
  explicit ProcessGroup(int* argc = nullptr, char*** argv = nullptr) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);  // errors become ck::Error
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    exceptions_at_start_ = std::uncaught_exceptions();
  }
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;
  /// Finalises MPI (if this group initialised it), or aborts the job when an exception is
  /// leaving the scope: the other processes may be waiting for this one.
  ~ProcessGroup() {
    if (std::uncaught_exceptions() > exceptions_at_start_ && size_ > 1) {
      std::fprintf(stderr, "distributed: rank %d is leaving with an exception; ending the job on every rank\n", rank_);
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (owns_) MPI_Finalize();
  }

  /// This process's number, 0..size()-1.
  int rank() const { return rank_; }
  /// The number of processes.
  int size() const { return size_; }
  /// Waits until every process has called it.
  void barrier() const { detail::check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  /// Ends the job on every process with `message` (printed by this one) and exit code `code`.
  [[noreturn]] void abort(const std::string& message, int code = 1) const {
    std::fprintf(stderr, "rank %d: %s\n", rank_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();  // not reached
  }

  /// Replaces t's values on every process with those of process `root` (same shape everywhere).
  template <class T>
  void broadcast(Tensor<T>& t, int root = 0) const {
    std::vector<T> host = t.to_vector();
    detail::check(MPI_Bcast(host.data(), static_cast<int>(host.size()), detail::mpi_type<T>(), root, MPI_COMM_WORLD),
                  "MPI_Bcast");
    write_back(t, host);
  }
  /// Replaces t's values with their sum (or mean) over the processes.
  template <class T>
  void allreduce(Tensor<T>& t, ReduceOp op = ReduceOp::Sum) const {
    std::vector<T> host = t.to_vector();
    allreduce(host.data(), host.size(), op);
    write_back(t, host);
  }
  /// Sums (or averages) n values in place over the processes.
  template <class T>
  void allreduce(T* values, size_t n, ReduceOp op = ReduceOp::Sum) const {
    detail::check(
        MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(n), detail::mpi_type<T>(), MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
    if (op == ReduceOp::Mean)
      for (size_t i = 0; i < n; ++i) values[i] /= static_cast<T>(size_);
  }
  /// Every parameter and buffer of `module` set to process `root`'s.
  template <class T>
  void broadcast_module(nn::Module<T>& module, int root = 0) const {
    NoGradGuard no_grad;
    for (auto& [name, p] : module.named_parameters()) broadcast(p, root);
    for (auto& [name, b] : module.named_buffers()) broadcast(b, root);
  }

 private:
  template <class T>
  static void write_back(Tensor<T>& t, const std::vector<T>& host) {
    if (t.device().is_cpu()) {
      std::copy(host.begin(), host.end(), t.data());
    } else {
      NoGradGuard no_grad;
      t.copy_(Tensor<T>::from_vector(host, t.shape()).to(t.device()));
    }
  }

  int rank_ = 0, size_ = 1;
  bool owns_ = false;
  int exceptions_at_start_ = 0;
};

/// Data-parallel training of `module` over a ProcessGroup: the constructor gives every
/// process rank 0's parameters and buffers; average_gradients(), called after backward(),
/// averages the gradients over the processes in buckets of about `bucket_bytes`.
template <class T>
class DataParallel {
 public:
  /// Broadcasts rank 0's parameters and buffers to every process.
  DataParallel(nn::Module<T>& module, const ProcessGroup& group, size_t bucket_bytes = size_t(4) << 20)
      : module_(module), group_(group), bucket_values_(std::max<size_t>(1, bucket_bytes / sizeof(T))) {
    group.broadcast_module(module);
  }

  /// Averages every parameter's gradient over the processes (a parameter without a
  /// gradient counts as zeros). Buckets are filled from the last parameter to the first,
  /// the order backward finishes them in, and each bucket's allreduce starts as soon as
  /// it is packed (MPI_Iallreduce), overlapping the packing of the next.
  void average_gradients() {
    if (group_.size() == 1) return;
    const auto started = std::chrono::steady_clock::now();
    std::vector<Tensor<T>> params = module_.parameters();
    std::vector<std::vector<T>> buckets;
    std::vector<std::vector<size_t>> members;
    std::vector<MPI_Request> requests;
    buckets.reserve(params.size());
    for (size_t i = params.size(); i-- > 0;) {
      if (buckets.empty() || buckets.back().size() >= bucket_values_) {
        if (!buckets.empty()) start(buckets.back(), requests);
        buckets.emplace_back();
        members.emplace_back();
      }
      const Tensor<T> g = params[i].grad();
      std::vector<T> values =
          g.defined() ? g.to_vector() : std::vector<T>(static_cast<size_t>(params[i].numel()), T(0));
      buckets.back().insert(buckets.back().end(), values.begin(), values.end());
      members.back().push_back(i);
    }
    if (!buckets.empty()) start(buckets.back(), requests);
    detail::check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    NoGradGuard no_grad;
    const T scale = T(1) / static_cast<T>(group_.size());
    for (size_t b = 0; b < buckets.size(); ++b) {
      size_t offset = 0;
      for (size_t i : members[b]) {
        Tensor<T>& p = params[i];
        const auto n = static_cast<size_t>(p.numel());
        std::vector<T> mean(buckets[b].begin() + static_cast<long>(offset),
                            buckets[b].begin() + static_cast<long>(offset + n));
        for (T& v : mean) v *= scale;
        Tensor<T> averaged = Tensor<T>::from_vector(mean, p.shape());
        Tensor<T> g = p.grad();
        if (g.defined()) {
          g.copy_(p.device().is_cpu() ? averaged : averaged.to(p.device()));
        } else {
          p.impl()->grad = (p.device().is_cpu() ? averaged : averaged.to(p.device())).impl();
        }
        offset += n;
      }
    }
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ++calls_;
  }
  /// Seconds spent in average_gradients() so far (packing, communication, unpacking), and
  /// how many times it ran.
  double communication_seconds() const { return seconds_; }
  /// The number of average_gradients() calls.
  int64_t steps() const { return calls_; }
  /// The module trained.
  nn::Module<T>& module() { return module_; }

 private:
  void start(std::vector<T>& bucket, std::vector<MPI_Request>& requests) const {
    requests.emplace_back();
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, bucket.data(), static_cast<int>(bucket.size()), detail::mpi_type<T>(),
                                 MPI_SUM, MPI_COMM_WORLD, &requests.back()),
                  "MPI_Iallreduce");
  }

  nn::Module<T>& module_;
  const ProcessGroup& group_;
  size_t bucket_values_;
  double seconds_ = 0;
  int64_t calls_ = 0;
};

}  // namespace convkit::distributed
