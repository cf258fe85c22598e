// SQuAD v1.1/v2.0 JSON (data -> paragraphs -> qas -> answers).
#include "bertkit/data/squad.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = bertkit::fuzz::write_input("train.json", bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] { bertkit::read_squad(path); });
  return 0;
}
