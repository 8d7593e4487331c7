// libFuzzer target: a checkpoint held in memory, parsed and loaded into a small module
// (conv, batch norm with its buffers, linear), as io::load does with a file.
#include <convkit/convkit.hpp>
#include <cstddef>
#include <cstdint>

namespace {
ck::nn::Sequential<float>& model() {
  static ck::nn::Sequential<float> m(ck::nn::Conv2d<float>(1, 2, 3), ck::nn::BatchNorm2d<float>(2),
                                     ck::nn::ReLU<float>(), ck::nn::Flatten<float>(), ck::nn::Linear<float>(8, 3));
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto stored = ck::io::parse_safetensors(data, size, "fuzz");
    ck::io::load_tensors(model(), stored, "fuzz");
  } catch (const ck::Error&) {
  }
  return 0;
}
