// safetensors: the 8-byte header length, the JSON header (dtypes, shapes,
// data_offsets) and every tensor's bytes, read back through the map.
#include "bertkit/core/safetensors.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = bertkit::fuzz::write_input("model.safetensors", bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    bertkit::SafetensorsReader reader(path);
    unsigned sum = 0;
    for (const auto& t : reader.tensors()) {
      const auto* bytes = static_cast<const unsigned char*>(reader.data(t.name));
      if (t.nbytes()) sum += bytes[0] + bytes[t.nbytes() - 1];  // first and last byte: inside the map
    }
    (void)sum;
  });
  return 0;
}
