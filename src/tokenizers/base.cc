#include "bertkit/tokenizers/base.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "bertkit/core/error.h"
#include "bertkit/core/parallel.h"

namespace bertkit {

// ---------------------------------------------------------------------------
// Post-processor (HF TemplateProcessing)
// ---------------------------------------------------------------------------
PostProcessor PostProcessor::bert(const std::string& cls, int32_t cls_id, const std::string& sep, int32_t sep_id) {
  PostProcessor p;
  auto special = [](const std::string& name, int32_t type) {
    TemplatePiece t;
    t.special = name;
    t.type_id = type;
    return t;
  };
  auto seq = [](int s, int32_t type) {
    TemplatePiece t;
    t.is_sequence = true;
    t.sequence = s;
    t.type_id = type;
    return t;
  };
  p.single = {special(cls, 0), seq(0, 0), special(sep, 0)};
  p.pair = {special(cls, 0), seq(0, 0), special(sep, 0), seq(1, 1), special(sep, 1)};
  p.specials.push_back({cls, {cls_id}, {cls}});
  if (sep != cls) p.specials.push_back({sep, {sep_id}, {sep}});
  return p;
}

std::size_t PostProcessor::added_tokens(bool is_pair) const {
  std::size_t n = 0;
  for (const auto& piece : is_pair ? pair : single)
    if (!piece.is_sequence) n += special(piece.special).ids.size();
  return n;
}

const TemplateSpecial& PostProcessor::special(const std::string& name) const {
  for (const auto& s : specials)
    if (s.name == name) return s;
  throw InputError("post_processor: the template uses special token '" + name +
                   "' that is missing from its special_tokens");
}

// ---------------------------------------------------------------------------
// Added tokens
// ---------------------------------------------------------------------------
void TokenizerBase::set_added_tokens(std::vector<AddedToken> tokens) {
  // Longest first so that the longest match at a position wins (HF: leftmost-longest).
  std::stable_sort(tokens.begin(), tokens.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  added_ = std::move(tokens);
  std::memset(added_first_byte_, 0, sizeof(added_first_byte_));
  special_ids_sorted_.clear();
  for (const auto& t : added_) {
    if (!t.content.empty()) added_first_byte_[static_cast<unsigned char>(t.content[0])] = true;
    if (t.special) special_ids_sorted_.push_back(t.id);
  }
  std::sort(special_ids_sorted_.begin(), special_ids_sorted_.end());
}

bool TokenizerBase::is_added_special(int32_t id) const {
  return std::binary_search(special_ids_sorted_.begin(), special_ids_sorted_.end(), id);
}

std::size_t TokenizerBase::find_added(std::string_view text, std::size_t from, std::size_t& token) const {
  if (added_.empty()) return std::string_view::npos;
  const std::size_t n = text.size();
  for (std::size_t p = from; p < n; ++p) {
    if (!added_first_byte_[static_cast<unsigned char>(text[p])]) continue;
    for (std::size_t k = 0; k < added_.size(); ++k) {
      const std::string& c = added_[k].content;
      if (!c.empty() && n - p >= c.size() && std::memcmp(text.data() + p, c.data(), c.size()) == 0) {
        token = k;
        return p;
      }
    }
  }
  return std::string_view::npos;
}

void TokenizerBase::resolve_special_ids() {
  specials_.pad = token_to_id(specials_.pad_token);
  specials_.unk = token_to_id(specials_.unk_token);
  specials_.cls = token_to_id(specials_.cls_token);
  specials_.sep = token_to_id(specials_.sep_token);
  specials_.mask = token_to_id(specials_.mask_token);
}

// ---------------------------------------------------------------------------
// Truncation, windows, template
// ---------------------------------------------------------------------------
namespace {

// HF Encoding::truncate: the first `max_len` tokens, then windows of `max_len`
// that overlap by `stride`.
std::vector<RawTokens> windows(RawTokens seq, std::size_t max_len, std::size_t stride) {
  std::vector<RawTokens> out;
  const std::size_t n = seq.size();
  if (max_len >= n) {
    out.push_back(std::move(seq));
    return out;
  }
  if (max_len == 0) {
    out.emplace_back();
    out.push_back(std::move(seq));
    return out;
  }
  if (stride >= max_len)
    throw InputError("truncation: stride (" + std::to_string(stride) + ") must be smaller than the " +
                     std::to_string(max_len) + " tokens left for the sequence after specials; lower --stride");
  const std::size_t step = max_len - stride;
  for (std::size_t start = 0;; start += step) {
    std::size_t stop = std::min(start + max_len, n);
    RawTokens w;
    w.ids.assign(seq.ids.begin() + start, seq.ids.begin() + stop);
    w.offsets.assign(seq.offsets.begin() + start, seq.offsets.begin() + stop);
    w.byte_offsets.assign(seq.byte_offsets.begin() + start, seq.byte_offsets.begin() + stop);
    w.word_ids.assign(seq.word_ids.begin() + start, seq.word_ids.begin() + stop);
    out.push_back(std::move(w));
    if (stop == n) break;
  }
  return out;
}

}  // namespace

void TokenizerBase::truncate_early_exit(RawTokens& seq, std::size_t max_length) {
  // HF PreTokenizedString::tokenize_with_limit (right direction): after each
  // split it tokenises, stop once the running count is >= max_length; splits
  // that were already tokens (added tokens) count but do not stop it.
  const std::size_t n = seq.size();
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && seq.word_ids[j] == seq.word_ids[i]) ++j;
    const bool added = std::binary_search(seq.added_words.begin(), seq.added_words.end(), seq.word_ids[i]);
    if (!added && j >= max_length) {
      seq.ids.resize(j);
      seq.offsets.resize(j);
      seq.byte_offsets.resize(j);
      seq.word_ids.resize(j);
      return;
    }
    i = j;
  }
}

