#include "bertkit/core/utf8.h"

#include <utf8proc.h>

namespace bertkit::utf8 {

std::size_t sequence_length(std::string_view s, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  utf8proc_int32_t cp;
  const utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool is_valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

char32_t next(std::string_view s, std::size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  utf8proc_int32_t cp;
  const utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  if (n <= 0) {
    ++i;
    return 0xFFFD;
  }
  i += static_cast<std::size_t>(n);
  return static_cast<char32_t>(cp);
}

void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
    return;
  }
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) out.push_back(next(s, i));
  return out;
}

std::string encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append(out, c);
  return out;
}

std::size_t count(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    if (static_cast<unsigned char>(s[i]) < 0x80)
      ++i;
    else
      next(s, i);
  }
  return n;
}

std::vector<uint32_t> code_point_index(std::string_view s) {
  std::vector<uint32_t> cp_at(s.size() + 1);
  std::size_t i = 0, cp = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    next(s, i);
    for (std::size_t k = start; k < i; ++k) cp_at[k] = static_cast<uint32_t>(cp);
    ++cp;
  }
  cp_at[s.size()] = static_cast<uint32_t>(cp);
  return cp_at;
}

std::size_t byte_offset(std::string_view s, std::size_t cp) {
  std::size_t i = 0;
  for (std::size_t n = 0; n < cp && i < s.size(); ++n) next(s, i);
  return i;
}

std::string substr(std::string_view s, std::size_t start, std::size_t end) {
  if (end <= start) return "";
  const std::size_t b = byte_offset(s, start);
  return std::string(s.substr(b, byte_offset(s, end) - b));
}

}  // namespace bertkit::utf8
