// The part every tokenizer shares: turning the raw tokens of one or two texts
// into an Encoding with HF tokenizers' semantics (TemplateProcessing specials,
// truncation with overflowing windows, padding). Each concrete tokenizer only
// implements `split`: text -> raw tokens with offsets and word ids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

// The tokens of one sequence before specials are added.
struct RawTokens {
  std::vector<int32_t> ids;
  std::vector<Offset> offsets;       // code points into the sequence's text
  std::vector<Offset> byte_offsets;  // bytes into the sequence's text
  std::vector<int32_t> word_ids;
  // Word ids of the added tokens matched in the text (HF: splits that arrive
  // already tokenised; truncation_early_exit counts them but never stops after them).
  std::vector<int32_t> added_words;

  std::size_t size() const { return ids.size(); }
  void clear() {
    ids.clear();
    offsets.clear();
    byte_offsets.clear();
    word_ids.clear();
    added_words.clear();
  }
  void push(int32_t id, Offset cp, Offset bytes, int32_t word) {
    ids.push_back(id);
    offsets.push_back(cp);
    byte_offsets.push_back(bytes);
    word_ids.push_back(word);
  }
};

// HF's TemplateProcessing: "$A" / "$B" pieces and special tokens with type ids.
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;  // 0: A, 1: B (when is_sequence)
  int32_t type_id = 0;
  std::string special;  // the special token's name in `special_tokens` (when !is_sequence)
};
struct TemplateSpecial {
  std::string name;
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};
struct PostProcessor {
  std::vector<TemplatePiece> single, pair;
  std::vector<TemplateSpecial> specials;

  // [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1
  static PostProcessor bert(const std::string& cls, int32_t cls_id, const std::string& sep, int32_t sep_id);
  std::size_t added_tokens(bool is_pair) const;
  const TemplateSpecial& special(const std::string& name) const;
};

// An added token (HF AddedToken): matched in the original text before the
// normaliser runs, never split.
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = true;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false;
};

class TokenizerBase : public Tokenizer {
 public:
  Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                  const EncodeOptions& options = {}) const override;
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts,
                                     const std::vector<std::string>* pairs = nullptr,
                                     const EncodeOptions& options = {}, unsigned threads = 0) const override;
  Encoding encode_words(const std::vector<std::string>& words, const EncodeOptions& options = {}) const override;
  std::vector<std::string> tokenize(std::string_view text) const override;

  const SpecialTokens& special_tokens() const override { return specials_; }
  std::size_t model_max_length() const override { return model_max_length_; }
  void set_model_max_length(std::size_t n) { model_max_length_ = n; }
  const PostProcessor& post_processor() const { return post_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }

  // Text -> raw tokens. Offsets index `text`; word ids start at `first_word`
  // (the next word id is returned), or are all `fixed_word` when >= 0.
  virtual int32_t split(std::string_view text, RawTokens& out, int32_t first_word = 0,
                        int32_t fixed_word = -1) const = 0;

  // Specials, truncation (+ overflowing windows) for one or two raw sequences.
  Encoding assemble(RawTokens a, const RawTokens* b, const EncodeOptions& options) const;
  // options.truncation_early_exit: keep the words of `seq` up to and including
  // the first one (not an added token) that brings its token count to >=
  // max_length. Needs word ids that number the pre-tokenizer splits in order.
  static void truncate_early_exit(RawTokens& seq, std::size_t max_length);
  // Whether `split` numbers HF's pre-tokenizer splits in its word ids (what
  // truncation_early_exit needs); tokenizers that do not throw on it.
  virtual bool supports_truncation_early_exit() const { return false; }
  // Pad every encoding (and its overflowing windows) as options ask; `longest`
  // is the target for Padding::Longest.
  void pad(std::vector<Encoding>& encodings, const EncodeOptions& options) const;

 protected:
  // Fill SpecialTokens ids from the token strings (token_to_id).
  void resolve_special_ids();
  // Added tokens split the text before normalisation; `split` implementations
  // call this to find the next added token at or after `from` (npos if none).
  // Returns the position and sets `token` to its index in added_.
  std::size_t find_added(std::string_view text, std::size_t from, std::size_t& token) const;
  void set_added_tokens(std::vector<AddedToken> tokens);
  bool is_added_special(int32_t id) const;

  SpecialTokens specials_;
  PostProcessor post_;
  std::size_t model_max_length_ = 512;
  std::vector<AddedToken> added_;
  bool added_first_byte_[256] = {};
  std::vector<int32_t> special_ids_sorted_;
};

}  // namespace bertkit
