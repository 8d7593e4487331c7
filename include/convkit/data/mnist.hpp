#pragma once
// MNIST and Fashion-MNIST: the four standard IDX files of a folder, loaded and checked.
#include <sys/stat.h>

#include <array>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "dataset.hpp"
#include "idx.hpp"

namespace convkit::data {

enum class Split { Train, Test };

/// Where Debian's dataset-fashion-mnist package installs the real files.
inline const char* default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

inline const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                                 "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};
  return names;
}

/// An image classification set held in memory: images (N, 1, H, W) in [0, 1], labels (N);
/// a dataset (size() and get(i)) for the DataLoader.
class MnistDataset {
 public:
  /// Loads `split` from `dir`, which holds train-images-idx3-ubyte, train-labels-idx1-ubyte,
  /// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally with .gz.
  MnistDataset(const std::string& dir, Split split, std::vector<std::string> class_names = fashion_mnist_classes())
      : classes_(std::move(class_names)) {
    const std::string prefix = split == Split::Train ? "train" : "t10k";
    const std::string image_path = find(dir, prefix + "-images-idx3-ubyte");
    const std::string label_path = find(dir, prefix + "-labels-idx1-ubyte");
    const IdxArray images = read_idx(image_path, 3);
    const IdxArray labels = read_idx(label_path, 1);
    CK_CHECK(images.dims[0] == labels.dims[0], "MnistDataset: '", image_path, "' holds ", images.dims[0],
             " images but '", label_path, "' holds ", labels.dims[0], " labels");
    const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
    images_ = Tensor<float>::empty(Shape{n, 1, h, w});
    float* px = images_.data();
    for (size_t i = 0; i < images.values.size(); ++i) px[i] = static_cast<float>(images.values[i]) / 255.0f;
    labels_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t y = labels.values[static_cast<size_t>(i)];
      CK_CHECK(y < static_cast<int64_t>(classes_.size()), "MnistDataset: '", label_path, "' has label ", y,
               " at position ", i, ", outside the ", classes_.size(), " classes");
      labels_[static_cast<size_t>(i)] = y;
    }
  }

  /// The number of examples.
  int64_t size() const { return images_.size(0); }
  /// Example i: its image (1, H, W) as a view of images() and its label.
  Example<float> get(int64_t i) const {
    CK_CHECK(i >= 0 && i < size(), "MnistDataset: index ", i, " out of range for ", size(), " examples");
    return {detail::row_view(images_, i), labels_[static_cast<size_t>(i)]};
  }
  /// The images, (N, 1, H, W) floats in [0, 1].
  const Tensor<float>& images() const { return images_; }
  /// The labels, one class id per image.
  const std::vector<int64_t>& labels() const { return labels_; }
  /// The class names ("t-shirt", "trouser", ...; digits for MNIST).
  const std::vector<std::string>& class_names() const { return classes_; }
  /// Keeps only the first n examples (for quick runs and smoke tests).
  void truncate(int64_t n) {
    if (n >= size()) return;
    CK_CHECK(n > 0, "MnistDataset::truncate: n must be positive, got ", n);
    Tensor<float> kept = Tensor<float>::empty(Shape{n, images_.size(1), images_.size(2), images_.size(3)});
    std::copy(images_.data(), images_.data() + kept.numel(), kept.data());
    images_ = kept;
    labels_.resize(static_cast<size_t>(n));
  }

  /// True when `dir` holds the four files (plain or .gz).
  static bool available(const std::string& dir) {
    for (const char* f :
         {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
      if (!exists(dir + "/" + f) && !exists(dir + "/" + f + ".gz")) return false;
    return true;
  }

 private:
  static bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }
  static std::string find(const std::string& dir, const std::string& name) {
    std::string plain = dir + "/" + name;
    if (exists(plain + ".gz")) return plain + ".gz";
    if (exists(plain)) return plain;
    throw Error(convkit::detail::cat("MnistDataset: '", plain,
                                     "(.gz)' not found. Fashion-MNIST is packaged by Debian and Ubuntu: "
                                     "`sudo apt-get install dataset-fashion-mnist` puts it in ",
                                     default_fashion_mnist_dir(),
                                     "; or pass a folder holding the four standard IDX files (MNIST works too)."));
  }

  Tensor<float> images_;
  std::vector<int64_t> labels_;
  std::vector<std::string> classes_;
};

}  // namespace convkit::data
