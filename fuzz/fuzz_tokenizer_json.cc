// tokenizer.json (HF tokenizers: normalizer, pre-tokenizer, WordPiece model,
// post-processor), then the tokenizer it describes.
#include "bertkit/tokenizers/wordpiece.h"
#include "exercise_tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = bertkit::fuzz::write_input("tokenizer.json", bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    auto tok = bertkit::WordPieceTokenizer::from_tokenizer_json(path);
    bertkit::fuzz::exercise_tokenizer(*tok);
  });
  return 0;
}
