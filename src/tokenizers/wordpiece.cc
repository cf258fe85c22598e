#include "bertkit/tokenizers/wordpiece.h"

#include <unordered_set>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "unicode.h"

namespace bertkit {

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t fnv(const char* s, std::size_t n) {
  uint64_t h = kFnvOffset;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(s[i])) * kFnvPrime;
  return h;
}
inline uint64_t mix(uint64_t h) {
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

inline bool is_char_start(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

}  // namespace

// ---------------------------------------------------------------------------
// WordPieceModel
// ---------------------------------------------------------------------------
void WordPieceModel::Table::build(const std::vector<std::pair<std::string_view, int32_t>>& entries) {
  std::size_t cap = 16;
  while (cap < entries.size() * 2 + 1) cap <<= 1;
  slots.assign(cap, Slot{});
  mask = cap - 1;
  for (const auto& [key, id] : entries) {
    uint64_t h = fnv(key.data(), key.size());
    uint64_t i = mix(h) & mask;
    for (;; i = (i + 1) & mask) {
      Slot& s = slots[i];
      if (s.id < 0) {
        s = Slot{h, key.data(), static_cast<uint32_t>(key.size()), id};
        break;
      }
      if (s.hash == h && s.len == key.size() && std::memcmp(s.data, key.data(), key.size()) == 0) {
        s.id = id;  // a later duplicate wins, as in HF's vocabulary map
        break;
      }
    }
  }
}

int32_t WordPieceModel::Table::find(uint64_t h, const char* data, std::size_t len) const {
  for (uint64_t i = mix(h) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.id < 0) return -1;
    if (s.hash == h && s.len == len && std::memcmp(s.data, data, len) == 0) return s.id;
  }
}

WordPieceModel::WordPieceModel(std::vector<std::string> vocab, std::string unk_token, std::string prefix,
                               std::size_t max_input_chars_per_word)
    : vocab_(std::move(vocab)),
      unk_token_(std::move(unk_token)),
      prefix_(std::move(prefix)),
      max_chars_(max_input_chars_per_word) {
  std::vector<std::pair<std::string_view, int32_t>> initial, continuing;
  initial.reserve(vocab_.size());
  for (std::size_t i = 0; i < vocab_.size(); ++i) {
    const std::string& t = vocab_[i];
    initial.emplace_back(t, static_cast<int32_t>(i));
    max_token_bytes_ = std::max(max_token_bytes_, t.size());
    if (!prefix_.empty() && t.size() > prefix_.size() && t.compare(0, prefix_.size(), prefix_) == 0)
      continuing.emplace_back(std::string_view(t).substr(prefix_.size()), static_cast<int32_t>(i));
  }
  initial_.build(initial);
  continuing_.build(continuing);
  unk_id_ = token_to_id(unk_token_);
}

int32_t WordPieceModel::token_to_id(std::string_view token) const {
  if (initial_.slots.empty()) return -1;
  return initial_.find(fnv(token.data(), token.size()), token.data(), token.size());
}

const std::string& WordPieceModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size())
    throw InputError("token id " + std::to_string(id) + " is outside the vocabulary (size " +
                     std::to_string(vocab_.size()) + ")");
  return vocab_[static_cast<std::size_t>(id)];
}

bool WordPieceModel::is_continuation(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size() || prefix_.empty()) return false;
  const std::string& t = vocab_[static_cast<std::size_t>(id)];
  return t.size() > prefix_.size() && t.compare(0, prefix_.size(), prefix_) == 0;
}

