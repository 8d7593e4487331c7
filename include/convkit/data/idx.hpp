#pragma once
// Reader for IDX files (the MNIST family's format), plain or gzip-compressed.
// Everything is validated before use: magic number, element type, rank, dimensions and
// the exact data length; a gzip stream is inflated only as far as its header declares. A bad file gives a ck::Error
// naming the file and the problem.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/file.hpp"

namespace convkit::data {

/// The contents of one IDX file of unsigned bytes (type code 0x08).
struct IdxArray {
  /// The dimensions, outermost first.
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  ///< row-major, prod(dims) bytes
};

namespace detail {

/// The largest file read_idx opens (the limits below bound what its header may declare).
constexpr uint64_t kMaxIdxFileBytes = (uint64_t(1) << 34) + 1024;
/// deflate's best ratio is about 1032:1: a gzip file can hold no more than this many bytes
/// per compressed byte, so a header declaring more is refused before anything is inflated.
constexpr uint64_t kMaxInflateRatio = 1100;

inline bool is_gzip(const uint8_t* data, size_t size) { return size >= 2 && data[0] == 0x1f && data[1] == 0x8b; }

/// A gzip stream in memory, inflated on demand: a reader takes the bytes its header
/// declares and no more, so a small file that inflates to gigabytes costs nothing.
class GzipReader {
 public:
  /// A reader of the gzip stream in data[0, size); `path` names it in errors.
  GzipReader(const uint8_t* data, size_t size, std::string path) : next_(data), left_(size), path_(std::move(path)) {
    // 15 + 16: a gzip wrapper, with the largest window.
    if (inflateInit2(&zs_, 15 + 16) != Z_OK)
      throw Error(convkit::detail::cat("idx: zlib failed to start on '", path_, "'"));
  }
  ~GzipReader() { inflateEnd(&zs_); }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  /// Inflates up to n bytes into dst; returns how many came (fewer at the stream's end).
  size_t read(uint8_t* dst, size_t n) {
    size_t got = 0;
    while (got < n && !ended_) {
      if (zs_.avail_in == 0) {
        const size_t chunk = left_ < (size_t(1) << 30) ? left_ : (size_t(1) << 30);
        zs_.next_in = const_cast<Bytef*>(next_);  // zlib's API is not const, but never writes the input
        zs_.avail_in = static_cast<uInt>(chunk);
        next_ += chunk;
        left_ -= chunk;
      }
      const size_t want = n - got < (size_t(1) << 30) ? n - got : (size_t(1) << 30);
      zs_.next_out = dst + got;
      zs_.avail_out = static_cast<uInt>(want);
      const int ret = inflate(&zs_, Z_NO_FLUSH);
      got += want - zs_.avail_out;
      if (ret == Z_STREAM_END) {
        // Concatenated gzip members form one stream, as gzip -d reads them.
        if (zs_.avail_in == 0 && left_ == 0)
          ended_ = true;
        else if (inflateReset(&zs_) != Z_OK)
          corrupt();
      } else if (ret == Z_BUF_ERROR && zs_.avail_in == 0 && left_ == 0) {
        throw Error(convkit::detail::cat("idx: '", path_, "' is a truncated gzip file (the stream ends early)"));
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        corrupt();
      }
    }
    return got;
  }

