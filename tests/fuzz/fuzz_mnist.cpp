// libFuzzer target: MnistDataset over a folder whose two training files are cut from the
// input (its first two bytes say where the images file ends and the labels file begins;
// both are written plain, or gzip-compressed when they start with the gzip magic bytes).
#include <unistd.h>

#include <convkit/data/mnist.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
const std::string& folder() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/convkit-fuzz-mnist-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    return std::string(d);
  }();
  return dir;
}

void write(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t cut = (size_t(data[0]) << 8 | data[1]) % (size - 1);
  const uint8_t* body = data + 2;
  const size_t body_size = size - 2;
  const size_t images = cut < body_size ? cut : body_size;
  write(folder() + "/train-images-idx3-ubyte", body, images);
  write(folder() + "/train-labels-idx1-ubyte", body + images, body_size - images);
  try {
    convkit::data::MnistDataset set(folder(), convkit::data::Split::Train);
    if (set.size() > 0) set.truncate(1);
  } catch (const convkit::Error&) {
  }
  return 0;
}