void WordPieceModel::tokenize_word(std::string_view word, std::size_t chars, std::vector<Piece>& out) const {
  const std::size_t n = word.size();
  if (n == 0) return;
  if (chars > max_chars_) {
    out.push_back({0, static_cast<uint32_t>(n), unk_id_});
    return;
  }
  const std::size_t mark = out.size();
  // (end, hash of word[start, end)) for each character boundary, longest last.
  thread_local std::vector<std::pair<uint32_t, uint64_t>> ends;
  std::size_t start = 0;
  while (start < n) {
    const Table& table = start == 0 ? initial_ : continuing_;
    const std::size_t limit = std::min(n, start + max_token_bytes_);
    ends.clear();
    uint64_t h = kFnvOffset;
    for (std::size_t i = start; i < limit; ++i) {
      h = (h ^ static_cast<unsigned char>(word[i])) * kFnvPrime;
      if (i + 1 == n || is_char_start(word[i + 1])) ends.emplace_back(static_cast<uint32_t>(i + 1), h);
    }
    int32_t found = -1;
    std::size_t end = start;
    for (std::size_t k = ends.size(); k-- > 0;) {
      found = table.find(ends[k].second, word.data() + start, ends[k].first - start);
      if (found >= 0) {
        end = ends[k].first;
        break;
      }
    }
    if (found < 0) {
      out.resize(mark);
      out.push_back({0, static_cast<uint32_t>(n), unk_id_});
      return;
    }
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(end), found});
    start = end;
  }
}

// ---------------------------------------------------------------------------
// WordPieceTokenizer
// ---------------------------------------------------------------------------
WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceConfig config)
    : config_(std::move(config)) {
  if (vocab.empty()) throw InputError("WordPiece: the vocabulary is empty");
  model_ = WordPieceModel(std::move(vocab), config_.unk_token, config_.continuing_subword_prefix,
                          config_.max_input_chars_per_word);
  specials_ = config_.special_tokens;
  specials_.unk_token = config_.unk_token;
  model_max_length_ = config_.model_max_length;
  resolve_special_ids();
  if (model_.unk_id() < 0)
    throw InputError("WordPiece: the unknown token '" + config_.unk_token + "' is not in the vocabulary");
  if (specials_.cls >= 0 && specials_.sep >= 0) {
    post_ = PostProcessor::bert(specials_.cls_token, specials_.cls, specials_.sep_token, specials_.sep);
  } else {
    // A vocabulary without [CLS]/[SEP] (e.g. trained without them): no specials, B has type 1.
    TemplatePiece a, b;
    a.is_sequence = b.is_sequence = true;
    b.sequence = 1;
    b.type_id = 1;
    post_.single = {a};
    post_.pair = {a, b};
  }
  std::vector<AddedToken> added;
  for (const std::string* t : {&specials_.pad_token, &specials_.unk_token, &specials_.cls_token,
                               &specials_.sep_token, &specials_.mask_token}) {
    int32_t id = model_.token_to_id(*t);
    if (id < 0) continue;
    bool dup = false;
    for (const auto& a : added) dup = dup || a.content == *t;
    if (!dup) added.push_back(AddedToken{*t, id, true});
  }
  set_added_tokens(std::move(added));
  rebuild_tables();
}