 private:
  [[noreturn]] void corrupt() const {
    throw Error(convkit::detail::cat("idx: '", path_, "' is a corrupted gzip file (",
                                     zs_.msg ? zs_.msg : "inflate failed", ")"));
  }
  z_stream zs_{};
  const uint8_t* next_;
  size_t left_;
  std::string path_;
  bool ended_ = false;
};

/// Bytes of a plain file or of an inflating gzip stream, read front to back.
class IdxSource {
 public:
  /// The file's bytes in data[0, size), inflated as they are read when they start with the
  /// gzip magic bytes; `path` names the file in errors.
  IdxSource(const uint8_t* data, size_t size, const std::string& path)
      : data_(data), size_(size), gzip_(is_gzip(data, size)) {
    if (gzip_) gz_.emplace(data, size, path);
  }
  /// True for a gzip file.
  bool gzip() const { return gzip_; }
  /// The file's size as stored.
  size_t compressed_size() const { return size_; }
  /// Up to n bytes appended to out; returns how many.
  size_t read(std::vector<uint8_t>& out, size_t n) {
    const size_t old = out.size();
    if (!gzip_) {
      const size_t take = n < size_ - pos_ ? n : size_ - pos_;
      out.insert(out.end(), data_ + pos_, data_ + pos_ + take);
      pos_ += take;
      return take;
    }
    // Grown a block at a time, so a header that promises more than the stream holds
    // never makes the reader allocate what it promised.
    size_t got = 0;
    while (got < n) {
      const size_t block = n - got < (size_t(1) << 24) ? n - got : (size_t(1) << 24);
      out.resize(old + got + block);
      const size_t k = gz_->read(out.data() + old + got, block);
      got += k;
      if (k < block) break;
    }
    out.resize(old + got);
    return got;
  }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
  bool gzip_;
  std::optional<GzipReader> gz_;
};

inline uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline IdxArray parse_idx_checked(const uint8_t* data, size_t size, const std::string& path, int expected_rank) {
  IdxSource src(data, size, path);
  std::vector<uint8_t> head;
  const size_t got = src.read(head, 4);
  CK_CHECK(got == 4, "idx: '", path, "' is too short (", got, " bytes) to hold an IDX header");
  CK_CHECK(head[0] == 0 && head[1] == 0, "idx: '", path, "' has a bad magic number (first bytes ", int(head[0]), " ",
           int(head[1]), ", expected 0 0): not an IDX file");
  CK_CHECK(head[2] == 0x08, "idx: '", path, "' holds element type ", convkit::detail::hex_byte(head[2]),
           ", expected 0x08 (unsigned byte)");
  const int rank = head[3];
  CK_CHECK(rank == expected_rank, "idx: '", path, "' has ", rank, " dimensions, expected ", expected_rank,
           expected_rank == 3 ? " (an images file)" : " (a labels file)");
  const size_t dims_bytes = 4 * static_cast<size_t>(rank);
  CK_CHECK(src.read(head, dims_bytes) == dims_bytes, "idx: '", path, "' is truncated inside its header");
  IdxArray a;
  uint64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const uint32_t dim = big_endian_u32(head.data() + 4 + 4 * d);
    CK_CHECK(dim > 0 && dim < (1u << 28), "idx: '", path, "' has an implausible dimension ", dim);
    a.dims.push_back(dim);
    count *= dim;
    CK_CHECK(count < (uint64_t(1) << 34), "idx: '", path, "' declares too many elements");
  }
  if (src.gzip())
    CK_CHECK(count <= kMaxInflateRatio * src.compressed_size() + 64, "idx: '", path, "' declares ", count,
             " bytes of data, more than its ", src.compressed_size(), " compressed bytes can hold (truncated?)");
  const uint64_t have = src.read(a.values, static_cast<size_t>(count));
  CK_CHECK(have == count, "idx: '", path, "' is truncated: its header declares ", count, " bytes of data but only ",
           have, " are present");
  std::vector<uint8_t> extra;
  const size_t trailing = src.read(extra, 4096);
  CK_CHECK(trailing == 0, "idx: '", path, "' has ", trailing == 4096 ? "at least 4096" : std::to_string(trailing),
           " unexpected trailing bytes after its ", count, " bytes of data");
  return a;
}

}  // namespace detail

/// Parses an IDX array of unsigned bytes with `expected_rank` dimensions from memory, plain
/// or gzip-compressed; `path` names the source in errors. A bad input gives a ck::Error.
inline IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& path, int expected_rank) {
  try {
    return detail::parse_idx_checked(data, size, path, expected_rank);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: still a ck::Error for the caller
    throw Error(convkit::detail::cat("idx: '", path, "': ", e.what()));
  }
}

/// Reads an IDX file of unsigned bytes with `expected_rank` dimensions.
inline IdxArray read_idx(const std::string& path, int expected_rank) {
  const std::vector<unsigned char> bytes = io::read_regular_file(path, "idx", detail::kMaxIdxFileBytes);
  return parse_idx(bytes.data(), bytes.size(), path, expected_rank);
}

}  // namespace convkit::data
