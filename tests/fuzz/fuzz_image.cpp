// libFuzzer target: an image file held in memory (PNG, JPEG, BMP, or anything else),
// decoded by ImageFolder's decoder as gray and as RGB. A bad image must give a ck::Error.
#include <convkit/data/image.hpp>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int channels : {1, 3}) {
    try {
      const convkit::data::Pixels px = convkit::data::decode_pixels(data, size, channels, "fuzz");
      (void)convkit::data::pixels_to_tensor<float>(px);
    } catch (const convkit::Error&) {
    }
  }
  return 0;
}
