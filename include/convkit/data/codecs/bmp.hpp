#pragma once
// BMP decoding with stb_image (Debian: libstb-dev, linked as -lstb). stb_image reads past
// the end of a BMP's pixel data as zeros, and decodes a BMP whose compression field it
// does not know as if it were uncompressed; either would give a silently wrong image, so
// the header is checked here first.
#include <stb/stb_image.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "stored_image.hpp"

namespace convkit::data::detail {

inline uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

/// Refuses a BMP that is not uncompressed (or bit fields), one of a size above the
/// limits, and one whose header asks for more bytes than there are.
inline void check_bmp_header(const unsigned char* data, size_t size, const std::string& what) {
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
  check_declared_size(static_cast<int64_t>(std::min<uint64_t>(width, INT32_MAX)),
                      static_cast<int64_t>(std::min<uint64_t>(height, INT32_MAX)), size, false, what);
  CK_CHECK(bits > 0 && bits <= 32, "image: '", what, "': BMP of ", bits, " bits a pixel");
  const uint64_t stride = (width * bits + 31) / 32 * 4;
  const uint64_t needed = std::max(declared, pixel_offset + stride * height);
  CK_CHECK(needed <= size, "image: '", what, "': truncated BMP (the header needs ", needed, " bytes, the file has ",
           size, ")");
}

/// Frees what stb_image allocated.
struct StbFree {
  /// Frees p.
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

/// Decodes a BMP held in memory. Throws ck::Error naming `what` for a file that is
/// truncated, compressed, above the size limits or that stb_image cannot read.
inline StoredImage decode_bmp(const unsigned char* data, size_t size, const std::string& what) {
  check_bmp_header(data, size, what);
  CK_CHECK(size <= static_cast<size_t>(INT32_MAX), "image: '", what, "': ", size, " bytes is too large to decode");
  StoredImage image;
  std::unique_ptr<unsigned char, StbFree> decoded(
      stbi_load_from_memory(data, static_cast<int>(size), &image.width, &image.height, &image.channels, 0));
  if (!decoded)
    throw Error(convkit::detail::cat("image: '", what, "' cannot be decoded as BMP (", stbi_failure_reason(),
                                     "): truncated or corrupt"));
  CK_CHECK(image.channels >= 1 && image.channels <= 4, "image: '", what, "': stb_image gives ", image.channels,
           " channels");
  const size_t count =
      static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * static_cast<size_t>(image.channels);
  image.values.assign(decoded.get(), decoded.get() + count);
  return image;
}

}  // namespace convkit::data::detail
