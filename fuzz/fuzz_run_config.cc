// A run config (bertkit train CONFIG): the strict reader of every section.
#include "bertkit/core/json.h"
#include "bertkit/training/run_config.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    auto config = bertkit::RunConfig::from_json(bertkit::json::parse(text, "run.json"));
    config.to_json();
  });
  return 0;
}
