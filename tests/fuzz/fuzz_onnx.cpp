// libFuzzer target: an ONNX model held in memory, read into an OnnxModule and, when it
// reads, run on a small input. A bad model must give a ck::Error, at load or when run.
#include <convkit/convkit.hpp>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    convkit::onnx::OnnxModule<float> net(data, size, "fuzz");
    net.eval();
    convkit::NoGradGuard no_grad;
    (void)net.forward(convkit::Tensor<float>::ones(convkit::Shape{1, 1, 8, 8}));
  } catch (const convkit::Error&) {
  }
  return 0;
}
