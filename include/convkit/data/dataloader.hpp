#pragma once
// DataLoader: mini-batches over any dataset (size() and get(i)), reshuffled every epoch
// from a seed, with per-example and per-batch transforms, and optional worker threads that
// assemble the next batches while the current one trains.
#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/generator.hpp"
#include "../core/tensor.hpp"
#include "dataset.hpp"
#include "options.hpp"
#include "transforms.hpp"

namespace convkit::data {

/// One mini-batch: inputs, labels as a tensor, and the same labels on the host.
template <class T>
struct Batch {
  Tensor<T> x;                  ///< (B, ...): (B, C, H, W) for images
  Tensor<int64_t> y;            ///< (B)
  std::vector<int64_t> labels;  ///< the same labels on the host
  /// The number of examples in the batch.
  int64_t size() const { return x.size(0); }
};

namespace detail {

/// A 64-bit mix (splitmix64's finaliser): seeds for the random transforms, one per
/// (seed, epoch, position), so they do not depend on which thread assembles what.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
inline uint64_t stream_seed(uint64_t seed, uint64_t epoch, uint64_t kind, uint64_t position) {
  return mix64(mix64(mix64(seed + 0x9E3779B97F4A7C15ULL * (kind + 1)) ^ epoch) ^ position);
}

/// `describe(i)` of a dataset that has one (ImageFolder names the file), else "#i".
template <class D>
auto describe_example(const D& d, int64_t i, int) -> decltype(std::string(d.describe(i))) {
  return d.describe(i);
}
template <class D>
std::string describe_example(const D&, int64_t i, long) {  // NOLINT(google-runtime-int): overload rank only
  return convkit::detail::cat("#", i);
}

}  // namespace detail

/// Iterates over a dataset in batches. P is the element type of the batches (float or
/// double: any dataset converts) or a dataset type (the batches then have its examples'
/// element type); `DataLoader loader(dataset, options)` deduces the second form.
///
/// Each epoch (each begin()) serves every example exactly once (the last batch may be
/// smaller unless drop_last); with shuffle, the order is drawn from a generator seeded by
/// options.seed(), so a run is reproducible, whatever the number of workers. A dataset
/// passed as an lvalue must outlive the loader; a temporary is moved into it.
///
/// With workers(n > 0), n threads call the dataset's get() (concurrently: it must be safe
/// to call from several threads, as MnistDataset's, TensorDataset's and ImageFolder's are)
/// and assemble up to 2n batches ahead. An exception thrown while assembling a batch is
/// rethrown in the calling thread when that batch is asked for; no partial batch is served.
template <class P>
class DataLoader {
 public:
  /// The element type of the batches.
  using T = typename detail::loader_scalar<P>::type;
  static_assert(std::is_floating_point_v<T>, "DataLoader<P>: P must be float, double or a dataset type");

  /// A loader over `dataset` (any type with size() and get(i); see dataset.hpp). Throws
  /// ck::Error unless batch_size > 0 and workers >= 0.
  template <class Dataset, class = std::enable_if_t<detail::is_dataset<std::remove_reference_t<Dataset>>::value>>
  explicit DataLoader(Dataset&& dataset, const DataLoaderOptions& options = DataLoaderOptions())
      : state_(std::make_unique<State>()) {
    CK_CHECK(options.batch_size() > 0, "DataLoader: batch size must be positive, got ", options.batch_size());
    CK_CHECK(options.workers() >= 0 && options.workers() <= 256, "DataLoader: workers must be in [0, 256], got ",
             options.workers());
    auto held = hold(std::forward<Dataset>(dataset));
    State& s = *state_;
    s.options = options;
    s.size = static_cast<int64_t>(held->size());
    if (s.size < 0)  // (an if, not CK_CHECK: nvcc's front end miscompiles the macro in this constructor)
      throw Error(convkit::detail::cat("DataLoader: the dataset's size() is negative (", s.size, ")"));
    s.get = [held](int64_t i) { return convert(held->get(i), held.get(), i); };
    s.describe = [held](int64_t i) { return detail::describe_example(*held, i, 0); };
    s.shuffle_gen.seed(options.seed());
    CK_CHECK(options.batch_size() >= options.shard_count(), "DataLoader: a batch of ", options.batch_size(),
             " examples cannot be shared by ", options.shard_count(), " shards");
    s.order.resize(static_cast<size_t>(s.size));
    std::iota(s.order.begin(), s.order.end(), int64_t(0));
    for (size_t i = 0; static_cast<int64_t>(s.order.size()) < s.total(); ++i) s.order.push_back(s.order[i]);
  }
  /// DataLoader(dataset, DataLoaderOptions().batch_size(batch_size).shuffle(shuffle).seed(seed)).
  template <class Dataset, class = std::enable_if_t<detail::is_dataset<std::remove_reference_t<Dataset>>::value>>
  DataLoader(Dataset&& dataset, int64_t batch_size, bool shuffle, uint64_t seed = 0)
      : DataLoader(std::forward<Dataset>(dataset),
                   DataLoaderOptions().batch_size(batch_size).shuffle(shuffle).seed(seed)) {}

