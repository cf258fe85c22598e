#include "bertkit/tokenizers/jsonl.h"

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"

namespace bertkit {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::vector<TokenizeInput> parse_tokenize_inputs(const std::string& content, const std::string& source,
                                                 InputFormat format) {
  std::vector<TokenizeInput> out;
  std::size_t pos = 0, line_no = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) nl = content.size();
    std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool blank = line.find_first_not_of(" \t") == std::string::npos;
    if (blank) continue;
    const std::string where = source + ":" + std::to_string(line_no);
    TokenizeInput in;
    if (format == InputFormat::TextLines) {
      in.text = line;
      out.push_back(std::move(in));
      continue;
    }
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
    out.push_back(std::move(in));
  }
  return out;
}

namespace {
ojson fields(const Encoding& e, const TokenizeOutputOptions& options) {
  ojson r;
  r["ids"] = e.ids;
  r["type_ids"] = e.type_ids;
  r["tokens"] = e.tokens;
  ojson offsets = ojson::array();
  for (const auto& o : e.offsets) offsets.push_back(ojson::array({o.first, o.second}));
  r["offsets"] = offsets;
  if (options.all_fields) {
    r["word_ids"] = e.word_ids;
    r["special_tokens_mask"] = e.special_tokens_mask;
    r["attention_mask"] = e.attention_mask;
    ojson bytes = ojson::array();
    for (const auto& o : e.byte_offsets) bytes.push_back(ojson::array({o.first, o.second}));
    r["byte_offsets"] = bytes;
  }
  return r;
}
}  // namespace

std::string tokenize_output_line(const TokenizeInput& input, const Encoding& encoding, const Tokenizer& tokenizer,
                                 const TokenizeOutputOptions& options) {
  ojson r;
  if (input.is_words) {
    r["words"] = input.words;
  } else {
    r["text"] = input.text;
    if (input.pair) r["text_pair"] = *input.pair;
  }
  ojson f = fields(encoding, options);
  for (auto& [k, v] : f.items()) r[k] = v;
  if (options.all_fields) {
    // byte offsets are not part of the HF format; keep them last.
    ojson b = r["byte_offsets"];
    r.erase("byte_offsets");
    r["byte_offsets"] = b;
  }
  if (options.overflowing) {
    ojson o = ojson::array();
    for (const auto& w : encoding.overflowing) o.push_back(fields(w, options));
    r["overflowing"] = o;
  }
  if (options.decode) r["decoded"] = tokenizer.decode(encoding.ids, true);
  return r.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

void tokenize_to_jsonl(const Tokenizer& tokenizer, const std::vector<TokenizeInput>& inputs,
                       const EncodeOptions& encode, const TokenizeOutputOptions& options, unsigned threads,
                       std::ostream& out) {
  const std::size_t chunk = 4096;
  for (std::size_t start = 0; start < inputs.size(); start += chunk) {
    std::size_t stop = std::min(inputs.size(), start + chunk);
    std::vector<Encoding> encs;
    bool words = inputs[start].is_words;
    if (words) {
      for (std::size_t i = start; i < stop; ++i) encs.push_back(tokenizer.encode_words(inputs[i].words, encode));
    } else {
      std::vector<std::string> texts, pairs;
      std::size_t with_pair = 0;
      for (std::size_t i = start; i < stop; ++i) with_pair += inputs[i].pair.has_value();
      if (with_pair == 0 || with_pair == stop - start) {
        for (std::size_t i = start; i < stop; ++i) {
          texts.push_back(inputs[i].text);
          if (with_pair) pairs.push_back(*inputs[i].pair);
        }
        encs = tokenizer.encode_batch(texts, with_pair ? &pairs : nullptr, encode, threads);
      } else {
        // Mixed single texts and pairs: encode one by one (padding applies per line).
        for (std::size_t i = start; i < stop; ++i)
          encs.push_back(inputs[i].pair ? tokenizer.encode(inputs[i].text, std::string_view(*inputs[i].pair), encode)
                                        : tokenizer.encode(inputs[i].text, std::nullopt, encode));
      }
    }
    for (std::size_t i = start; i < stop; ++i)
      out << tokenize_output_line(inputs[i], encs[i - start], tokenizer, options) << '\n';
  }
}

}  // namespace bertkit