Encoding TokenizerBase::assemble(RawTokens a, const RawTokens* b, const EncodeOptions& options) const {
  std::vector<RawTokens> wa, wb;
  const bool is_pair = b != nullptr;
  RawTokens bcopy;
  if (is_pair) bcopy = *b;

  std::size_t max_length = options.max_length;
  if (max_length == 0 && options.truncation != Truncation::None) max_length = model_max_length_;
  if (options.truncation_early_exit && options.truncation != Truncation::None && max_length > 0) {
    if (!supports_truncation_early_exit())
      throw InputError("truncation_early_exit (HF tokenizers 0.23 windows) is only implemented for WordPiece "
                       "tokenizers; turn it off for this tokenizer");
    // HF: every sequence but the first under only_second.
    if (options.truncation != Truncation::OnlySecond) truncate_early_exit(a, max_length);
    if (is_pair) truncate_early_exit(bcopy, max_length);
  }
  if (options.truncation != Truncation::None && max_length > 0) {
    std::size_t added = options.add_special_tokens ? post_.added_tokens(is_pair) : 0;
    std::size_t limit = max_length > added ? max_length - added : 0;
    std::size_t n1 = a.size(), n2 = is_pair ? bcopy.size() : 0;
    std::size_t total = n1 + n2;
    std::size_t t1 = n1, t2 = n2;
    if (limit == 0) {
      t1 = 0;
      t2 = 0;
    } else if (total > limit) {
      std::size_t to_remove = total - limit;
      switch (options.truncation) {
        case Truncation::LongestFirst:
          if (is_pair) {
            std::size_t s1 = n1, s2 = n2;
            bool swapped = false;
            if (s1 > s2) {
              std::swap(s1, s2);
              swapped = true;
            }
            if (s1 > limit) {
              s2 = s1;
            } else {
              s2 = std::max(s1, limit - s1);
            }
            if (s1 + s2 > limit) {
              s1 = limit / 2;
              s2 = s1 + limit % 2;
            }
            if (swapped) std::swap(s1, s2);
            t1 = s1;
            t2 = s2;
          } else {
            t1 = limit;
          }
          break;
        case Truncation::OnlyFirst:
          if (n1 <= to_remove)
            throw InputError("truncation only_first: the first sequence (" + std::to_string(n1) +
                             " tokens) is too short to remove " + std::to_string(to_remove) +
                             " tokens; use longest_first or a larger max_length");
          t1 = n1 - to_remove;
          break;
        case Truncation::OnlySecond:
          if (!is_pair)
            throw InputError("truncation only_second needs a pair of sequences (text_pair)");
          if (n2 <= to_remove)
            throw InputError("truncation only_second: the second sequence (" + std::to_string(n2) +
                             " tokens) is too short to remove " + std::to_string(to_remove) +
                             " tokens; use longest_first or a larger max_length");
          t2 = n2 - to_remove;
          break;
        case Truncation::None:
          break;
      }
    }
    if (t1 < n1 || limit == 0) wa = windows(std::move(a), t1, options.stride);
    if (is_pair && (t2 < n2 || limit == 0)) wb = windows(std::move(bcopy), t2, options.stride);
  }
  if (wa.empty()) wa.push_back(std::move(a));
  if (is_pair && wb.empty()) wb.push_back(std::move(bcopy));

  auto build = [&](const RawTokens& x, const RawTokens* y) {
    Encoding e;
    std::size_t n = x.size() + (y ? y->size() : 0) + (options.add_special_tokens ? post_.added_tokens(y != nullptr) : 0);
    e.ids.reserve(n);
    e.type_ids.reserve(n);
    e.tokens.reserve(n);
    e.offsets.reserve(n);
    e.byte_offsets.reserve(n);
    e.attention_mask.reserve(n);
    e.special_tokens_mask.reserve(n);
    e.word_ids.reserve(n);
    e.sequence_ids.reserve(n);
    for (const auto& piece : y ? post_.pair : post_.single) {
      if (piece.is_sequence) {
        const RawTokens& s = piece.sequence == 0 ? x : *y;
        for (std::size_t i = 0; i < s.size(); ++i) {
          e.ids.push_back(s.ids[i]);
          e.type_ids.push_back(piece.type_id);
          e.tokens.push_back(id_to_token(s.ids[i]));
          e.offsets.push_back(s.offsets[i]);
          e.byte_offsets.push_back(s.byte_offsets[i]);
          e.attention_mask.push_back(1);
          e.special_tokens_mask.push_back(0);
          e.word_ids.push_back(s.word_ids[i]);
          e.sequence_ids.push_back(piece.sequence);
        }
      } else if (options.add_special_tokens) {
        const TemplateSpecial& sp = post_.special(piece.special);
        for (std::size_t i = 0; i < sp.ids.size(); ++i) {
          e.ids.push_back(sp.ids[i]);
          e.type_ids.push_back(piece.type_id);
          e.tokens.push_back(sp.tokens[i]);
          e.offsets.emplace_back(0, 0);
          e.byte_offsets.emplace_back(0, 0);
          e.attention_mask.push_back(1);
          e.special_tokens_mask.push_back(1);
          e.word_ids.push_back(-1);
          e.sequence_ids.push_back(-1);
        }
      }
    }
    return e;
  };

  Encoding main = build(wa[0], is_pair ? &wb[0] : nullptr);
  if (options.return_overflowing) {
    // HF Encoding::merge_with order: every later window of A with B's first
    // window (then with B's later windows), then A's first window with B's later windows.
    for (std::size_t i = 1; i < wa.size(); ++i) {
      main.overflowing.push_back(build(wa[i], is_pair ? &wb[0] : nullptr));
      if (is_pair)
        for (std::size_t j = 1; j < wb.size(); ++j) main.overflowing.push_back(build(wa[i], &wb[j]));
    }
    if (is_pair)
      for (std::size_t j = 1; j < wb.size(); ++j) main.overflowing.push_back(build(wa[0], &wb[j]));
  }
  return main;
}

