#pragma once
// Data-parallel training over MPI (optional: include this header and link convkit::mpi,
// which -DCONVKIT_MPI=ON provides; nothing else in convkit needs MPI).
//
//   ck::distributed::ProcessGroup world(&argc, &argv);     // MPI_Init .. MPI_Finalize
//   ck::distributed::DataParallel<float> ddp(net, world);  // rank 0's weights everywhere
//   DataLoader<float> loader(set, options.shard(world.rank(), world.size()));
//   ... loss.backward(); ddp.average_gradients(); opt.step();
//
// Each process trains on its shard of every global batch; gradients are averaged over the
// processes with MPI_Iallreduce in buckets of about 4 MB, each started from backward as
// soon as its parameters' gradients are complete, so communication overlaps the rest of
// backward. Batch norm's statistics stay per process, as PyTorch's DDP keeps them by
// default. CUDA tensors are staged through host memory (MPI's CUDA awareness is not used).
// A process that leaves a ProcessGroup's scope by an exception aborts the whole job
// (MPI_Abort) with the message, so the others never wait for it.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
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
/// leaves every gradient the mean over the processes.
///
/// The parameters are grouped into buckets of about `bucket_bytes`, from the last
/// parameter to the first (the order backward completes them in). During backward(), each
/// parameter's post-accumulate-grad hook marks it ready, and a bucket whose parameters
/// are all ready is packed and its MPI_Iallreduce started at once, so communication
/// overlaps the rest of backward. Buckets start in index order on every process (MPI
/// needs one order). average_gradients() starts what backward did not (a parameter
/// without a gradient counts as zeros), waits, and writes the means back.
///
/// Accumulating gradients over several backward() calls before average_gradients() stays
/// correct: a second completion of a parameter marks the step, and average_gradients()
/// then discards what was sent early and sends the accumulated gradients.
template <class T>
class DataParallel {
 public:
  /// Broadcasts rank 0's parameters and buffers to every process and hooks the parameters.
  DataParallel(nn::Module<T>& module, const ProcessGroup& group, size_t bucket_bytes = size_t(4) << 20)
      : module_(module), group_(group), state_(std::make_shared<State>()) {
    group.broadcast_module(module);
    State& s = *state_;
    s.params = module.parameters();
    s.bucket_of.resize(s.params.size());
    s.ready.assign(s.params.size(), 0);
    const size_t bucket_values = std::max<size_t>(1, bucket_bytes / sizeof(T));
    for (size_t i = s.params.size(); i-- > 0;) {
      if (s.buckets.empty() || s.buckets.back().values >= bucket_values) s.buckets.emplace_back();
      s.buckets.back().members.push_back(i);
      s.buckets.back().values += static_cast<size_t>(s.params[i].numel());
      if (s.params[i].requires_grad()) ++s.buckets.back().trainable;
      s.bucket_of[i] = s.buckets.size() - 1;
    }
    if (group.size() == 1) return;
    for (size_t i = 0; i < s.params.size(); ++i) {
      if (!s.params[i].requires_grad()) continue;
      // A weak handle: the hook outlives this object in the parameter and then does nothing.
      std::weak_ptr<State> weak = state_;
      s.params[i].register_post_accumulate_grad_hook([weak, i](Tensor<T>&) {
        if (auto state = weak.lock()) state->mark_ready(i);
      });
    }
  }
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;
  /// Completes the allreduces a backward() started after the last average_gradients()
  /// (every process started the same ones); not while an exception unwinds, when the
  /// ProcessGroup aborts the job instead.
  ~DataParallel() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized || std::uncaught_exceptions() > 0) return;
    for (Bucket& b : state_->buckets)
      if (b.in_flight) MPI_Wait(&b.request, MPI_STATUS_IGNORE);
  }

  /// Averages every parameter's gradient over the processes: starts the buckets backward
  /// did not start, waits for all, and writes the means into the parameters' gradients.
  void average_gradients() {
    if (group_.size() == 1) return;
    State& s = *state_;
    const auto started = std::chrono::steady_clock::now();
    if (s.accumulated) {  // a bucket went out before its gradients were final: send all again
      for (Bucket& b : s.buckets) s.wait(b);
      s.next_to_start = 0;
    }
    while (s.next_to_start < s.buckets.size()) s.start(s.next_to_start++);
    for (Bucket& b : s.buckets) s.wait(b);
    NoGradGuard no_grad;
    const T scale = T(1) / static_cast<T>(group_.size());
    for (Bucket& b : s.buckets) {
      size_t offset = 0;
      for (size_t i : b.members) {
        Tensor<T>& p = s.params[i];
        const auto n = static_cast<size_t>(p.numel());
        std::vector<T> mean(b.data.begin() + static_cast<long>(offset), b.data.begin() + static_cast<long>(offset + n));
        for (T& v : mean) v *= scale;
        Tensor<T> averaged = Tensor<T>::from_vector(mean, p.shape());
        if (!p.device().is_cpu()) averaged = averaged.to(p.device());
        Tensor<T> g = p.grad();
        if (g.defined()) {
          g.copy_(averaged);
        } else {
          p.impl()->grad = averaged.impl();
        }
        offset += n;
      }
      b.ready = 0;
    }
    s.early_buckets_total += s.early_buckets;
    s.early_buckets = 0;
    s.next_to_start = 0;
    s.accumulated = false;
    std::fill(s.ready.begin(), s.ready.end(), char(0));
    s.wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ++calls_;
  }

  /// Seconds spent communicating so far: packing and starting buckets during backward,
  /// plus average_gradients() (the rest of the packing, the waiting, the unpacking).
  double communication_seconds() const { return state_->pack_seconds + state_->wait_seconds; }
  /// Seconds spent in average_gradients() so far: the communication backward did not hide.
  double exposed_seconds() const { return state_->wait_seconds; }
  /// How many buckets were started during backward (overlapping it), over all steps.
  int64_t buckets_started_in_backward() const { return state_->early_buckets_total; }
  /// The number of buckets.
  size_t bucket_count() const { return state_->buckets.size(); }
  /// The number of average_gradients() calls.
  int64_t steps() const { return calls_; }
  /// The module trained.
  nn::Module<T>& module() { return module_; }

 private:
  /// Parameters (by index) whose gradients travel in one allreduce.
  struct Bucket {
    std::vector<size_t> members;  ///< parameter indices, last parameter first
    size_t values = 0;            ///< elements in all
    size_t trainable = 0;         ///< members that require grad (the others never complete)
    size_t ready = 0;             ///< members whose gradient is complete this step
    bool in_flight = false;       ///< its allreduce has started and not been waited for
    std::vector<T> data;          ///< the packed gradients, then their sums
    MPI_Request request = MPI_REQUEST_NULL;
  };
  /// What the parameters' hooks reach (shared, so a hook outliving DataParallel is inert).
  struct State {
    std::vector<Tensor<T>> params;
    std::vector<Bucket> buckets;
    std::vector<size_t> bucket_of;
    std::vector<char> ready;
    size_t next_to_start = 0;
    bool accumulated = false;
    int64_t early_buckets = 0, early_buckets_total = 0;
    double pack_seconds = 0, wait_seconds = 0;

    void mark_ready(size_t i) {
      if (ready[i]) {  // a second backward before average_gradients(): gradients accumulate
        accumulated = true;
        return;
      }
      if (accumulated) return;
      const auto t0 = std::chrono::steady_clock::now();
      ready[i] = 1;
      ++buckets[bucket_of[i]].ready;
      while (next_to_start < buckets.size() && buckets[next_to_start].ready == buckets[next_to_start].trainable) {
        start(next_to_start++);
        ++early_buckets;
      }
      // OpenMPI advances a non-blocking collective only inside MPI calls: test the ones
      // in flight so they progress while backward computes.
      for (size_t b = 0; b < next_to_start; ++b) {
        if (!buckets[b].in_flight) continue;
        int done = 0;
        detail::check(MPI_Test(&buckets[b].request, &done, MPI_STATUS_IGNORE), "MPI_Test");
        if (done) buckets[b].in_flight = false;
      }
      pack_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    /// Packs bucket b's gradients (zeros for a parameter without one) and starts its allreduce.
    void start(size_t index) {
      Bucket& b = buckets[index];
      b.data.resize(b.values);
      size_t offset = 0;
      for (size_t i : b.members) {
        const Tensor<T> g = params[i].grad();
        const auto n = static_cast<size_t>(params[i].numel());
        if (g.defined()) {
          const Tensor<T> host = g.device().is_cpu() ? g : g.to(Device::cpu());
          std::copy(host.data(), host.data() + n, b.data.begin() + static_cast<long>(offset));
        } else {
          std::fill(b.data.begin() + static_cast<long>(offset), b.data.begin() + static_cast<long>(offset + n), T(0));
        }
        offset += n;
      }
      detail::check(MPI_Iallreduce(MPI_IN_PLACE, b.data.data(), static_cast<int>(b.data.size()), detail::mpi_type<T>(),
                                   MPI_SUM, MPI_COMM_WORLD, &b.request),
                    "MPI_Iallreduce");
      b.in_flight = true;
    }

    /// Waits for bucket b's allreduce if it is in flight.
    void wait(Bucket& b) {
      if (!b.in_flight) return;
      detail::check(MPI_Wait(&b.request, MPI_STATUS_IGNORE), "MPI_Wait");
      b.in_flight = false;
    }
  };

  nn::Module<T>& module_;
  const ProcessGroup& group_;
  std::shared_ptr<State> state_;
  int64_t calls_ = 0;
};

}  // namespace convkit::distributed
