#pragma once
// Reader for IDX files (the MNIST family's format), plain or gzip-compressed.
// Everything is validated before use: magic number, element type, rank, dimensions and
// the exact file length. A bad file gives a ck::Error naming the file and the problem.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace convkit::data {

/// The contents of one IDX file of unsigned bytes (type code 0x08).
struct IdxArray {
  /// The dimensions, outermost first.
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  ///< row-major, prod(dims) bytes
};

namespace detail {

/// The whole file, decompressed if it starts with the gzip magic bytes.
inline std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  CK_CHECK(f != nullptr, "idx: cannot open '", path, "'");
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f);
  std::fclose(f);
  std::vector<uint8_t> out;
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile gz = gzopen(path.c_str(), "rb");
    CK_CHECK(gz != nullptr, "idx: cannot open gzip file '", path, "'");
    unsigned char buf[1 << 16];
    for (;;) {
      const int n = gzread(gz, buf, sizeof buf);
      if (n < 0) {
        int code = 0;
        const std::string msg = gzerror(gz, &code);
        gzclose(gz);
        throw Error(convkit::detail::cat("idx: '", path, "' is a corrupted gzip file (", msg, ")"));
      }
      if (n == 0) break;
      out.insert(out.end(), buf, buf + n);
    }
    int code = 0;
    const std::string msg = gzerror(gz, &code);
    gzclose(gz);
    CK_CHECK(code == Z_OK || code == Z_STREAM_END, "idx: '", path, "' is a truncated or corrupted gzip file (", msg,
             ")");
  } else {
    f = std::fopen(path.c_str(), "rb");
    CK_CHECK(f != nullptr, "idx: cannot open '", path, "'");
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    CK_CHECK(!failed, "idx: read error on '", path, "'");
  }
  return out;
}

inline uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace detail

/// Reads an IDX file of unsigned bytes with `expected_rank` dimensions.
inline IdxArray read_idx(const std::string& path, int expected_rank) {
  const std::vector<uint8_t> bytes = detail::read_maybe_gzip(path);
  CK_CHECK(bytes.size() >= 4, "idx: '", path, "' is too short (", bytes.size(), " bytes) to hold an IDX header");
  CK_CHECK(bytes[0] == 0 && bytes[1] == 0, "idx: '", path, "' has a bad magic number (first bytes ", int(bytes[0]), " ",
           int(bytes[1]), ", expected 0 0): not an IDX file");
  CK_CHECK(bytes[2] == 0x08, "idx: '", path, "' holds element type ", convkit::detail::hex_byte(bytes[2]),
           ", expected 0x08 (unsigned byte)");
  const int rank = bytes[3];
  CK_CHECK(rank == expected_rank, "idx: '", path, "' has ", rank, " dimensions, expected ", expected_rank,
           expected_rank == 3 ? " (an images file)" : " (a labels file)");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  CK_CHECK(bytes.size() >= header, "idx: '", path, "' is truncated inside its header");
  IdxArray a;
  uint64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const uint32_t dim = detail::big_endian_u32(bytes.data() + 4 + 4 * d);
    CK_CHECK(dim > 0 && dim < (1u << 28), "idx: '", path, "' has an implausible dimension ", dim);
    a.dims.push_back(dim);
    count *= dim;
    CK_CHECK(count < (uint64_t(1) << 34), "idx: '", path, "' declares too many elements");
  }
  const uint64_t have = bytes.size() - header;
  CK_CHECK(have >= count, "idx: '", path, "' is truncated: its header declares ", count, " bytes of data but only ",
           have, " are present");
  CK_CHECK(have == count, "idx: '", path, "' has ", have - count, " unexpected trailing bytes after its ", count,
           " bytes of data");
  a.values.assign(bytes.begin() + static_cast<long>(header), bytes.end());
  return a;
}

}  // namespace convkit::data
