// libFuzzer target: the JSON reader of safetensors headers. Any input either parses or
// throws ck::Error; anything else (a crash, another exception, a sanitizer report) is a finding.
#include <convkit/io/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    convkit::io::JsonParser(text, "fuzz").parse_document();
  } catch (const convkit::Error&) {
  }
  return 0;
}
