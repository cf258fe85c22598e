// `bertkit tokenize` input: JSONL {"text", "text_pair"} / {"words"} lines or
// plain text lines (the first byte picks the format), then each parsed input
// encoded and written as an output line.
#include <sstream>

#include "bertkit/tokenizers/jsonl.h"
#include "bertkit/tokenizers/wordpiece.h"
#include "fuzz_util.h"

namespace {
const bertkit::Tokenizer& tokenizer() {
  static auto tok = std::make_unique<bertkit::WordPieceTokenizer>(std::vector<std::string>{
      "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "the", "##s", "hello", ",", "!"});
  return *tok;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using bertkit::InputFormat;
  const InputFormat formats[] = {InputFormat::Jsonl, InputFormat::TextLines, InputFormat::Words};
  InputFormat format = formats[data[0] % 3];
  std::string content(bertkit::fuzz::as_text(data + 1, size - 1));
  bertkit::fuzz::expect_input_errors([&] {
    auto inputs = bertkit::parse_tokenize_inputs(content, "input.jsonl", format);
    bertkit::EncodeOptions encode;
    encode.max_length = 16;
    encode.truncation = bertkit::Truncation::LongestFirst;
    encode.return_overflowing = true;
    bertkit::TokenizeOutputOptions out_options;
    out_options.all_fields = out_options.overflowing = out_options.decode = true;
    std::ostringstream out;
    bertkit::write_tokenized(tokenizer(), inputs, encode, out_options, 1, out);
  });
  return 0;
}
