// vocab.txt: one token a line, then the WordPiece tokenizer built from it.
#include "bertkit/tokenizers/wordpiece.h"
#include "exercise_tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = bertkit::fuzz::write_input("vocab.txt", bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    auto tok = bertkit::WordPieceTokenizer::from_vocab_file(path);
    bertkit::fuzz::exercise_tokenizer(*tok);
  });
  return 0;
}
