#pragma once
// DataLoader: mini-batches over an in-memory dataset, reshuffled every epoch from a seed.
#include <algorithm>
#include <numeric>
#include <type_traits>
#include <vector>

#include "../core/generator.hpp"
#include "../core/tensor.hpp"
#include "mnist.hpp"
#include "resize.hpp"

namespace convkit::data {

/// One mini-batch: images, labels as a tensor, and the same labels on the host.
template <class T>
struct Batch {
  Tensor<T> x;                  ///< (B, C, H, W)
  Tensor<int64_t> y;            ///< (B)
  std::vector<int64_t> labels;  ///< the same labels on the host
  /// The number of examples in the batch.
  int64_t size() const { return x.size(0); }
};

/// Iterates over a dataset in batches of `batch_size` (the last one may be smaller). With
/// shuffle, each epoch (each begin()) draws a new order from the generator seeded by
/// `seed`, so a run is reproducible. Only one batch is copied at a time.
template <class T>
class DataLoader {
 public:
  /// A loader over `dataset` (which must outlive it); throws ck::Error unless batch_size > 0.
  DataLoader(const MnistDataset& dataset, int64_t batch_size, bool shuffle, uint64_t seed = 0)
      : dataset_(&dataset), batch_size_(batch_size), shuffle_(shuffle), gen_(seed) {
    CK_CHECK(batch_size > 0, "DataLoader: batch size must be positive, got ", batch_size);
    order_.resize(static_cast<size_t>(dataset.size()));
  }

  /// Batches per epoch, counting a smaller last one.
  int64_t num_batches() const { return (dataset_->size() + batch_size_ - 1) / batch_size_; }
  /// The batch size.
  int64_t batch_size() const { return batch_size_; }
  /// The dataset batches come from.
  const MnistDataset& dataset() const { return *dataset_; }
  /// Serves the images resized to h x w (bilinear), a batch at a time: d2l resizes
  /// Fashion-MNIST to 224 x 224 for AlexNet, which for the whole set would take 12 GB.
  DataLoader& resize(int64_t h, int64_t w) {
    CK_CHECK(h > 0 && w > 0, "DataLoader: resize needs a positive size, got ", h, "x", w);
    resize_h_ = h;
    resize_w_ = w;
    resize_fn_ = &resize_bilinear;
    return *this;
  }

  /// An input iterator over one epoch's batches; each dereference assembles a batch.
  class Iterator {
   public:
    /// The iterator at batch `index` of the current epoch.
    Iterator(const DataLoader* loader, int64_t index) : loader_(loader), index_(index) {}
    /// Assembles the current batch.
    Batch<T> operator*() const { return loader_->make_batch(index_); }
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

  /// Starts an epoch: reshuffles when shuffling is on.
  Iterator begin() {
    std::iota(order_.begin(), order_.end(), int64_t(0));
    if (shuffle_)  // Fisher-Yates with the seeded generator: the same seed, the same epochs
      for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[gen_.below(i)]);
    return Iterator(this, 0);
  }
  /// The end of the epoch.
  Iterator end() const { return Iterator(this, num_batches()); }

  /// Batch number b of the current epoch's order.
  Batch<T> make_batch(int64_t b) const {
    const int64_t n = dataset_->size(), start = b * batch_size_;
    const int64_t count = std::min(batch_size_, n - start);
    const Tensor<float>& images = dataset_->images();
    const int64_t per = images.numel() / n;
    Shape shape = images.shape();  // (N, C, H, W)
    shape[0] = count;
    const int64_t C = shape[1], H = shape[2], W = shape[3];
    if (resize_fn_) {
      shape[2] = resize_h_;
      shape[3] = resize_w_;
    }
    const int64_t out_per = C * shape[2] * shape[3];
    Batch<T> batch{Tensor<T>::empty(shape), Tensor<int64_t>::empty(Shape{count}), {}};
    batch.labels.resize(static_cast<size_t>(count));
    // A float batch is resized in place; other types go through a float image.
    std::vector<float> resized(resize_fn_ && !std::is_same_v<T, float> ? static_cast<size_t>(out_per) : 0);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t src = order_[static_cast<size_t>(start + i)];
      const float* from = images.data() + src * per;
      T* to = batch.x.data() + i * out_per;
      if (!resize_fn_) {
        std::copy(from, from + per, to);
      } else if constexpr (std::is_same_v<T, float>) {
        resize_fn_(from, C, H, W, to, resize_h_, resize_w_);
      } else {
        resize_fn_(from, C, H, W, resized.data(), resize_h_, resize_w_);
        std::copy(resized.begin(), resized.end(), to);
      }
      batch.labels[static_cast<size_t>(i)] = dataset_->labels()[static_cast<size_t>(src)];
      batch.y.data()[i] = batch.labels[static_cast<size_t>(i)];
    }
    return batch;
  }
  /// The example indices of the current epoch, in the order they are served.
  const std::vector<int64_t>& order() const { return order_; }

 private:
  const MnistDataset* dataset_;
  int64_t batch_size_;
  bool shuffle_;
  Generator gen_;
  std::vector<int64_t> order_;
  int64_t resize_h_ = 0, resize_w_ = 0;  ///< the size resize() asked for
  /// resize_bilinear once resize() is called, else null (the images' own size). Through a pointer, so that a program
  /// that never resizes does not compile it (0.3 G compiler instructions in a LeNet program).
  void (*resize_fn_)(const float*, int64_t, int64_t, int64_t, float*, int64_t, int64_t) = nullptr;
};

}  // namespace convkit::data