void WordPieceTokenizer::rebuild_tables() {
  const auto& n = config_.normalizer;
  for (int c = 0; c < 128; ++c) {
    unsigned char cls = 0;
    bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    bool control = (c < 0x20 && !ws) || c == 0x7F;
    if (n.clean_text && control)
      cls = 2;
    else if (ws || c == 0x0B || c == 0x0C)
      cls = 1;
    else if (unicode::is_punctuation(static_cast<char32_t>(c)))
      cls = 3;
    ascii_class_[c] = cls;
    ascii_lower_[c] = static_cast<char>((n.lowercase && c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
}

void WordPieceTokenizer::set_normalizer(const BertNormalizerOptions& options) {
  config_.normalizer = options;
  rebuild_tables();
}

void WordPieceTokenizer::add_tokens(const std::vector<AddedToken>& tokens) {
  std::vector<AddedToken> all = added_;
  for (const auto& t : tokens) {
    bool replaced = false;
    for (auto& a : all)
      if (a.content == t.content) {
        a = t;
        replaced = true;
      }
    if (!replaced) all.push_back(t);
  }
  set_added_tokens(std::move(all));
}

int32_t WordPieceTokenizer::token_to_id(std::string_view token) const {
  for (const auto& a : added_)
    if (a.content == token) return a.id;
  return model_.token_to_id(token);
}

std::string WordPieceTokenizer::id_to_token(int32_t id) const {
  if (id >= 0 && static_cast<std::size_t>(id) < model_.size()) return model_.vocab_[static_cast<std::size_t>(id)];
  for (const auto& a : added_)
    if (a.id == id) return a.content;
  return model_.id_to_token(id);  // throws with the range
}

namespace {
// The word being built: normalised bytes + for each byte the original
// character it came from (code point index, byte range).
struct WordBuffer {
  std::string bytes;
  std::vector<uint32_t> cp, b0, b1;
  std::size_t chars = 0;
  void clear() {
    bytes.clear();
    cp.clear();
    b0.clear();
    b1.clear();
    chars = 0;
  }
  void push_ascii(char c, uint32_t cpi, uint32_t bs) {
    bytes.push_back(c);
    cp.push_back(cpi);
    b0.push_back(bs);
    b1.push_back(bs + 1);
    ++chars;
  }
  void push(char32_t c, uint32_t cpi, uint32_t bs, uint32_t be) {
    std::size_t before = bytes.size();
    utf8::append(bytes, c);
    for (std::size_t k = before; k < bytes.size(); ++k) {
      cp.push_back(cpi);
      b0.push_back(bs);
      b1.push_back(be);
    }
    ++chars;
  }
};
}  // namespace

void WordPieceTokenizer::segment(std::string_view text, std::size_t begin, std::size_t end, std::size_t& cp,
                                 RawTokens& out, int32_t& word, int32_t fixed_word,
                                 std::vector<std::string>* words) const {
  thread_local WordBuffer w;
  thread_local std::vector<WordPieceModel::Piece> pieces;
  w.clear();
  const auto& norm = config_.normalizer;
  const bool strip = norm.strips_accents();

  auto flush = [&]() {
    if (w.bytes.empty()) return;
    if (words) {  // pre-tokenisation only (vocabulary training)
      words->push_back(w.bytes);
      w.clear();
      return;
    }
    pieces.clear();
    model_.tokenize_word(w.bytes, w.chars, pieces);
    int32_t wid = fixed_word >= 0 ? fixed_word : word;
    for (const auto& p : pieces) {
      out.push(p.id, Offset{w.cp[p.begin], w.cp[p.end - 1] + 1}, Offset{w.b0[p.begin], w.b1[p.end - 1]}, wid);
    }
    ++word;
    w.clear();
  };

  std::size_t i = begin;
  while (i < end) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (ascii_class_[c]) {
        case 0:
          w.push_ascii(ascii_lower_[c], static_cast<uint32_t>(cp), static_cast<uint32_t>(i));
          break;
        case 1:
          flush();
          break;
        case 2:
          break;
        default:
          flush();
          w.push_ascii(static_cast<char>(c), static_cast<uint32_t>(cp), static_cast<uint32_t>(i));
          flush();
          break;
      }
      ++i;
      ++cp;
      continue;
    }
    const std::size_t start = i;
    char32_t ch = utf8::next(text, i);
    const uint32_t cpi = static_cast<uint32_t>(cp);
    ++cp;
    if (norm.clean_text) {
      if (ch == 0xFFFD || unicode::is_control(ch)) continue;
      if (unicode::is_bert_whitespace(ch)) {
        flush();
        continue;
      }
    }
    char32_t dec[32];
    std::size_t nd = 1;
    dec[0] = ch;
    if (strip) {
      nd = unicode::nfd(ch, dec, 32);
      std::size_t k = 0;
      for (std::size_t j = 0; j < nd; ++j)
        if (!unicode::is_mark_nonspacing(dec[j])) dec[k++] = dec[j];
      nd = k;
    }
    const bool chinese = norm.handle_chinese_chars && unicode::is_chinese(ch);
    if (chinese) flush();
    for (std::size_t j = 0; j < nd; ++j) {
      char32_t low[3];
      std::size_t nl = 1;
      low[0] = dec[j];
      if (norm.lowercase) nl = unicode::lower(dec[j], low);
      for (std::size_t k = 0; k < nl; ++k) {
        char32_t o = low[k];
        if (unicode::is_whitespace(o)) {
          flush();
        } else if (unicode::is_punctuation(o)) {
          flush();
          w.push(o, cpi, static_cast<uint32_t>(start), static_cast<uint32_t>(i));
          flush();
        } else {
          w.push(o, cpi, static_cast<uint32_t>(start), static_cast<uint32_t>(i));
        }
      }
    }
    if (chinese) flush();
  }
  flush();
}

void WordPieceTokenizer::pre_tokenize(std::string_view text, std::vector<std::string>& words) const {
  RawTokens unused;
  std::size_t cp = 0;
  int32_t word = 0;
  segment(text, 0, text.size(), cp, unused, word, -1, &words);
}

int32_t WordPieceTokenizer::split(std::string_view text, RawTokens& out, int32_t first_word,
                                  int32_t fixed_word) const {
  std::size_t cp = 0, pos = 0;
  int32_t word = first_word;
  for (;;) {
    std::size_t k = 0;
    std::size_t next = find_added(text, pos, k);
    std::size_t stop = next == std::string_view::npos ? text.size() : next;
    segment(text, pos, stop, cp, out, word, fixed_word);
    if (next == std::string_view::npos) break;
    const AddedToken& t = added_[k];
    std::size_t chars = utf8::count(t.content);
    out.push(t.id, Offset{cp, cp + chars}, Offset{next, next + t.content.size()},
             fixed_word >= 0 ? fixed_word : word);
    out.added_words.push_back(fixed_word >= 0 ? fixed_word : word);
    ++word;
    cp += chars;
    pos = next + t.content.size();
  }
  return word;
}

namespace {
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}
// HF's clean-up of tokenization spaces (tokenizers' WordPiece decoder and
// transformers' clean_up_tokenization use the same list).
void cleanup(std::string& s) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}
}  // namespace

