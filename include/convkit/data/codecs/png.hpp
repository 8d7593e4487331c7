#pragma once
// PNG decoding with libpng (Debian: libpng-dev). libpng reports a fatal error through the
// error function, which must not return: here it longjmps back to the setjmp in one of the
// two small guarded functions below. Those hold no C++ object with a destructor, so the
// jump skips only libpng's own C frames; the C++ caller then throws a ck::Error naming the
// file and libpng's message.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "stored_image.hpp"

namespace convkit::data::detail {

/// libpng's read state, the bytes it reads from, and the first error message; the read
/// struct is destroyed on every path.
struct PngDecoder {
  png_structp png = nullptr;            ///< libpng's reader
  png_infop info = nullptr;             ///< the file's header information
  const unsigned char* data = nullptr;  ///< the file
  size_t size = 0;                      ///< its length
  size_t position = 0;                  ///< the next byte libpng reads
  char message[256] = {};               ///< libpng's error message
  PngDecoder() = default;
  PngDecoder(const PngDecoder&) = delete;
  PngDecoder& operator=(const PngDecoder&) = delete;
  ~PngDecoder() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

/// The error function: keeps the message and jumps back to the guarded function.
inline void png_fail(png_structp png, png_const_charp message) {
  auto* d = static_cast<PngDecoder*>(png_get_error_ptr(png));
  std::snprintf(d->message, sizeof d->message, "%s", message);
  png_longjmp(png, 1);
}

/// The warning function: libpng warns about what it can read past without harm (a bad
/// CRC in an ancillary chunk, an unknown colour profile); nothing to do.
inline void png_ignore_warning(png_structp, png_const_charp) {}

/// The read function: bytes from memory; running out is a truncated file.
inline void png_read_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* d = static_cast<PngDecoder*>(png_get_io_ptr(png));
  if (length > d->size - d->position) png_error(png, "the file ends early (truncated)");
  std::memcpy(out, d->data + d->position, length);
  d->position += length;
}

/// Creates the reader and reads the header, asking for 8-bit gray, gray+alpha, RGB or
/// RGBA; false (with the message kept) if libpng fails.
inline bool png_read_header_guarded(PngDecoder& d) {
  d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, png_fail, png_ignore_warning);
  if (!d.png) return false;
  d.info = png_create_info_struct(d.png);
  if (!d.info) return false;
  if (setjmp(png_jmpbuf(d.png))) return false;  // NOLINT(cert-err52-cpp): libpng's documented error path
  png_set_read_fn(d.png, &d, png_read_memory);
  png_read_info(d.png, d.info);
  // Palette to RGB and 1-, 2-, 4-bit gray to 8-bit (as Pillow's "P" and "L" modes), the
  // high byte of 16-bit samples (as Pillow's RGB). Transparency (tRNS) is not made alpha:
  // Pillow's convert("RGB") and ("L") drop it.
  png_set_palette_to_rgb(d.png);
  png_set_expand_gray_1_2_4_to_8(d.png);
  png_set_strip_16(d.png);
  png_set_interlace_handling(d.png);
  png_read_update_info(d.png, d.info);
  return true;
}

/// Decodes the image into the given rows; false (with the message kept) if libpng fails.
inline bool png_decode_guarded(PngDecoder& d, png_bytep* rows) {
  if (setjmp(png_jmpbuf(d.png))) return false;  // NOLINT(cert-err52-cpp): see png_read_header_guarded
  png_read_image(d.png, rows);
  return true;
}

/// Decodes a PNG held in memory. Throws ck::Error naming `what` for a file libpng cannot
/// read or a size above the limits.
inline StoredImage decode_png(const unsigned char* data, size_t size, const std::string& what) {
  PngDecoder d;
  d.data = data;
  d.size = size;
  if (!png_read_header_guarded(d))
    throw Error(convkit::detail::cat("image: '", what, "' cannot be decoded as PNG (",
                                     d.message[0] ? d.message : "out of memory", "): truncated or corrupt"));
  StoredImage image;
  image.width = static_cast<int>(png_get_image_width(d.png, d.info));
  image.height = static_cast<int>(png_get_image_height(d.png, d.info));
  check_declared_size(image.width, image.height, size, true, what);
  image.channels = png_get_channels(d.png, d.info);
  const size_t row_bytes = png_get_rowbytes(d.png, d.info);
  CK_CHECK(image.channels >= 1 && image.channels <= 4 &&
               row_bytes == static_cast<size_t>(image.width) * static_cast<size_t>(image.channels),
           "image: '", what, "': libpng gives rows of ", row_bytes, " bytes for ", image.width, " pixels of ",
           image.channels, " channels");
  image.values.resize(row_bytes * static_cast<size_t>(image.height));
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (size_t r = 0; r < rows.size(); ++r) rows[r] = image.values.data() + r * row_bytes;
  if (!png_decode_guarded(d, rows.data()))
    throw Error(
        convkit::detail::cat("image: '", what, "' cannot be decoded as PNG (", d.message, "): truncated or corrupt"));
  return image;
}

}  // namespace convkit::data::detail
