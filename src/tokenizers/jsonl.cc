#include "bertkit/tokenizers/jsonl.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/parallel.h"
#include "bertkit/core/utf8.h"

namespace bertkit {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

// A {"text": "...", "text_pair": "..."} line, as `bertkit tokenize` reads them
// by the million, without building a JSON DOM. Anything else (other keys, unicode
// escapes, non-string values, invalid JSON or UTF-8) returns false and is read
// by nlohmann::json, which also words the errors.
class FastTextLine {
 public:
  explicit FastTextLine(std::string_view s) : s_(s) {}

  bool parse(TokenizeInput& in) {
    if (!eat('{')) return false;
    bool text = false, pair = false;
    std::string key;
    do {
      if (!string(key) || !eat(':')) return false;
      if (key == "text" && !text) {
        if (!string(in.text)) return false;
        text = true;
      } else if (key == "text_pair" && !pair) {
        if (!string(key)) return false;
        in.pair = key;
        pair = true;
      } else {
        return false;
      }
    } while (eat(','));
    if (!eat('}')) return false;
    skip_space();
    return text && i_ == s_.size();
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }
  bool eat(char c) {
    skip_space();
    if (i_ >= s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) return false;
        const char e = s_[i_ + 1];
        const char* from = "\"\\/bfnrt";
        const char* to = "\"\\/\b\f\n\r\t";
        const char* hit = std::strchr(from, e);
        if (e == '\0' || hit == nullptr) return false;  // unicode escapes: nlohmann
        out += to[hit - from];
        i_ += 2;
      } else if (c < 0x20) {
        return false;
      } else if (c >= 0x80) {
        const std::size_t n = utf8::sequence_length(s_, i_);
        if (n == 0) return false;
        out.append(s_.data() + i_, n);
        i_ += n;
      } else {
        std::size_t j = i_ + 1;
        while (j < s_.size() && s_[j] != '"' && s_[j] != '\\' && static_cast<unsigned char>(s_[j]) >= 0x20 &&
               static_cast<unsigned char>(s_[j]) < 0x80)
          ++j;
        out.append(s_.data() + i_, j - i_);
        i_ = j;
      }
    }
    return false;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// One non-blank line through nlohmann::json; errors name `where`.
TokenizeInput parse_json_line(const std::string& line, const std::string& where, InputFormat format) {
  TokenizeInput in;
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error& e) {
    throw InputError(where + ": not a JSON object (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw InputError(where + ": expected a JSON object, got " + std::string(j.type_name()));
  if (format == InputFormat::Words) {
    auto it = j.find("words");
    if (it == j.end() || !it->is_array())
      throw InputError(where + ": expected {\"words\": [\"...\", ...]}");
    for (const auto& w : *it) {
      if (!w.is_string()) throw InputError(where + ": \"words\" must hold strings only");
      in.words.push_back(w.get<std::string>());
    }
    in.is_words = true;
  } else {
    auto it = j.find("text");
    if (it == j.end() || !it->is_string())
      throw InputError(where + ": expected a string \"text\" (and optionally \"text_pair\")");
    in.text = it->get<std::string>();
    auto p = j.find("text_pair");
    if (p != j.end() && !p->is_null()) {
      if (!p->is_string()) throw InputError(where + ": \"text_pair\" must be a string");
      in.pair = p->get<std::string>();
    }
  }
  return in;
}

}  // namespace

std::vector<TokenizeInput> parse_tokenize_inputs(const std::string& content, const std::string& source,
                                                 InputFormat format) {
  std::vector<TokenizeInput> out;
  std::size_t pos = 0, line_no = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) nl = content.size();
    std::string_view line(content.data() + pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
    TokenizeInput in;
    if (format == InputFormat::TextLines) {
      in.text = std::string(line);
    } else if (format != InputFormat::Jsonl || !FastTextLine(line).parse(in)) {
      in = parse_json_line(std::string(line), source + ":" + std::to_string(line_no), format);
    }
    out.push_back(std::move(in));
  }
  return out;
}

namespace {

// JSON written straight into a string (no DOM per line): the same bytes as
// nlohmann's dump(-1, ' ', ensure_ascii=false, replace), which the HF
// fixtures match. Strings that are not valid UTF-8 go through nlohmann itself.

void append_json_string(std::string& out, std::string_view s) {
  const std::size_t mark = out.size();
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8::sequence_length(s, i);
      if (n == 0) {  // invalid UTF-8: nlohmann's own replacement rules
        out.resize(mark);
        out += ojson(std::string(s)).dump(-1, ' ', false, ojson::error_handler_t::replace);
        return;
      }
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char u[8];
          std::snprintf(u, sizeof u, "\\u%04x", c);
          out += u;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_int(std::string& out, long long v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

template <class Int>
void append_int_array(std::string& out, const std::vector<Int>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    append_int(out, static_cast<long long>(v[i]));
  }
  out += ']';
}

void append_string_array(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, v[i]);
  }
  out += ']';
}

void append_offsets(std::string& out, const std::vector<Offset>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += i ? ",[" : "[";
    append_int(out, static_cast<long long>(v[i].first));
    out += ',';
    append_int(out, static_cast<long long>(v[i].second));
    out += ']';
  }
  out += ']';
}

