// UTF-8: the one decoder/encoder every layer uses (tokenizers, SQuAD data and
// metrics, pipelines, the CLI). Decoding is strict (no overlong forms, no
// surrogates, nothing above U+10FFFF; what Python's and transformers' decoders
// accept); where text is decoded leniently, each invalid byte is one U+FFFD,
// so code point counts and offsets agree everywhere. Built on utf8proc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertkit::utf8 {

// Whether byte c continues a multi-byte sequence (10xxxxxx), i.e. does not start a character.
inline bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Length of the well-formed sequence at s[i] (1-4), 0 when s[i] starts none.
std::size_t sequence_length(std::string_view s, std::size_t i);
// Whether all of s is well-formed UTF-8.
bool is_valid(std::string_view s);

// Decode the code point at s[i] (advancing i); invalid bytes decode as U+FFFD, one byte each.
char32_t next(std::string_view s, std::size_t& i);
// Append the encoding of code point c (c <= U+10FFFF) to out.
void append(std::string& out, char32_t c);
// All of s decoded as next() does, and back.
std::u32string decode(std::string_view s);
std::string encode(std::u32string_view s);

// The number of code points in s, counted as next() decodes them.
std::size_t count(std::string_view s);
// The code point index of every byte of s, plus one entry for s.size() (the total).
std::vector<uint32_t> code_point_index(std::string_view s);
// Byte offset of code point `cp` (s.size() when cp is at or past the end).
std::size_t byte_offset(std::string_view s, std::size_t cp);
// The code points [start, end) of s ("" when end <= start). Code points are
// counted as next() decodes them, so these agree with the tokenizers' offsets.
std::string substr(std::string_view s, std::size_t start, std::size_t end);

}  // namespace bertkit::utf8
