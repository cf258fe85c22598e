// Character classes with the exact definitions HF tokenizers uses (Rust's
// char methods + unicode_categories), backed by utf8proc's Unicode data.
// Private to src/tokenizers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bertkit::unicode {

// Rust char::is_whitespace (the White_Space property).
inline bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
// HF bert is_whitespace: \t \n \r or White_Space.
inline bool is_bert_whitespace(char32_t c) { return is_whitespace(c); }
// Category C* (Cc, Cf, Cs, Co, Cn).
bool is_other(char32_t c);
// HF bert is_control: C* except \t \n \r.
inline bool is_control(char32_t c) { return c != '\t' && c != '\n' && c != '\r' && is_other(c); }
// HF bert is_punc: ASCII punctuation or category P*.
bool is_punctuation(char32_t c);
// HF bert is_chinese_char (CJK Unified Ideographs blocks).
inline bool is_chinese(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}
// Category Mn.
bool is_mark_nonspacing(char32_t c);
// Canonical decomposition (NFD) of one character; returns the count written (<= cap).
std::size_t nfd(char32_t c, char32_t* out, std::size_t cap);
// Full lowercase mapping (Rust char::to_lowercase): at most 3 characters.
std::size_t lower(char32_t c, char32_t* out);
// NFKC of UTF-8 text (invalid input is returned unchanged).
std::string nfkc(std::string_view text);
// First code point of a character's compatibility decomposition (NFKD).
char32_t nfkd_first(char32_t c);
// Combining class of a character (0 for starters).
int combining_class(char32_t c);

}  // namespace bertkit::unicode
