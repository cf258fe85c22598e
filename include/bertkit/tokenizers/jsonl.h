// The `bertkit tokenize` format: inputs are JSONL lines {"text": ..., "text_pair": ...}
// (or {"words": [...]}, or plain text lines); outputs are the HF fixture's
// lines {"text", ["text_pair",] "ids", "type_ids", "tokens", "offsets"} with
// code-point offsets, so parity with any HF tokenizer is one diff away.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

struct TokenizeInput {
  std::string text;
  std::optional<std::string> pair;
  std::vector<std::string> words;  // when is_words
  bool is_words = false;
};

enum class InputFormat { Jsonl, TextLines, Words };

struct TokenizeOutputOptions {
  bool overflowing = false;   // add "overflowing": [{ids, type_ids, tokens, offsets}, ...]
  bool all_fields = false;    // add word_ids, special_tokens_mask, attention_mask, byte_offsets
  bool decode = false;        // add "decoded" (skip specials)
  bool ids_only = false;      // instead: one line of space-separated ids per input ("101 7592 102")
};

// Parse `content` (read from `source`, named in errors as source:line).
// Jsonl: objects with a string "text" and an optional string "text_pair".
// Words: objects with "words": [strings]. TextLines: every non-empty line.
std::vector<TokenizeInput> parse_tokenize_inputs(const std::string& content, const std::string& source,
                                                 InputFormat format);

// One output line (no trailing newline), written without a JSON DOM.
std::string tokenize_output_line(const TokenizeInput& input, const Encoding& encoding, const Tokenizer& tokenizer,
                                 const TokenizeOutputOptions& options);

// Encode every input and write one line each, in input order: chunks of 4096
// lines encoded on `threads` threads (0: all cores), their lines formatted on
// as many, each chunk written to `out` in one piece.
void write_tokenized(const Tokenizer& tokenizer, const std::vector<TokenizeInput>& inputs, const EncodeOptions& encode,
                     const TokenizeOutputOptions& options, unsigned threads, std::ostream& out);

}  // namespace bertkit