  /// Takes over `other`'s dataset, position and workers.
  DataLoader(DataLoader&&) noexcept = default;
  /// Stops this loader's workers, then takes over `other`'s.
  DataLoader& operator=(DataLoader&& other) noexcept {
    if (state_) state_->stop_workers();
    state_ = std::move(other.state_);
    return *this;
  }
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  /// Stops and joins the workers.
  ~DataLoader() {
    if (state_) state_->stop_workers();
  }

  /// Applies `t` to every example (after resize()), e.g. transforms::random_crop.
  DataLoader& transform(Transform t) {
    state_->stop_workers();
    state_->per_example = std::move(t);
    return *this;
  }
  /// Applies `t` to every assembled batch (B, ...), e.g. transforms::normalize.
  DataLoader& batch_transform(Transform t) {
    state_->stop_workers();
    state_->per_batch = std::move(t);
    return *this;
  }
  /// Serves the images resized to h x w (bilinear), an example at a time: d2l resizes
  /// Fashion-MNIST to 224 x 224 for AlexNet, which for the whole set would take 12 GB.
  DataLoader& resize(int64_t h, int64_t w) {
    CK_CHECK(h > 0 && w > 0, "DataLoader: resize needs a positive size, got ", h, "x", w);
    state_->stop_workers();
    state_->resize = transforms::resize(h, w);
    return *this;
  }

  /// Batches per epoch: a smaller last one counts unless drop_last.
  int64_t num_batches() const { return state_->num_batches(); }
  /// The batch size.
  int64_t batch_size() const { return state_->options.batch_size(); }
  /// The number of examples in the dataset.
  int64_t dataset_size() const { return state_->size; }
  /// The options.
  const DataLoaderOptions& options() const { return state_->options; }
  /// The number of epochs begun (begin() calls).
  uint64_t epoch() const { return state_->epoch; }

  /// An input iterator over one epoch's batches.
  class Iterator {
   public:
    /// The iterator at batch `index` of the current epoch.
    Iterator(const DataLoader* loader, int64_t index) : loader_(loader), index_(index) {}
    /// The current batch (assembled now, or taken from the workers).
    Batch<T> operator*() const { return loader_->state_->fetch(index_); }
    /// Moves to the next batch.
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    /// True while not at the same batch as `other`.
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    const DataLoader* loader_;
    int64_t index_;
  };

  /// Starts an epoch: reshuffles when shuffling is on, and starts the workers.
  Iterator begin() {
    state_->start_epoch();
    return Iterator(this, 0);
  }
  /// The end of the epoch.
  Iterator end() const { return Iterator(this, num_batches()); }

  /// Passes over `n` epochs without serving them: the shuffle and the random transforms
  /// then go on as if those epochs had run, so a run resumed after epoch n sees the
  /// orders the uninterrupted run would have seen.
  void skip_epochs(uint64_t n) {
    state_->stop_workers();
    for (uint64_t i = 0; i < n; ++i) state_->draw_order();
  }

  /// Batch number b of the current epoch, assembled in the calling thread.
  Batch<T> make_batch(int64_t b) const {
    CK_CHECK(b >= 0 && b < num_batches(), "DataLoader: batch ", b, " out of range for ", num_batches(),
             " batches per epoch");
    return state_->assemble(b);
  }
  /// The example indices of the current epoch, in the order they are served.
  const std::vector<int64_t>& order() const { return state_->order; }

