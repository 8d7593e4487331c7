#pragma once
// Reading untrusted files: only regular files are opened (a FIFO with no writer would block
// in open, a device such as /dev/zero never ends), the size is known before anything is
// read, and a caller's limit bounds the memory a file can make the reader take. Writing
// goes through a temporary file renamed into place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace convkit::io {

/// The whole contents of the regular file `path`, at most `max_bytes` long. `op` names the
/// caller in errors ("load_safetensors", "idx"). Directories, FIFOs, devices, unreadable
/// files and files above the limit give a ck::Error naming the file.
inline std::vector<unsigned char> read_regular_file(const std::string& path, const char* op, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; the
  // fstat below then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(detail::cat(op, ": cannot open '", path, "' (", std::strerror(errno), ")"));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(detail::cat(op, ": '", path, "' is not a regular file",
                            S_ISDIR(st.st_mode) ? " (it is a directory)" : " (a device, FIFO or socket)"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    throw Error(
        detail::cat(op, ": '", path, "' is ", size, " bytes, more than the ", max_bytes, " this reader accepts"));
  }
  std::vector<unsigned char> out(static_cast<size_t>(size));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      ::close(fd);
      throw Error(detail::cat(op, ": reading '", path, "' stopped at byte ", got, " of ", size, err ? " (" : "",
                              err ? std::strerror(err) : "", err ? ")" : " (the file shrank)"));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

/// Writes `bytes` to `path` through a temporary file beside it, flushed to disk, then
/// renamed over `path`: a reader sees the old file or the new one, never half of one.
/// `op` names the caller in errors.
inline void write_file_atomically(const std::string& path, const char* op, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  CK_CHECK(f != nullptr, op, ": cannot create '", tmp, "' (does the folder exist and is it writable?)");
  bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(detail::cat(op, ": writing '", path, "' failed (disk full or not writable?)"));
  }
}

}  // namespace convkit::io