std::string WordPieceTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string out;
  const std::string& prefix = model_.prefix();
  bool first = true;
  for (int32_t id : ids) {
    if (skip_special_tokens && is_added_special(id)) continue;
    std::string tok = id_to_token(id);
    if (!first) {
      if (!prefix.empty() && tok.compare(0, prefix.size(), prefix) == 0)
        tok.erase(0, prefix.size());
      else
        tok.insert(tok.begin(), ' ');
    }
    if (config_.decoder_cleanup) cleanup(tok);
    out += tok;
    first = false;
  }
  if (config_.clean_up_tokenization_spaces) cleanup(out);
  return out;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

json parse_json_file(const std::string& path) {
  std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
}

// A special token in tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}.
std::optional<std::string> token_string(const json& cfg, const char* key, const std::string& path) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw InputError(path + ": key '" + key + "' must be a string or an object with \"content\"");
}

template <typename T>
T get_or(const json& j, const char* key, T fallback, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw InputError(path + ": key '" + key + "' has the wrong type (" + it->type_name() + ")");
  }
}

// Apply tokenizer_config.json (transformers) on top of `config`.
void apply_tokenizer_config(const std::string& path, WordPieceConfig& config, bool normalizer_too,
                            std::vector<AddedToken>* added) {
  json cfg = parse_json_file(path);
  if (!cfg.is_object()) throw InputError(path + ": expected a JSON object");
  if (normalizer_too) {
    config.normalizer.lowercase = get_or<bool>(cfg, "do_lower_case", config.normalizer.lowercase, path);
    if (cfg.contains("strip_accents")) {
      const json& sa = cfg["strip_accents"];
      if (sa.is_null())
        config.normalizer.strip_accents.reset();
      else if (sa.is_boolean())
        config.normalizer.strip_accents = sa.get<bool>();
      else
        throw InputError(path + ": key 'strip_accents' must be true, false or null");
    }
    config.normalizer.handle_chinese_chars =
        get_or<bool>(cfg, "tokenize_chinese_chars", config.normalizer.handle_chinese_chars, path);
  }
  if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
    double m = cfg["model_max_length"].get<double>();
    // transformers writes 1e30 (VERY_LARGE_INTEGER) when a model has no limit.
    config.model_max_length = m > 1e9 ? 0 : static_cast<std::size_t>(m);
  }
  config.clean_up_tokenization_spaces =
      get_or<bool>(cfg, "clean_up_tokenization_spaces", config.clean_up_tokenization_spaces, path);
  auto& st = config.special_tokens;
  if (auto t = token_string(cfg, "unk_token", path)) config.unk_token = st.unk_token = *t;
  if (auto t = token_string(cfg, "sep_token", path)) st.sep_token = *t;
  if (auto t = token_string(cfg, "pad_token", path)) st.pad_token = *t;
  if (auto t = token_string(cfg, "cls_token", path)) st.cls_token = *t;
  if (auto t = token_string(cfg, "mask_token", path)) st.mask_token = *t;
  if (added && cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object()) {
    for (auto& [key, v] : cfg["added_tokens_decoder"].items()) {
      AddedToken t;
      try {
        t.id = std::stoi(key);
      } catch (const std::exception&) {
        throw InputError(path + ": added_tokens_decoder key '" + key + "' is not a token id");
      }
      t.content = get_or<std::string>(v, "content", "", path);
      t.special = get_or<bool>(v, "special", true, path);
      t.normalized = get_or<bool>(v, "normalized", false, path);
      t.lstrip = get_or<bool>(v, "lstrip", false, path);
      t.rstrip = get_or<bool>(v, "rstrip", false, path);
      t.single_word = get_or<bool>(v, "single_word", false, path);
      if (!t.content.empty()) added->push_back(t);
    }
  }
}

bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &c);
    if (n <= 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

}  // namespace

std::vector<std::string> read_vocab_file(const std::string& path) {
  std::string text = read_file(path);
  std::vector<std::string> vocab;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!valid_utf8(line))  // transformers' load_vocab fails here too (UnicodeDecodeError)
      throw InputError(path + ":" + std::to_string(vocab.size() + 1) +
                       ": not valid UTF-8 (expected one UTF-8 token a line)");
    vocab.push_back(std::move(line));
    pos = nl + 1;
  }
  return vocab;
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_vocab_file(const std::string& vocab_path,
                                                                        const std::string& tokenizer_config_path) {
  std::vector<std::string> vocab = read_vocab_file(vocab_path);
  if (vocab.empty()) throw InputError(vocab_path + ": the vocabulary file is empty (expected one token a line)");
  WordPieceConfig config;
  std::vector<AddedToken> added;
  if (!tokenizer_config_path.empty()) apply_tokenizer_config(tokenizer_config_path, config, true, &added);
  if (std::find(vocab.begin(), vocab.end(), config.unk_token) == vocab.end())
    throw InputError(vocab_path + ": the unknown token '" + config.unk_token +
                     "' is not in the vocabulary; is this a WordPiece vocab.txt?");
  auto tok = std::make_unique<WordPieceTokenizer>(std::move(vocab), config);
  std::vector<AddedToken> extra;
  for (auto& t : added)
    if (static_cast<std::size_t>(t.id) < tok->vocab_size() && tok->model_.vocab()[t.id] == t.content)
      extra.push_back(t);
  if (!extra.empty()) tok->add_tokens(extra);
  return tok;
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_tokenizer_json(const std::string& path,
                                                                            const std::string& tokenizer_config_path) {
  json j = parse_json_file(path);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw InputError(path + ": expected a HF tokenizer.json with a \"model\" object");
  const json& m = j["model"];
  std::string type = get_or<std::string>(m, "type", "WordPiece", path);
  if (type != "WordPiece")
    throw InputError(path + ": model.type is '" + type + "'; bertkit reads WordPiece tokenizer.json files "
                     "(use the SentencePiece .model for unigram/BPE models)");
  WordPieceConfig config;
  config.unk_token = get_or<std::string>(m, "unk_token", "[UNK]", path);
  config.continuing_subword_prefix = get_or<std::string>(m, "continuing_subword_prefix", "##", path);
  config.max_input_chars_per_word = get_or<std::size_t>(m, "max_input_chars_per_word", 100, path);
  if (!m.contains("vocab") || !m["vocab"].is_object())
    throw InputError(path + ": model.vocab must be an object {token: id}");
  std::vector<std::string> vocab(m["vocab"].size());
  std::vector<bool> seen(vocab.size(), false);
  for (auto& [tok, idj] : m["vocab"].items()) {
    if (!idj.is_number_integer()) throw InputError(path + ": model.vocab['" + tok + "'] must be an integer id");
    int64_t id = idj.get<int64_t>();
    if (id < 0) throw InputError(path + ": model.vocab['" + tok + "'] has a negative id");
    if (static_cast<std::size_t>(id) >= vocab.size()) {
      vocab.resize(static_cast<std::size_t>(id) + 1);
      seen.resize(vocab.size(), false);
    }
    vocab[static_cast<std::size_t>(id)] = tok;
    seen[static_cast<std::size_t>(id)] = true;
  }

  // Normaliser.
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    const json& n = j["normalizer"];
    std::string nt = get_or<std::string>(n, "type", "", path);
    if (nt != "BertNormalizer")
      throw InputError(path + ": normalizer.type is '" + nt + "'; bertkit supports BertNormalizer (or null)");
    config.normalizer.clean_text = get_or<bool>(n, "clean_text", true, path);
    config.normalizer.handle_chinese_chars = get_or<bool>(n, "handle_chinese_chars", true, path);
    config.normalizer.lowercase = get_or<bool>(n, "lowercase", true, path);
    if (n.contains("strip_accents") && !n["strip_accents"].is_null())
      config.normalizer.strip_accents = get_or<bool>(n, "strip_accents", false, path);
  } else {
    config.normalizer.clean_text = false;
    config.normalizer.handle_chinese_chars = false;
    config.normalizer.lowercase = false;
    config.normalizer.strip_accents = false;
  }
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null()) {
    std::string pt = get_or<std::string>(j["pre_tokenizer"], "type", "", path);
    if (pt != "BertPreTokenizer")
      throw InputError(path + ": pre_tokenizer.type is '" + pt + "'; bertkit supports BertPreTokenizer");
  }
  if (j.contains("decoder") && j["decoder"].is_object())
    config.decoder_cleanup = get_or<bool>(j["decoder"], "cleanup", true, path);

  std::vector<AddedToken> added;
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& a : j["added_tokens"]) {
      AddedToken t;
      t.id = get_or<int32_t>(a, "id", -1, path);
      t.content = get_or<std::string>(a, "content", "", path);
      t.special = get_or<bool>(a, "special", false, path);
      t.normalized = get_or<bool>(a, "normalized", false, path);
      t.lstrip = get_or<bool>(a, "lstrip", false, path);
      t.rstrip = get_or<bool>(a, "rstrip", false, path);
      t.single_word = get_or<bool>(a, "single_word", false, path);
      if (t.id < 0 || t.content.empty()) throw InputError(path + ": added_tokens entries need an id and content");
      if (static_cast<std::size_t>(t.id) >= vocab.size()) {
        vocab.resize(static_cast<std::size_t>(t.id) + 1);
        seen.resize(vocab.size(), false);
      }
      if (!seen[static_cast<std::size_t>(t.id)]) {
        vocab[static_cast<std::size_t>(t.id)] = t.content;
        seen[static_cast<std::size_t>(t.id)] = true;
      }
      added.push_back(t);
    }
  }
  // Names of the specials: the post-processor's CLS/SEP, the model's UNK.
  PostProcessor post;
  bool have_post = false;
  if (j.contains("post_processor") && j["post_processor"].is_object()) {
    const json& p = j["post_processor"];
    std::string pt = get_or<std::string>(p, "type", "", path);
    if (pt == "TemplateProcessing") {
      auto pieces = [&](const char* key) {
        std::vector<TemplatePiece> out;
        if (!p.contains(key) || !p[key].is_array()) throw InputError(path + ": post_processor." + key + " must be a list");
        for (const auto& piece : p[key]) {
          TemplatePiece t;
          if (piece.contains("Sequence")) {
            t.is_sequence = true;
            std::string id = get_or<std::string>(piece["Sequence"], "id", "A", path);
            t.sequence = id == "B" ? 1 : 0;
            t.type_id = get_or<int32_t>(piece["Sequence"], "type_id", 0, path);
          } else if (piece.contains("SpecialToken")) {
            t.special = get_or<std::string>(piece["SpecialToken"], "id", "", path);
            t.type_id = get_or<int32_t>(piece["SpecialToken"], "type_id", 0, path);
          } else {
            throw InputError(path + ": post_processor." + key + " has a piece that is neither Sequence nor SpecialToken");
          }
          out.push_back(t);
        }
        return out;
      };
      post.single = pieces("single");
      post.pair = pieces("pair");
      if (p.contains("special_tokens") && p["special_tokens"].is_object()) {
        for (auto& [name, v] : p["special_tokens"].items()) {
          TemplateSpecial s;
          s.name = name;
          s.ids = get_or<std::vector<int32_t>>(v, "ids", {}, path);
          s.tokens = get_or<std::vector<std::string>>(v, "tokens", {}, path);
          if (s.ids.size() != s.tokens.size())
            throw InputError(path + ": post_processor.special_tokens['" + name + "'] has different ids and tokens counts");
          post.specials.push_back(std::move(s));
        }
      }
      for (const auto& piece : post.single)
        if (!piece.is_sequence) post.special(piece.special);  // validates
      for (const auto& piece : post.pair)
        if (!piece.is_sequence) post.special(piece.special);
      have_post = true;
      // BERT layout: first special is CLS, the one after $A is SEP.
      if (post.single.size() == 3 && !post.single[0].is_sequence && !post.single[2].is_sequence) {
        config.special_tokens.cls_token = post.special(post.single[0].special).tokens.at(0);
        config.special_tokens.sep_token = post.special(post.single[2].special).tokens.at(0);
      }
    } else if (pt == "BertProcessing") {
      auto cls = p.at("cls"), sep = p.at("sep");
      config.special_tokens.cls_token = cls.at(0).get<std::string>();
      config.special_tokens.sep_token = sep.at(0).get<std::string>();
      post = PostProcessor::bert(cls.at(0).get<std::string>(), cls.at(1).get<int32_t>(), sep.at(0).get<std::string>(),
                                 sep.at(1).get<int32_t>());
      have_post = true;
    } else {
      throw InputError(path + ": post_processor.type is '" + pt + "'; bertkit supports TemplateProcessing and BertProcessing");
    }
  }
  config.special_tokens.unk_token = config.unk_token;
  if (!tokenizer_config_path.empty()) apply_tokenizer_config(tokenizer_config_path, config, false, nullptr);
  auto tok = std::make_unique<WordPieceTokenizer>(std::move(vocab), config);
  if (have_post) {
    tok->post_ = post;
  } else if (j.contains("post_processor") && j["post_processor"].is_null()) {
    tok->post_ = PostProcessor{};
  }
  // tokenizer.json's added_tokens are the complete list.
  tok->set_added_tokens(std::move(added));
  return tok;
}