 private:
  /// A dataset passed as an lvalue: the caller's object, not owned.
  template <class D>
  static std::shared_ptr<D> hold(D& dataset) {
    return std::shared_ptr<D>(std::shared_ptr<D>(), &dataset);
  }
  /// A temporary dataset: moved into the loader.
  template <class D, class = std::enable_if_t<!std::is_lvalue_reference_v<D>>>
  static std::shared_ptr<D> hold(D&& dataset) {
    return std::make_shared<D>(std::forward<D>(dataset));
  }

  /// One example of a dataset's type converted to Example<T>.
  template <class E, class D>
  static Example<T> convert(const E& e, const D* dataset, int64_t i) {
    const auto& x = detail::example_input(e);
    using U = typename std::decay_t<decltype(x)>::value_type;
    CK_CHECK(x.defined() && x.device().is_cpu(), "DataLoader: example ", detail::describe_example(*dataset, i, 0),
             " is not a defined CPU tensor");
    Example<T> out;
    out.y = detail::example_label(e);
    if constexpr (std::is_same_v<U, T>) {
      out.x = x;
    } else {
      out.x = Tensor<T>::empty(x.shape());
      std::transform(x.data(), x.data() + x.numel(), out.x.data(), [](U v) { return static_cast<T>(v); });
    }
    return out;
  }

  /// Everything the workers share with the loader, behind one pointer so the loader moves.
  struct State {
    std::function<Example<T>(int64_t)> get;
    std::function<std::string(int64_t)> describe;
    int64_t size = 0;
    DataLoaderOptions options;
    Transform resize, per_example, per_batch;
    Generator shuffle_gen;
    std::vector<int64_t> order;
    uint64_t epoch = 0;

    // The workers' queue: batches [consumed, consumed + window) may be assembled ahead.
    /// A batch a worker finished, or the exception it raised.
    struct Slot {
      Batch<T> batch;            ///< the batch, when there is no error
      std::exception_ptr error;  ///< what assembling it threw
    };
    std::vector<std::thread> threads;
    std::mutex mutex;
    std::condition_variable changed;
    int64_t next_claim = 0, consumed = 0;
    bool stopping = false;
    std::map<int64_t, Slot> ready;

    /// Examples per epoch over all shards: the dataset's size, padded to a multiple of the
    /// shard count.
    int64_t total() const {
      const int64_t k = options.shard_count();
      return size == 0 ? 0 : (size + k - 1) / k * k;
    }
    int64_t num_batches() const {
      const int64_t b = options.batch_size();
      return options.drop_last() ? total() / b : (total() + b - 1) / b;
    }

    /// Counts an epoch and draws its order.
    void draw_order() {
      ++epoch;
      order.resize(static_cast<size_t>(size));
      std::iota(order.begin(), order.end(), int64_t(0));
      if (options.shuffle())  // Fisher-Yates with the seeded generator: the same seed, the same epochs
        for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[shuffle_gen.below(i)]);
      for (size_t i = 0; static_cast<int64_t>(order.size()) < total(); ++i) order.push_back(order[i]);  // shards
    }

    void start_epoch() {
      stop_workers();
      draw_order();
      next_claim = consumed = 0;
      stopping = false;
      ready.clear();
      for (int w = 0; w < options.workers(); ++w) threads.emplace_back([this] { work(); });
    }

    void stop_workers() {
      {
        std::lock_guard<std::mutex> lock(mutex);
        stopping = true;
      }
      changed.notify_all();
      for (std::thread& t : threads) t.join();
      threads.clear();
      ready.clear();
    }

    void work() {
      const int64_t window = 2 * static_cast<int64_t>(options.workers());
      for (;;) {
        int64_t b = 0;
        {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait(lock, [&] { return stopping || next_claim >= num_batches() || next_claim < consumed + window; });
          if (stopping || next_claim >= num_batches()) return;
          b = next_claim++;
        }
        Slot slot;
        try {
          slot.batch = assemble(b);
        } catch (...) {
          slot.error = std::current_exception();
        }
        {
          std::lock_guard<std::mutex> lock(mutex);
          ready.emplace(b, std::move(slot));
        }
        changed.notify_all();
      }
    }

