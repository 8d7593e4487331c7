#pragma once
// Option builders of the data layer, spelled as the ops' options are:
//   ck::data::DataLoaderOptions().batch_size(256).shuffle(true).seed(0).workers(2)
//   ck::data::ImageFolderOptions().channels(1).size({28, 28})
#include <cstdint>

#include "../core/option.hpp"
#include "../ops/options.hpp"

namespace convkit::data {

/// DataLoader's options.
class DataLoaderOptions {
  /// Examples per batch (1): set, or get.
  ///@{
  CK_OPTION(DataLoaderOptions, int64_t, batch_size, 1)
  ///@}
  /// Draw a new order of the examples every epoch (false): set, or get.
  ///@{
  CK_OPTION(DataLoaderOptions, bool, shuffle, false)
  ///@}
  /// Seed of the shuffling and of the random transforms (0): set, or get.
  ///@{
  CK_OPTION(DataLoaderOptions, uint64_t, seed, 0)
  ///@}
  /// Leave out the last batch when it would be smaller than batch_size (false): set, or get.
  ///@{
  CK_OPTION(DataLoaderOptions, bool, drop_last, false)
  ///@}
  /// Background threads that assemble the next batches while the current one trains; 0
  /// assembles each batch in the calling thread when it is asked for (0): set, or get.
  ///@{
  CK_OPTION(DataLoaderOptions, int, workers, 0)
  ///@}

 public:
  /// Serve shard `index` of `count` (data-parallel training: process `index` of `count`).
  /// Every process draws the same order; each global batch of batch_size() examples is
  /// dealt out as PyTorch's DistributedSampler deals an epoch (process r takes positions r,
  /// r + count, ...), and the order is first padded to a multiple of `count` by repeating
  /// its start, so every process gets the same number of batches. (0, 1): no sharding.
  DataLoaderOptions& shard(int index, int count) {
    CK_CHECK(count >= 1 && index >= 0 && index < count, "DataLoaderOptions::shard: index ", index, " of ", count,
             " shards");
    shard_index_ = index;
    shard_count_ = count;
    return *this;
  }
  /// This process's shard.
  int shard_index() const { return shard_index_; }
  /// The number of shards.
  int shard_count() const { return shard_count_; }

 private:
  int shard_index_ = 0, shard_count_ = 1;
};

/// ImageFolder's options.
class ImageFolderOptions {
  /// Channels of every image: 1 (gray) or 3 (RGB), converted as PIL converts (3): set, or get.
  ///@{
  CK_OPTION(ImageFolderOptions, int, channels, 3)
  ///@}
  /// Resize every image to (h, w) bilinearly on load; (0, 0) keeps the files' size, which
  /// must then be the same for every image ((0, 0)): set, or get.
  ///@{
  CK_OPTION(ImageFolderOptions, Pair2, size, Pair2(0))
  ///@}
  /// Keep each image in memory once decoded (8 bits per value, before resizing: 47 MB for
  /// Fashion-MNIST's 60,000 images), so that later epochs read no file and decode nothing
  /// (false): set, or get.
  ///@{
  CK_OPTION(ImageFolderOptions, bool, cache, false)
  ///@}
};

}  // namespace convkit::data
