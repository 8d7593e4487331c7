// libFuzzer target: an IDX file held in memory, plain or gzip-compressed (the reader picks
// by the magic bytes), read as a labels file (rank 1) and as an images file (rank 3).
#include <convkit/data/idx.hpp>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int rank : {1, 3}) {
    try {
      (void)convkit::data::parse_idx(data, size, "fuzz", rank);
    } catch (const convkit::Error&) {
    }
  }
  return 0;
}