    /// Batch b of the epoch: from the workers when there are some, else assembled now.
    Batch<T> fetch(int64_t b) {
      CK_CHECK(b >= 0 && b < num_batches(), "DataLoader: batch ", b, " out of range for ", num_batches(),
               " batches per epoch");
      if (threads.empty()) return assemble(b);
      std::unique_lock<std::mutex> lock(mutex);
      if (b < consumed || (b >= next_claim && b >= consumed + 2 * static_cast<int64_t>(options.workers()))) {
        lock.unlock();  // asked again, or far ahead: not the workers' order, so assemble it here
        return assemble(b);
      }
      consumed = b;
      changed.notify_all();
      changed.wait(lock, [&] { return ready.count(b) > 0; });
      Slot slot = std::move(ready.at(b));
      ready.erase(b);
      consumed = b + 1;
      lock.unlock();
      changed.notify_all();
      if (slot.error) std::rethrow_exception(slot.error);
      return std::move(slot.batch);
    }

    /// A generator for transforms that draw nothing (seeding one per example would cost a
    /// microsecond each).
    static Generator& unused_generator() {
      thread_local Generator gen;
      return gen;
    }

    /// Assembles batch b of the current order (any thread).
    Batch<T> assemble(int64_t b) const {
      // Positions in the epoch's order: the global batch's, or this shard's share of them.
      const int64_t global_start = b * options.batch_size();
      const int64_t global_end = std::min(global_start + options.batch_size(), total());
      std::vector<int64_t> positions;
      for (int64_t p = global_start + options.shard_index(); p < global_end; p += options.shard_count())
        positions.push_back(p);
      const auto count = static_cast<int64_t>(positions.size());
      Batch<T> batch;
      batch.labels.resize(static_cast<size_t>(count));
      batch.y = Tensor<int64_t>::empty(Shape{count});
      int64_t per = 0, first = 0;
      Shape example_shape;
      for (int64_t i = 0; i < count; ++i) {
        const int64_t position = positions[static_cast<size_t>(i)];
        const int64_t index = order[static_cast<size_t>(position)];
        Example<T> e = get(index);
        Tensor<T> x = e.x;
        if (resize) x = resize(x, unused_generator());
        if (per_example) {
          Generator gen(detail::stream_seed(options.seed(), epoch, 0, static_cast<uint64_t>(position)));
          x = per_example(x, gen);
        }
        if (i == 0) {
          example_shape = x.shape();
          example_shape.insert(0, count);
          batch.x = Tensor<T>::empty(example_shape);
          example_shape = x.shape();
          per = x.numel();
          first = index;
        } else {
          CK_CHECK(x.shape() == example_shape, "DataLoader: example ", describe(index), " has shape ", x.shape().str(),
                   " but example ", describe(first), " in the same batch has ", example_shape.str(),
                   " (resize the images, or give ImageFolder a size)");
        }
        CK_CHECK(e.y >= 0, "DataLoader: example ", describe(index), " has the negative label ", e.y);
        std::copy(x.data(), x.data() + per, batch.x.data() + i * per);
        batch.labels[static_cast<size_t>(i)] = e.y;
        batch.y.data()[i] = e.y;
      }
      if (per_batch && count > 0) {
        Generator gen(detail::stream_seed(options.seed(), epoch, 1, static_cast<uint64_t>(b)));
        batch.x = per_batch(batch.x, gen);
      }
      return batch;
    }
  };

  std::unique_ptr<State> state_;
};

/// `DataLoader loader(dataset, options)` is a loader of dataset's own element type.
template <class Dataset, class = std::enable_if_t<detail::is_dataset<std::remove_reference_t<Dataset>>::value>>
DataLoader(Dataset&&, const DataLoaderOptions&) -> DataLoader<std::remove_cv_t<std::remove_reference_t<Dataset>>>;
template <class Dataset, class = std::enable_if_t<detail::is_dataset<std::remove_reference_t<Dataset>>::value>>
DataLoader(Dataset&&) -> DataLoader<std::remove_cv_t<std::remove_reference_t<Dataset>>>;

}  // namespace convkit::data
