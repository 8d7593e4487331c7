#pragma once
// Image files (PNG, JPEG, BMP) decoded into (C, H, W) float tensors in [0, 1]. The
// decoding itself is maintained libraries' work: libpng, libjpeg-turbo and stb_image for
// BMP (codecs/); this file picks the codec by the file's signature and converts the
// channels as Pillow converts them, so the values equal torchvision's for the same file.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "../io/file.hpp"
#include "codecs/bmp.hpp"
#include "codecs/jpeg.hpp"
#include "codecs/png.hpp"
#include "codecs/stored_image.hpp"

namespace convkit::data {

/// A decoded image: 8-bit values, planar (channel, row, column).
struct Pixels {
  /// The image's geometry.
  ///@{
  int channels = 0, height = 0, width = 0;
  ///@}
  std::vector<unsigned char> values;  ///< channels * height * width
};

/// Decodes a PNG, JPEG or BMP held in memory into 8-bit planar pixels with `channels` 1
/// (gray) or 3 (RGB). Other channel counts are converted as PIL's Image.convert("L") /
/// ("RGB") converts them (alpha dropped, gray replicated, RGB to gray with ITU-R 601-2
/// weights and PIL's rounding), so the values equal torchvision's of the same file. `what`
/// names the source in errors (usually the path).
inline Pixels decode_pixels(const unsigned char* data, size_t size, int channels, const std::string& what) {
  CK_CHECK(channels == 1 || channels == 3, "image: '", what, "': channels must be 1 or 3, got ", channels);
  CK_CHECK(size > 0, "image: '", what, "': the file is empty");
  const bool png = size >= 8 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G';
  const bool jpeg = size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
  const bool bmp = size >= 2 && data[0] == 'B' && data[1] == 'M';
  CK_CHECK(png || jpeg || bmp, "image: '", what,
           "' is not a PNG, JPEG or BMP image (its first bytes are none of their signatures)");
  const detail::StoredImage stored = png    ? detail::decode_png(data, size, what)
                                     : jpeg ? detail::decode_jpeg(data, size, what)
                                            : detail::decode_bmp(data, size, what);
  const size_t plane = static_cast<size_t>(stored.width) * static_cast<size_t>(stored.height);
  const auto step = static_cast<size_t>(stored.channels);
  Pixels out{channels, stored.height, stored.width, std::vector<unsigned char>(static_cast<size_t>(channels) * plane)};
  const unsigned char* p = stored.values.data();
  if (channels == 1 && stored.channels >= 3) {
    for (size_t i = 0; i < plane; ++i, p += step)  // Pillow's L = R*299/1000 + G*587/1000 + B*114/1000, rounded
      out.values[i] = static_cast<unsigned char>(
          (uint32_t(p[0]) * 19595 + uint32_t(p[1]) * 38470 + uint32_t(p[2]) * 7471 + 0x8000) >> 16);
  } else if (stored.channels <= 2) {  // gray (alpha dropped), replicated to every channel asked for
    for (size_t i = 0; i < plane; ++i, p += step)
      for (size_t c = 0; c < static_cast<size_t>(channels); ++c) out.values[c * plane + i] = p[0];
  } else {  // RGB from RGB or RGBA (alpha dropped)
    for (size_t i = 0; i < plane; ++i, p += step)
      for (size_t c = 0; c < 3; ++c) out.values[c * plane + i] = p[c];
  }
  return out;
}

/// Pixels as a (channels, H, W) tensor in [0, 1]: v / 255, divided as torchvision's
/// ToTensor divides (a multiply by 1/255 differs in the last bit).
template <class T = float>
Tensor<T> pixels_to_tensor(const Pixels& px) {
  Tensor<T> out = Tensor<T>::empty(Shape{px.channels, px.height, px.width});
  T value[256];
  for (int v = 0; v < 256; ++v) value[v] = static_cast<T>(v) / T(255);
  T* o = out.data();
  for (size_t i = 0; i < px.values.size(); ++i) o[i] = value[px.values[i]];
  return out;
}

/// Decodes a PNG, JPEG or BMP held in memory into a (channels, H, W) tensor in [0, 1]
/// (see decode_pixels).
template <class T = float>
Tensor<T> decode_image(const unsigned char* data, size_t size, int channels, const std::string& what) {
  return pixels_to_tensor<T>(decode_pixels(data, size, channels, what));
}

/// Reads and decodes the image file at `path` into pixels (see decode_pixels).
inline Pixels read_pixels(const std::string& path, int channels) {
  const std::vector<unsigned char> bytes = io::read_regular_file(path, "image", max_image_file_bytes);
  return decode_pixels(bytes.data(), bytes.size(), channels, path);
}

/// Reads and decodes the image file at `path` (see decode_image). Directories, FIFOs,
/// devices and files above max_image_file_bytes are refused before reading.
template <class T = float>
Tensor<T> read_image(const std::string& path, int channels) {
  return pixels_to_tensor<T>(read_pixels(path, channels));
}

}  // namespace convkit::data
