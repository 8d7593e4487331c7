#pragma once
// What the image codecs (png.hpp, jpeg.hpp, bmp.hpp) share: the decoded image as stored
// in the file, and the limits every file's declared size is checked against before any
// pixel is decoded (a hostile header can declare any size).
#include <cstdint>
#include <string>
#include <vector>

#include "../../core/error.hpp"

namespace convkit::data {

/// Images larger than this on either side are refused before decoding.
inline constexpr int64_t max_image_side = 16384;
/// Images with more pixels than this are refused before decoding (256 MB as 8-bit RGBA).
inline constexpr int64_t max_image_pixels = int64_t(1) << 26;
/// Image files larger than this are refused before reading.
inline constexpr uint64_t max_image_file_bytes = uint64_t(1) << 28;
/// Pixels a compressed image may declare per byte of its file (plus 64 Ki): a
/// decompression-bomb bound. Deflate expands at most 1032:1, so a PNG of 8-bit pixels
/// cannot exceed it; baseline JPEG spends at least 2 bits on each 8x8 block (256 pixels a
/// byte). A PNG of 1-, 2- or 4-bit pixels compressed beyond it (a blank page) is refused too.
inline constexpr int64_t max_image_pixels_per_byte = 2048;

namespace detail {

/// A decoded image as its file stores it: 8-bit values, interleaved, with 1 (gray),
/// 2 (gray and alpha), 3 (RGB) or 4 (RGBA) channels.
struct StoredImage {
  /// The image's geometry.
  ///@{
  int width = 0, height = 0, channels = 0;
  ///@}
  std::vector<unsigned char> values;  ///< height * width * channels, row by row
};

/// Refuses a declared size of width x height before decoding: outside the side and pixel
/// limits, or (for a compressed format) more pixels than file_bytes can hold.
inline void check_declared_size(int64_t width, int64_t height, size_t file_bytes, bool compressed,
                                const std::string& what) {
  CK_CHECK(width > 0 && height > 0 && width <= max_image_side && height <= max_image_side &&
               width * height <= max_image_pixels,
           "image: '", what, "' declares ", width, "x", height, " pixels, above the limit of ", max_image_side,
           " per side and ", max_image_pixels, " in all");
  CK_CHECK(!compressed ||
               width * height <= max_image_pixels_per_byte * static_cast<int64_t>(file_bytes) + (int64_t(1) << 16),
           "image: '", what, "' declares ", width, "x", height, " pixels in a file of ", file_bytes,
           " bytes: more than a compressed image can hold (", max_image_pixels_per_byte, " pixels a byte)");
}

}  // namespace detail
}  // namespace convkit::data