std::string WordPieceTokenizer::to_tokenizer_json() const {
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  std::vector<AddedToken> added = added_;
  std::sort(added.begin(), added.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  ojson at = ojson::array();
  for (const auto& a : added) {
    ojson t;
    t["id"] = a.id;
    t["content"] = a.content;
    t["single_word"] = a.single_word;
    t["lstrip"] = a.lstrip;
    t["rstrip"] = a.rstrip;
    t["normalized"] = a.normalized;
    t["special"] = a.special;
    at.push_back(t);
  }
  j["added_tokens"] = at;
  const auto& n = config_.normalizer;
  ojson norm;
  norm["type"] = "BertNormalizer";
  norm["clean_text"] = n.clean_text;
  norm["handle_chinese_chars"] = n.handle_chinese_chars;
  if (n.strip_accents)
    norm["strip_accents"] = *n.strip_accents;
  else
    norm["strip_accents"] = nullptr;
  norm["lowercase"] = n.lowercase;
  j["normalizer"] = norm;
  j["pre_tokenizer"] = ojson{{"type", "BertPreTokenizer"}};
  ojson post;
  post["type"] = "TemplateProcessing";
  auto pieces = [](const std::vector<TemplatePiece>& ps) {
    ojson out = ojson::array();
    for (const auto& p : ps) {
      ojson o;
      if (p.is_sequence)
        o["Sequence"] = ojson{{"id", p.sequence == 0 ? "A" : "B"}, {"type_id", p.type_id}};
      else
        o["SpecialToken"] = ojson{{"id", p.special}, {"type_id", p.type_id}};
      out.push_back(o);
    }
    return out;
  };
  post["single"] = pieces(post_.single);
  post["pair"] = pieces(post_.pair);
  ojson sp = ojson::object();
  for (const auto& s : post_.specials) sp[s.name] = ojson{{"id", s.name}, {"ids", s.ids}, {"tokens", s.tokens}};
  post["special_tokens"] = sp;
  j["post_processor"] = post;
  j["decoder"] = ojson{{"type", "WordPiece"}, {"prefix", model_.prefix()}, {"cleanup", config_.decoder_cleanup}};
  ojson model;
  model["type"] = "WordPiece";
  model["unk_token"] = model_.unk_token();
  model["continuing_subword_prefix"] = model_.prefix();
  model["max_input_chars_per_word"] = model_.max_input_chars_per_word();
  // ordered_json's lookups are linear: append through its vector base and
  // de-duplicate with a hash set, or a 30k vocabulary takes seconds.
  ojson vocab = ojson::object();
  auto& entries = static_cast<std::vector<std::pair<const std::string, ojson>>&>(vocab.get_ref<ojson::object_t&>());
  entries.reserve(model_.size());
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < model_.size(); ++i)
    if (seen.insert(model_.vocab()[i]).second) entries.emplace_back(model_.vocab()[i], i);
  model["vocab"] = vocab;
  j["model"] = model;
  return j.dump(2, ' ', false, ojson::error_handler_t::replace);
}

