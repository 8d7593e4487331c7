#pragma once
// Image files (PNG, JPEG, BMP) decoded into (C, H, W) float tensors in [0, 1].
// The decoding itself is stb_image's (Debian: libstb-dev, linked as -lstb); this file
// checks what stb_image does not (sizes before decoding, truncated BMPs), converts the
// channels as PIL does, and turns every failure into a ck::Error naming the file.
#include <stb/stb_image.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "../io/file.hpp"

namespace convkit::data {

/// Images larger than this on either side are refused before decoding (a hostile header
/// can declare any size; stb_image would try to allocate it).
inline constexpr int64_t max_image_side = 16384;
/// Images with more pixels than this are refused before decoding (256 MB as 8-bit RGBA).
inline constexpr int64_t max_image_pixels = int64_t(1) << 26;
/// Image files larger than this are refused before reading.
inline constexpr uint64_t max_image_file_bytes = uint64_t(1) << 28;
/// Pixels an image may declare per byte of its file (plus 64 Ki): a decompression-bomb
/// bound. Deflate expands at most 1032:1, so a PNG of 8-bit pixels cannot exceed it;
/// baseline JPEG spends at least 2 bits on each 8x8 block (256 pixels a byte). A PNG of 1-,
/// 2- or 4-bit pixels compressed beyond it (a blank page) is refused too.
inline constexpr int64_t max_image_pixels_per_byte = 2048;

namespace detail {

inline uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

/// stb_image reads past the end of a BMP's pixel data as zeros, and decodes a BMP whose
/// compression field it does not know as if it were uncompressed, so either would give a
/// silently wrong image: refuse a BMP that is not uncompressed (or bit fields), and one
/// whose header asks for more bytes than there are.
inline void check_bmp_complete(const unsigned char* data, size_t size, const std::string& what) {
  if (size < 2 || data[0] != 'B' || data[1] != 'M') return;
  CK_CHECK(size >= 26, "image: '", what, "': truncated BMP header (", size, " bytes)");
  const uint64_t declared = le32(data + 2), pixel_offset = le32(data + 10);
  const uint32_t info_size = le32(data + 14);
  uint64_t width = 0, height = 0, bits = 0;
  if (info_size == 12) {  // OS/2 header: 16-bit sizes, no compression
    width = uint32_t(data[18]) | uint32_t(data[19]) << 8;
    height = uint32_t(data[20]) | uint32_t(data[21]) << 8;
    bits = uint32_t(data[24]) | uint32_t(data[25]) << 8;
  } else {
    CK_CHECK(info_size >= 40 && size >= 34, "image: '", what, "': BMP header of ", info_size,
             " bytes, which convkit does not read");
    const auto w = static_cast<int32_t>(le32(data + 18)), h = static_cast<int32_t>(le32(data + 22));
    const uint32_t compression = le32(data + 30);
    CK_CHECK(compression == 0 || compression == 3, "image: '", what, "': BMP compression ", compression,
             " (convkit reads uncompressed and bit-field BMPs)");
    width = w < 0 ? uint64_t(-int64_t(w)) : uint64_t(w);
    height = h < 0 ? uint64_t(-int64_t(h)) : uint64_t(h);
    bits = uint32_t(data[28]) | uint32_t(data[29]) << 8;
  }
  CK_CHECK(bits > 0 && bits <= 32 && width <= uint64_t(max_image_side) && height <= uint64_t(max_image_side),
           "image: '", what, "': BMP of ", width, "x", height, " pixels of ", bits, " bits");
  const uint64_t stride = (width * bits + 31) / 32 * 4;
  const uint64_t needed = std::max(declared, pixel_offset + stride * height);
  CK_CHECK(needed <= size, "image: '", what, "': truncated BMP (the header needs ", needed, " bytes, the file has ",
           size, ")");
}

/// Debian's stb_image asserts (aborting the program) when a JPEG scan uses a Huffman
/// table the file never defined, or one whose code lengths over-fill the code space:
/// check the tables before stb_image sees the file. Walks the markers up to each scan.
inline void check_jpeg_tables(const unsigned char* data, size_t size, const std::string& what) {
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8) return;
  bool defined[2][4] = {{false, false, false, false}, {false, false, false, false}};  // [DC/AC][id]
  bool progressive = false;
  size_t i = 2;
  while (i + 4 <= size) {
    if (data[i] != 0xFF) return;  // entropy-coded data or garbage: stb_image reports that itself
    const unsigned marker = data[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;
      continue;
    }
    if (marker == 0xD9) return;
    const size_t length = size_t(data[i + 2]) << 8 | data[i + 3];
    CK_CHECK(length >= 2 && i + 2 + length <= size, "image: '", what, "': a JPEG segment at offset ", i,
             " runs past the end of the file");
    const unsigned char* p = data + i + 4;
    const unsigned char* end = data + i + 2 + length;
    if (marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE) progressive = true;
    if (marker == 0xC4) {  // DHT: tables of (class/id, 16 counts, symbols)
      while (p < end) {
        CK_CHECK(end - p >= 17, "image: '", what, "': a truncated JPEG Huffman table at offset ", p - data);
        const unsigned cls = p[0] >> 4, id = p[0] & 15;
        CK_CHECK(cls <= 1 && id <= 3, "image: '", what, "': a JPEG Huffman table of class ", cls, " and id ", id);
        uint32_t code = 0, symbols = 0;
        for (int length_bits = 1; length_bits <= 16; ++length_bits) {
          code = (code << 1) + p[length_bits];
          symbols += p[length_bits];
          CK_CHECK(code <= (1u << length_bits), "image: '", what, "': a JPEG Huffman table at offset ", p - data,
                   " has more codes than fit in ", length_bits, " bits");
        }
        CK_CHECK(symbols <= 256 && static_cast<size_t>(end - p) >= 17 + symbols, "image: '", what,
                 "': a JPEG Huffman table at offset ", p - data, " holds ", symbols, " symbols");
        defined[cls][id] = true;
        p += 17 + symbols;
      }
    } else if (marker == 0xDA) {  // SOS: the tables its components use must exist
      CK_CHECK(end - p >= 1 && end - p >= 1 + 2 * p[0] + 3, "image: '", what, "': a truncated JPEG scan header");
      const unsigned components = p[0];
      const unsigned spectral_start = p[1 + 2 * components], spectral_end = p[2 + 2 * components];
      const unsigned refine = p[3 + 2 * components] >> 4;
      for (unsigned c = 0; c < components; ++c) {
        const unsigned dc = p[2 + 2 * c] >> 4, ac = p[2 + 2 * c] & 15;
        const bool uses_dc = !progressive || (spectral_start == 0 && refine == 0);
        const bool uses_ac = !progressive || spectral_end > 0;
        CK_CHECK((!uses_dc || (dc <= 3 && defined[0][dc])) && (!uses_ac || (ac <= 3 && defined[1][ac])), "image: '",
                 what, "': a JPEG scan uses a Huffman table (DC ", dc, ", AC ", ac, ") the file does not define");
      }
      // skip the entropy-coded data to the next marker
      i += 2 + length;
      while (i + 1 < size && !(data[i] == 0xFF && data[i + 1] != 0 && !(data[i + 1] >= 0xD0 && data[i + 1] <= 0xD7)))
        ++i;
      continue;
    }
    i += 2 + length;
  }
}

/// Frees what stb_image allocated.
struct StbFree {
  /// Frees p.
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

}  // namespace detail

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
  CK_CHECK(size <= static_cast<size_t>(INT32_MAX), "image: '", what, "': ", size, " bytes is too large to decode");
  const int length = static_cast<int>(size);
  // stb_image reads more formats (TGA, PSD, GIF, HDR, ...), some without a signature:
  // only the three ImageFolder promises are handed to it.
  const bool png = size >= 8 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G';
  const bool jpeg = size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
  const bool bmp = size >= 2 && data[0] == 'B' && data[1] == 'M';
  CK_CHECK(png || jpeg || bmp, "image: '", what,
           "' is not a PNG, JPEG or BMP image (its first bytes are none of their signatures)");
  int w = 0, h = 0, stored = 0;
  if (!stbi_info_from_memory(data, length, &w, &h, &stored))
    throw Error(convkit::detail::cat("image: '", what, "' is not a PNG, JPEG or BMP image that can be read (",
                                     stbi_failure_reason(), ")"));
  CK_CHECK(w > 0 && h > 0 && w <= max_image_side && h <= max_image_side && int64_t(w) * int64_t(h) <= max_image_pixels,
           "image: '", what, "' declares ", w, "x", h, " pixels, above the limit of ", max_image_side, " per side and ",
           max_image_pixels, " in all");
  CK_CHECK(
      bmp || int64_t(w) * int64_t(h) <= max_image_pixels_per_byte * static_cast<int64_t>(size) + (int64_t(1) << 16),
      "image: '", what, "' declares ", w, "x", h, " pixels in a file of ", size,
      " bytes: more than a compressed image can hold (", max_image_pixels_per_byte, " pixels a byte)");
  detail::check_bmp_complete(data, size, what);
  detail::check_jpeg_tables(data, size, what);
  // Decode to gray when the file is gray (with or without alpha) and gray is asked for;
  // to RGB otherwise, computing gray from RGB here with PIL's rounding.
  const bool rgb_to_gray = channels == 1 && stored >= 3;
  const int decode_channels = rgb_to_gray ? 3 : channels;
  int dw = 0, dh = 0, dc = 0;
  std::unique_ptr<unsigned char, detail::StbFree> decoded(
      stbi_load_from_memory(data, length, &dw, &dh, &dc, decode_channels));
  if (!decoded)
    throw Error(convkit::detail::cat("image: '", what, "' cannot be decoded (", stbi_failure_reason(),
                                     "): truncated or corrupt"));
  CK_CHECK(dw == w && dh == h, "image: '", what, "': decoded size ", dw, "x", dh, " differs from its header's ", w, "x",
           h);
  Pixels out{channels, h, w, std::vector<unsigned char>(static_cast<size_t>(channels) * static_cast<size_t>(w * h))};
  const size_t plane = static_cast<size_t>(w) * static_cast<size_t>(h);
  const unsigned char* p = decoded.get();
  if (rgb_to_gray) {
    for (size_t i = 0; i < plane; ++i, p += 3)  // PIL's L = R*299/1000 + G*587/1000 + B*114/1000, rounded
      out.values[i] = static_cast<unsigned char>(
          (uint32_t(p[0]) * 19595 + uint32_t(p[1]) * 38470 + uint32_t(p[2]) * 7471 + 0x8000) >> 16);
  } else if (channels == 1) {
    std::copy(p, p + plane, out.values.begin());
  } else {
    for (size_t i = 0; i < plane; ++i)
      for (size_t c = 0; c < 3; ++c) out.values[c * plane + i] = p[i * 3 + c];
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
