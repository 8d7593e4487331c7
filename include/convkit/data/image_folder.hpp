#pragma once
// ImageFolder: a folder of class folders of images, the layout torchvision's ImageFolder
// reads, so one folder serves both: root/<class>/<image>.png|.jpg|.jpeg|.bmp (subfolders of a
// class folder included). Classes are sorted by folder name and numbered 0..K-1. Images
// are decoded when the loader asks for them (on its workers when it has some).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "image.hpp"
#include "options.hpp"
#include "resize.hpp"

namespace convkit::data {

/// One image file of an ImageFolder and its class.
struct ImageFile {
  std::string path;   ///< the file
  int64_t label = 0;  ///< the index of its class folder
};

/// The images under root/\<class name\>/ as a dataset of (channels, h, w) tensors in [0, 1].
template <class T>
class ImageFolder {
 public:
  /// Lists root's class folders and their image files (nothing is decoded yet, except
  /// the first image's header when no size is set). Throws ck::Error when root is not a
  /// folder, has no class folders, or a class folder holds no image.
  explicit ImageFolder(const std::string& root, const ImageFolderOptions& options = ImageFolderOptions())
      : root_(root), options_(options) {
    namespace fs = std::filesystem;
    CK_CHECK(options.channels() == 1 || options.channels() == 3, "ImageFolder: channels must be 1 or 3, got ",
             options.channels());
    const Pair2 size = options.size();
    CK_CHECK((size.h == 0 && size.w == 0) ||
                 (size.h > 0 && size.w > 0 && size.h <= max_image_side && size.w <= max_image_side),
             "ImageFolder: size must be (0, 0) (keep the files' size) or positive and at most ", max_image_side,
             ", got ", size.h, "x", size.w);
    std::error_code ec;
    CK_CHECK(fs::is_directory(root, ec), "ImageFolder: '", root, "' is not a folder");
    std::vector<fs::path> class_dirs;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec)) class_dirs.push_back(it->path());
    CK_CHECK(!ec, "ImageFolder: cannot list '", root, "': ", ec.message());
    CK_CHECK(!class_dirs.empty(), "ImageFolder: '", root,
             "' has no class folders (expected root/<class name>/<image>.png|.jpg|.jpeg|.bmp)");
    std::sort(class_dirs.begin(), class_dirs.end());
    for (const fs::path& dir : class_dirs) {
      const auto label = static_cast<int64_t>(classes_.size());
      classes_.push_back(dir.filename().string());
      std::vector<std::string> files;
      for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
           !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) continue;
        if (is_image_name(it->path())) {
          files.push_back(it->path().string());
        } else {
          skipped_.push_back(it->path().string());
        }
      }
      CK_CHECK(!ec, "ImageFolder: cannot list '", dir.string(), "': ", ec.message());
      CK_CHECK(!files.empty(), "ImageFolder: class folder '", dir.string(),
               "' holds no image (.png, .jpg, .jpeg or .bmp); remove it or add images");
      std::sort(files.begin(), files.end());
      for (std::string& f : files) samples_.push_back({std::move(f), label});
    }
    if (options.cache()) cache_ = std::make_shared<Cache>(samples_.size());
    if (size.h == 0) {  // every image must have the first one's size: read it now
      const Pixels first = read_pixels(samples_.front().path, options.channels());
      height_ = first.height;
      width_ = first.width;
    } else {
      height_ = size.h;
      width_ = size.w;
    }
  }

  /// The number of images.
  int64_t size() const { return static_cast<int64_t>(samples_.size()); }
  /// Image i, decoded, converted to the options' channels and resized, with its label.
  /// Throws ck::Error naming the file when it cannot be read or decoded, or (without a
  /// size in the options) when its size differs from the first image's.
  Example<T> get(int64_t i) const {
    CK_CHECK(i >= 0 && i < size(), "ImageFolder: index ", i, " out of range for ", size(), " images");
    const ImageFile& file = samples_[static_cast<size_t>(i)];
    const Pixels* cached = cache_ ? cache_->find(static_cast<size_t>(i)) : nullptr;
    Tensor<T> image;
    if (cached) {
      image = pixels_to_tensor<T>(*cached);
    } else {
      Pixels px = read_pixels(file.path, options_.channels());
      image = pixels_to_tensor<T>(px);
      if (cache_) cache_->store(static_cast<size_t>(i), std::move(px));
    }
    const int64_t h = image.size(1), w = image.size(2);
    if (h != height_ || w != width_) {
      CK_CHECK(options_.size().h != 0, "ImageFolder: '", file.path, "' is ", w, "x", h, " pixels but '",
               samples_.front().path, "' is ", width_, "x", height_,
               "; images of different sizes need ImageFolderOptions().size({h, w}) to resize them");
      Tensor<T> resized = Tensor<T>::empty(Shape{image.size(0), height_, width_});
      resize_bilinear(image.data(), image.size(0), h, w, resized.data(), height_, width_);
      image = resized;
    }
    return {image, file.label};
  }
  /// The path of image i (the loader names it in errors).
  std::string describe(int64_t i) const {
    return i >= 0 && i < size() ? "'" + samples_[static_cast<size_t>(i)].path + "'" : std::string();
  }

  /// The class names, sorted: label k is classes()[k].
  const std::vector<std::string>& classes() const { return classes_; }
  /// Every image file with its label, in label order, then path order.
  const std::vector<ImageFile>& samples() const { return samples_; }
  /// Files under the class folders that are not images by their extension (left out, as
  /// torchvision leaves them out).
  const std::vector<std::string>& skipped() const { return skipped_; }
  /// The folder.
  const std::string& root() const { return root_; }
  /// The (channels, height, width) of every example.
  Shape example_shape() const { return Shape{options_.channels(), height_, width_}; }

  /// True for the extensions ImageFolder reads: .png, .jpg, .jpeg, .bmp (any case).
  static bool is_image_name(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
  }

 private:
  /// Decoded images by index, filled as they are first loaded (from any thread: one
  /// thread claims a slot, fills it, then publishes it; readers see only published ones).
  struct Cache {
    explicit Cache(size_t n) : pixels(n), state(new std::atomic<int>[n]) {
      for (size_t i = 0; i < n; ++i) state[i].store(0, std::memory_order_relaxed);
    }
    const Pixels* find(size_t i) const { return state[i].load(std::memory_order_acquire) == 2 ? &pixels[i] : nullptr; }
    void store(size_t i, Pixels&& px) {
      int empty = 0;
      if (!state[i].compare_exchange_strong(empty, 1, std::memory_order_acquire)) return;  // another thread has it
      pixels[i] = std::move(px);
      state[i].store(2, std::memory_order_release);
    }
    std::vector<Pixels> pixels;
    std::unique_ptr<std::atomic<int>[]> state;  ///< 0 empty, 1 being filled, 2 ready
  };

  std::shared_ptr<Cache> cache_;  ///< with options.cache(); shared by copies (same files, same options)
  std::string root_;
  ImageFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<ImageFile> samples_;
  std::vector<std::string> skipped_;
  int64_t height_ = 0, width_ = 0;
};

}  // namespace convkit::data
