// libFuzzer target: a safetensors file held in memory, parsed and validated, and every
// tensor it accepts converted to float and double tensors, its metadata kept.
#include <convkit/io/safetensors.hpp>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    convkit::io::Metadata metadata;
    for (const auto& [name, stored] : convkit::io::parse_safetensors(data, size, "fuzz", &metadata)) {
      (void)stored.as<float>();
      (void)stored.as<double>();
    }
  } catch (const convkit::Error&) {
  }
  return 0;
}
