// libFuzzer target for the GGUF parser: any byte string must either parse or throw minima::Error —
// never crash, hang, read out of bounds (ASan) or allocate absurdly (-rss_limit_mb).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const minima::GgufFile f =
        minima::GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz-input");
    // Touch what a loader touches: every value and every tensor byte range.
    size_t acc = 0;
    for (const auto& [k, v] : f.metadata())
      acc += k.size() + minima::gguf_value_to_string(v).size();
    for (const auto& t : f.tensors()) {
      if (t.nbytes > 0) acc += t.data[0] + t.data[t.nbytes - 1];
    }
    (void)f.get_string("general.architecture");
    volatile size_t sink = acc;
    (void)sink;
  } catch (const minima::Error&) {
  }
  return 0;
}