namespace {
void pad_one(Encoding& e, std::size_t target, int32_t pad_id, const std::string& pad_token) {
  for (auto& o : e.overflowing) pad_one(o, target, pad_id, pad_token);
  if (e.ids.size() >= target) return;
  std::size_t k = target - e.ids.size();
  e.ids.insert(e.ids.end(), k, pad_id);
  e.type_ids.insert(e.type_ids.end(), k, 0);
  e.tokens.insert(e.tokens.end(), k, pad_token);
  e.offsets.insert(e.offsets.end(), k, Offset{0, 0});
  e.byte_offsets.insert(e.byte_offsets.end(), k, Offset{0, 0});
  e.attention_mask.insert(e.attention_mask.end(), k, 0);
  e.special_tokens_mask.insert(e.special_tokens_mask.end(), k, 1);
  e.word_ids.insert(e.word_ids.end(), k, -1);
  e.sequence_ids.insert(e.sequence_ids.end(), k, -1);
}
}  // namespace

void TokenizerBase::pad(std::vector<Encoding>& encodings, const EncodeOptions& options) const {
  if (options.padding == Padding::None) return;
  std::size_t target = 0;
  if (options.padding == Padding::MaxLength) {
    target = options.max_length ? options.max_length : model_max_length_;
  } else {
    for (const auto& e : encodings) target = std::max(target, e.size());
  }
  if (options.pad_to_multiple_of > 0 && target % options.pad_to_multiple_of != 0)
    target += options.pad_to_multiple_of - target % options.pad_to_multiple_of;
  if (specials_.pad < 0)
    throw InputError("padding: the vocabulary has no padding token '" + specials_.pad_token + "'");
  for (auto& e : encodings) pad_one(e, target, specials_.pad, specials_.pad_token);
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------
Encoding TokenizerBase::encode(std::string_view text, std::optional<std::string_view> pair,
                               const EncodeOptions& options) const {
  RawTokens a;
  split(text, a);
  std::vector<Encoding> out;
  if (pair) {
    RawTokens b;
    split(*pair, b);
    out.push_back(assemble(std::move(a), &b, options));
  } else {
    out.push_back(assemble(std::move(a), nullptr, options));
  }
  pad(out, options);
  return std::move(out[0]);
}

std::vector<Encoding> TokenizerBase::encode_batch(const std::vector<std::string>& texts,
                                                  const std::vector<std::string>* pairs,
                                                  const EncodeOptions& options, unsigned threads) const {
  if (pairs && pairs->size() != texts.size())
    throw InputError("encode_batch: " + std::to_string(texts.size()) + " texts but " +
                     std::to_string(pairs->size()) + " pairs; expected one pair per text");
  std::vector<Encoding> out(texts.size());
  EncodeOptions unpadded = options;
  unpadded.padding = Padding::None;
  parallel_for(texts.size(), threads, [&](std::size_t i) {
    out[i] = pairs ? encode(texts[i], std::string_view((*pairs)[i]), unpadded) : encode(texts[i], std::nullopt, unpadded);
  }, /*chunk=*/16);
  pad(out, options);
  return out;
}

Encoding TokenizerBase::encode_words(const std::vector<std::string>& words, const EncodeOptions& options) const {
  RawTokens a;
  const bool early_exit = options.truncation_early_exit && options.truncation != Truncation::None &&
                          options.truncation != Truncation::OnlySecond;
  if (!early_exit) {
    for (std::size_t i = 0; i < words.size(); ++i) split(words[i], a, 0, static_cast<int32_t>(i));
  } else {
    if (!supports_truncation_early_exit())
      throw InputError("truncation_early_exit (HF tokenizers 0.23 windows) is only implemented for WordPiece "
                       "tokenizers; turn it off for this tokenizer");
    // HF tokenises each pre-split word as its own sequence: the limit applies
    // to each word's splits alone, never across words.
    const std::size_t max_length = options.max_length ? options.max_length : model_max_length_;
    RawTokens w;
    for (std::size_t i = 0; i < words.size(); ++i) {
      w.clear();
      split(words[i], w);
      if (max_length > 0) truncate_early_exit(w, max_length);
      for (std::size_t t = 0; t < w.size(); ++t)
        a.push(w.ids[t], w.offsets[t], w.byte_offsets[t], static_cast<int32_t>(i));
    }
  }
  EncodeOptions assembled = options;
  assembled.truncation_early_exit = false;  // applied per word above
  std::vector<Encoding> out;
  out.push_back(assemble(std::move(a), nullptr, assembled));
  pad(out, options);
  return std::move(out[0]);
}

std::vector<std::string> TokenizerBase::tokenize(std::string_view text) const {
  RawTokens a;
  split(text, a);
  std::vector<std::string> out;
  out.reserve(a.size());
  for (int32_t id : a.ids) out.push_back(id_to_token(id));
  return out;
}

// Default (no TokenizerBase) implementation of the contract's batch method.
std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                              const std::vector<std::string>* pairs,
                                              const EncodeOptions& options, unsigned threads) const {
  std::vector<Encoding> out;
  out.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    out.push_back(pairs ? encode(texts[i], std::string_view((*pairs)[i]), options) : encode(texts[i], std::nullopt, options));
  return out;
}

}  // namespace bertkit
