// A SentencePiece .model (a protobuf, parsed by Debian's libsentencepiece in
// bertkit's plugin), then the tokenizer built on it.
#include "bertkit/tokenizers/sentencepiece.h"
#include "exercise_tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = bertkit::fuzz::write_input("spiece.model", bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    bertkit::SentencePieceTokenizer tok(path);
    bertkit::fuzz::exercise_tokenizer(tok);
  });
  return 0;
}