void WordPieceTokenizer::save(const std::string& dir) const {
  make_dirs(dir);
  std::string vocab;
  for (const auto& t : model_.vocab()) {
    vocab += t;
    vocab += '\n';
  }
  write_file_atomic(dir + "/vocab.txt", vocab);
  const auto& st = specials_;
  ojson stm;
  stm["cls_token"] = st.cls_token;
  stm["mask_token"] = st.mask_token;
  stm["pad_token"] = st.pad_token;
  stm["sep_token"] = st.sep_token;
  stm["unk_token"] = st.unk_token;
  write_file_atomic(dir + "/special_tokens_map.json", stm.dump(2) + "\n");
  ojson cfg;
  cfg["tokenizer_class"] = "BertTokenizer";
  cfg["do_lower_case"] = config_.normalizer.lowercase;
  if (config_.normalizer.strip_accents)
    cfg["strip_accents"] = *config_.normalizer.strip_accents;
  else
    cfg["strip_accents"] = nullptr;
  cfg["tokenize_chinese_chars"] = config_.normalizer.handle_chinese_chars;
  cfg["model_max_length"] = model_max_length_ ? model_max_length_ : static_cast<std::size_t>(1000000000000000019ull);
  cfg["clean_up_tokenization_spaces"] = config_.clean_up_tokenization_spaces;
  for (const auto& [k, v] : stm.items()) cfg[k] = v;
  write_file_atomic(dir + "/tokenizer_config.json", cfg.dump(2) + "\n");
  write_file_atomic(dir + "/tokenizer.json", to_tokenizer_json() + "\n");
}

}  // namespace bertkit
