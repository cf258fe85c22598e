// WordPieceTokenizer: BERT's normalizer and pre-tokenizer (one pass over the
// text), WordPiece over each word, and decoding. Its files: wordpiece_files.cc;
// the vocabulary table: wordpiece_model.cc.
#include "bertkit/tokenizers/wordpiece.h"

#include <algorithm>
#include <cstring>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"
#include "unicode.h"

namespace bertkit {

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

}  // namespace bertkit
