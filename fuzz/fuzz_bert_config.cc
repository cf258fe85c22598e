// config.json: BertConfig::from_json (every HF field, validated) and back.
#include "bertkit/core/json.h"
#include "bertkit/models/config.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    auto j = bertkit::json::parse(text, "config.json");
    auto config = bertkit::BertConfig::from_json(j, "config.json");
    config.validate("config.json");
    bertkit::BertConfig::from_json(config.to_json(), "config.json (round trip)");
  });
  return 0;
}
