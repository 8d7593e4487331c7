#pragma once
// JPEG decoding with libjpeg-turbo (Debian: libjpeg62-turbo-dev), the decoder Pillow uses.
// libjpeg reports a fatal error by calling error_exit, which must not return: here it
// longjmps back to the setjmp in one of the two small guarded functions below. Those
// functions hold no C++ object with a destructor, so the jump skips only libjpeg's own C
// frames; the C++ caller then throws a ck::Error naming the file and libjpeg's message.
#include <jpeglib.h>

#include <cstdio>  // jpeglib.h needs FILE and size_t declared first
//
#include <jerror.h>  // the message codes (JWRN_EXTRANEOUS_DATA), after jpeglib.h

#include <csetjmp>
#include <cstring>
#include <string>

#include "stored_image.hpp"

namespace convkit::data {

/// JPEG files with more scans than this are refused: a progressive JPEG can repeat scans
/// without end, each one a pass over the whole image (libjpeg-turbo's own tools stop at 500).
inline constexpr int max_jpeg_scans = 500;

namespace detail {

/// libjpeg's error manager with the jump target and the first message kept.
struct JpegErrors {
  jpeg_error_mgr manager;         ///< first: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;              ///< where error_exit returns to
  char message[JMSG_LENGTH_MAX];  ///< the first fatal message, formatted
};

/// The decompressor and its error and progress managers, destroyed on every path.
struct JpegDecoder {
  jpeg_decompress_struct info;  ///< libjpeg's decompressor
  JpegErrors errors;            ///< its error manager
  jpeg_progress_mgr progress;   ///< counts scans (max_jpeg_scans)
  bool created = false;         ///< jpeg_create_decompress succeeded
  JpegDecoder() {
    std::memset(&info, 0, sizeof info);
    std::memset(&errors, 0, sizeof errors);
    std::memset(&progress, 0, sizeof progress);
  }
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&info);
  }
};

/// error_exit: keeps libjpeg's message and jumps back to the guarded function.
inline void jpeg_fail(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);  // NOLINT(cert-err52-cpp): libjpeg's documented error path
}

/// emit_message: a warning (level -1) means corrupt data that libjpeg would paper over
/// (a truncated file is completed with gray, a damaged scan with guesses), so it is fatal
/// here as it is in Pillow; only extraneous bytes between markers, which lose nothing, pass.
inline void jpeg_warn(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code != JWRN_EXTRANEOUS_DATA) jpeg_fail(info);
}

/// progress_monitor: stops a file with more than max_jpeg_scans scans.
inline void jpeg_count_scans(j_common_ptr info) {
  const auto* decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (info->is_decompressor && decompress->input_scan_number > max_jpeg_scans) {
    auto* errors = reinterpret_cast<JpegErrors*>(info->err);
    std::snprintf(errors->message, sizeof errors->message, "more than %d scans", max_jpeg_scans);
    std::longjmp(errors->jump, 1);  // NOLINT(cert-err52-cpp): see jpeg_fail
  }
}

/// Reads the header; false (with the message kept) if libjpeg fails.
inline bool jpeg_read_header_guarded(JpegDecoder& d, const unsigned char* data, size_t size) {
  d.info.err = jpeg_std_error(&d.errors.manager);
  d.errors.manager.error_exit = jpeg_fail;
  d.errors.manager.emit_message = jpeg_warn;
  if (setjmp(d.errors.jump)) return false;  // NOLINT(cert-err52-cpp): see jpeg_fail
  jpeg_create_decompress(&d.info);
  d.created = true;
  d.progress.progress_monitor = jpeg_count_scans;
  d.info.progress = &d.progress;
  jpeg_mem_src(&d.info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&d.info, TRUE);
  return true;
}

/// Decodes every row into out (row_bytes apart); false (with the message kept) if libjpeg fails.
inline bool jpeg_decode_guarded(JpegDecoder& d, unsigned char* out, size_t row_bytes) {
  if (setjmp(d.errors.jump)) return false;  // NOLINT(cert-err52-cpp): see jpeg_fail
  jpeg_start_decompress(&d.info);
  while (d.info.output_scanline < d.info.output_height) {
    JSAMPROW row = out + static_cast<size_t>(d.info.output_scanline) * row_bytes;
    jpeg_read_scanlines(&d.info, &row, 1);
  }
  jpeg_finish_decompress(&d.info);
  return true;
}

/// Decodes a JPEG held in memory into gray or RGB. Throws ck::Error naming `what` for a
/// file libjpeg cannot read, a size above the limits, or a CMYK/YCCK image.
inline StoredImage decode_jpeg(const unsigned char* data, size_t size, const std::string& what) {
  JpegDecoder d;
  if (!jpeg_read_header_guarded(d, data, size))
    throw Error(convkit::detail::cat("image: '", what, "' cannot be decoded as JPEG (", d.errors.message,
                                     "): truncated or corrupt"));
  check_declared_size(d.info.image_width, d.info.image_height, size, true, what);
  const J_COLOR_SPACE stored = d.info.jpeg_color_space;
  CK_CHECK(stored == JCS_GRAYSCALE || stored == JCS_YCbCr || stored == JCS_RGB, "image: '", what,
           "' is a CMYK or YCCK JPEG (colour space ", static_cast<int>(stored),
           "); convkit reads gray and colour (YCbCr or RGB) JPEGs");
  d.info.out_color_space = stored == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  StoredImage image;
  image.width = static_cast<int>(d.info.image_width);
  image.height = static_cast<int>(d.info.image_height);
  image.channels = stored == JCS_GRAYSCALE ? 1 : 3;
  const size_t row_bytes = static_cast<size_t>(image.width) * static_cast<size_t>(image.channels);
  image.values.resize(row_bytes * static_cast<size_t>(image.height));
  if (!jpeg_decode_guarded(d, image.values.data(), row_bytes))
    throw Error(convkit::detail::cat("image: '", what, "' cannot be decoded as JPEG (", d.errors.message,
                                     "): truncated or corrupt"));
  CK_CHECK(
      static_cast<int>(d.info.output_width) == image.width && static_cast<int>(d.info.output_height) == image.height,
      "image: '", what, "': decoded size ", d.info.output_width, "x", d.info.output_height,
      " differs from its header's ", image.width, "x", image.height);
  return image;
}

}  // namespace detail
}  // namespace convkit::data
