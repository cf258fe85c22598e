// A prepared dataset's index.json (ShardIndex::from_json).
#include "bertkit/core/json.h"
#include "bertkit/data/shards.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    auto index = bertkit::ShardIndex::from_json(bertkit::json::parse(text, "index.json"), "index.json");
    index.to_json();
  });
  return 0;
}
