// The shared UTF-8 helper against hand-decoded bytes (RFC 3629's table) and
// Python's rules: bytes.decode('utf-8') rejects what sequence_length rejects,
// and decode(errors='replace') gives one U+FFFD per byte for these inputs.
#include <gtest/gtest.h>

#include "bertkit/core/utf8.h"

using namespace bertkit;

TEST(Utf8, DecodesOneToFourByteSequences) {
  // "a" U+0061, "é" U+00E9 = C3 A9, "€" U+20AC = E2 82 AC, "😀" U+1F600 = F0 9F 98 80.
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  std::size_t i = 0;
  EXPECT_EQ(utf8::next(s, i), U'a');
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(utf8::next(s, i), U'\u00E9');
  EXPECT_EQ(i, 3u);
  EXPECT_EQ(utf8::next(s, i), U'\u20AC');
  EXPECT_EQ(i, 6u);
  EXPECT_EQ(utf8::next(s, i), U'\U0001F600');
  EXPECT_EQ(i, 10u);
  EXPECT_EQ(utf8::decode(s), U"a\u00E9\u20AC\U0001F600");
  EXPECT_EQ(utf8::encode(U"a\u00E9\u20AC\U0001F600"), s);
  EXPECT_TRUE(utf8::is_valid(s));
}

TEST(Utf8, InvalidBytesAreOneReplacementCharacterEach) {
  // Overlong "/" (C0 AF), a surrogate (ED A0 80), above U+10FFFF (F4 90 80 80),
  // a lone continuation byte (80), a truncated sequence (E2 82 then "x").
  for (const std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80", "\xE2\x82x"}) {
    EXPECT_FALSE(utf8::is_valid(bad));
    EXPECT_EQ(utf8::sequence_length(bad, 0), 0u);
    std::u32string expected(bad.size(), U'\uFFFD');
    if (bad.back() == 'x') expected.back() = U'x';
    EXPECT_EQ(utf8::decode(bad), expected);
    EXPECT_EQ(utf8::count(bad), expected.size());
  }
  // The largest code point and the last one before the surrogates are valid.
  EXPECT_EQ(utf8::sequence_length("\xF4\x8F\xBF\xBF", 0), 4u);
  EXPECT_EQ(utf8::sequence_length("\xED\x9F\xBF", 0), 3u);
}

TEST(Utf8, CodePointOffsetsAndSubstrings) {
  const std::string s = "h\xC3\xA9llo \xE2\x82\xAC";  // "héllo €": 7 code points, 10 bytes
  EXPECT_EQ(utf8::count(s), 7u);
  EXPECT_EQ(utf8::byte_offset(s, 2), 3u);
  EXPECT_EQ(utf8::byte_offset(s, 7), 10u);
  EXPECT_EQ(utf8::byte_offset(s, 99), 10u);
  EXPECT_EQ(utf8::substr(s, 1, 3), "\xC3\xA9l");
  EXPECT_EQ(utf8::substr(s, 6, 99), "\xE2\x82\xAC");
  EXPECT_EQ(utf8::substr(s, 3, 3), "");
  EXPECT_EQ(utf8::substr(s, 4, 2), "");
  const std::vector<uint32_t> expected{0, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7};
  EXPECT_EQ(utf8::code_point_index(s), expected);
  EXPECT_TRUE(utf8::is_continuation_byte(s[2]));
  EXPECT_FALSE(utf8::is_continuation_byte(s[1]));
}