// "ids",...,"offsets"[,"word_ids",...,"byte_offsets"], after a '{' or a field.
void append_fields(std::string& out, const Encoding& e, const TokenizeOutputOptions& options) {
  out += "\"ids\":";
  append_int_array(out, e.ids);
  out += ",\"type_ids\":";
  append_int_array(out, e.type_ids);
  out += ",\"tokens\":";
  append_string_array(out, e.tokens);
  out += ",\"offsets\":";
  append_offsets(out, e.offsets);
  if (options.all_fields) {
    out += ",\"word_ids\":";
    append_int_array(out, e.word_ids);
    out += ",\"special_tokens_mask\":";
    append_int_array(out, e.special_tokens_mask);
    out += ",\"attention_mask\":";
    append_int_array(out, e.attention_mask);
    out += ",\"byte_offsets\":";  // not part of the HF format: last
    append_offsets(out, e.byte_offsets);
  }
}

// One output line with its newline.
void append_output_line(std::string& out, const TokenizeInput& input, const Encoding& encoding,
                        const Tokenizer& tokenizer, const TokenizeOutputOptions& options) {
  if (options.ids_only) {  // "101 7592 102"
    for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
      if (i) out += ' ';
      append_int(out, encoding.ids[i]);
    }
    out += '\n';
    return;
  }
  if (input.is_words) {
    out += "{\"words\":";
    append_string_array(out, input.words);
  } else {
    out += "{\"text\":";
    append_json_string(out, input.text);
    if (input.pair) {
      out += ",\"text_pair\":";
      append_json_string(out, *input.pair);
    }
  }
  out += ',';
  append_fields(out, encoding, options);
  if (options.overflowing) {
    out += ",\"overflowing\":[";
    for (std::size_t i = 0; i < encoding.overflowing.size(); ++i) {
      out += i ? ",{" : "{";
      append_fields(out, encoding.overflowing[i], options);
      out += '}';
    }
    out += ']';
  }
  if (options.decode) {
    out += ",\"decoded\":";
    append_json_string(out, tokenizer.decode(encoding.ids, true));
  }
  out += "}\n";
}

}  // namespace

std::string tokenize_output_line(const TokenizeInput& input, const Encoding& encoding, const Tokenizer& tokenizer,
                                 const TokenizeOutputOptions& options) {
  std::string line;
  append_output_line(line, input, encoding, tokenizer, options);
  line.pop_back();
  return line;
}
namespace {

// The encodings of inputs[start, stop): one encode_batch when every line is a
// single text or every line a pair (padding spans the chunk), else line by line.
std::vector<Encoding> encode_chunk(const Tokenizer& tokenizer, const std::vector<TokenizeInput>& inputs,
                                   std::size_t start, std::size_t stop, const EncodeOptions& encode, unsigned threads) {
  std::vector<Encoding> encs;
  if (inputs[start].is_words) {
    for (std::size_t i = start; i < stop; ++i) encs.push_back(tokenizer.encode_words(inputs[i].words, encode));
    return encs;
  }
  std::size_t with_pair = 0;
  for (std::size_t i = start; i < stop; ++i) with_pair += inputs[i].pair.has_value();
  if (with_pair == 0 || with_pair == stop - start) {
    std::vector<std::string> texts, pairs;
    texts.reserve(stop - start);
    for (std::size_t i = start; i < stop; ++i) {
      texts.push_back(inputs[i].text);
      if (with_pair) pairs.push_back(*inputs[i].pair);
    }
    return tokenizer.encode_batch(texts, with_pair ? &pairs : nullptr, encode, threads);
  }
  // Mixed single texts and pairs: encode one by one (padding applies per line).
  for (std::size_t i = start; i < stop; ++i)
    encs.push_back(inputs[i].pair ? tokenizer.encode(inputs[i].text, std::string_view(*inputs[i].pair), encode)
                                  : tokenizer.encode(inputs[i].text, std::nullopt, encode));
  return encs;
}

}  // namespace

void write_tokenized(const Tokenizer& tokenizer, const std::vector<TokenizeInput>& inputs, const EncodeOptions& encode,
                     const TokenizeOutputOptions& options, unsigned threads, std::ostream& out) {
  const std::size_t chunk = 4096, block = 256;  // lines encoded together / formatted by one thread
  std::vector<std::string> text((chunk + block - 1) / block);
  for (std::size_t start = 0; start < inputs.size(); start += chunk) {
    const std::size_t stop = std::min(inputs.size(), start + chunk);
    const std::vector<Encoding> encs = encode_chunk(tokenizer, inputs, start, stop, encode, threads);
    // Blocks of lines formatted in parallel, written in input order.
    const std::size_t blocks = (stop - start + block - 1) / block;
    parallel_for(blocks, threads, [&](std::size_t b) {
      std::string& t = text[b];
      t.clear();
      for (std::size_t i = start + b * block; i < std::min(stop, start + (b + 1) * block); ++i)
        append_output_line(t, inputs[i], encs[i - start], tokenizer, options);
    });
    for (std::size_t b = 0; b < blocks; ++b) out.write(text[b].data(), static_cast<std::streamsize>(text[b].size()));
  }
}

}  // namespace bertkit
