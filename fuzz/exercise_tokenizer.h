// A loaded tokenizer is only proven safe once it has run: encode a fixed text
// (ASCII, accents, CJK, an emoji, specials written out), a pair with
// truncation and overflowing windows, pre-split words, and decode the ids.
#pragma once

#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit::fuzz {

inline void exercise_tokenizer(const Tokenizer& tok) {
  const std::string text = "Hello, WORLD! Caf\xC3\xA9 na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x98\x80 [CLS] [MASK] unaffable";
  Encoding e = tok.encode(text);
  EncodeOptions o;
  o.max_length = 8;
  o.truncation = Truncation::LongestFirst;
  o.return_overflowing = true;
  o.stride = 2;
  tok.encode(text, std::string_view("a second, shorter text"), o);
  tok.encode_words({"Hello", "W\xC3\xB6rld", "", "\xE6\x97\xA5"});
  tok.decode(e.ids, true);
  tok.decode(e.ids, false);
  for (int32_t id : {-1, 0, 1, 100000}) tok.id_to_token(id);
  tok.token_to_id("[UNK]");
}

}  // namespace bertkit::fuzz
