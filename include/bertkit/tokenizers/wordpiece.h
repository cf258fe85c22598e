// WordPiece with HF BertTokenizerFast semantics: BertNormalizer ->
// BertPreTokenizer -> WordPiece -> TemplateProcessing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bertkit/tokenizers/base.h"

namespace bertkit {

// HF BertNormalizer. strip_accents unset means "same as lowercase".
struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;
  bool lowercase = true;
  bool strips_accents() const { return strip_accents.value_or(lowercase); }
};

// vocab.txt: one token a line (trailing \r, spaces and tabs dropped), in id order.
std::vector<std::string> read_vocab_file(const std::string& path);

// The vocabulary and the greedy longest-match-first search. Lookups hash the
// bytes of a candidate once per prefix length and never allocate.
class WordPieceModel {
 public:
  WordPieceModel() = default;
  WordPieceModel(std::vector<std::string> vocab, std::string unk_token = "[UNK]", std::string prefix = "##",
                 std::size_t max_input_chars_per_word = 100);

  struct Piece {
    uint32_t begin, end;  // bytes within the word
    int32_t id;
  };
  // Tokenise one (normalised) word, appending its pieces to `out`; the whole
  // word is one [UNK] when any position cannot be matched or it has more than
  // max_input_chars_per_word characters. `chars` is its length in code points.
  void tokenize_word(std::string_view word, std::size_t chars, std::vector<Piece>& out) const;

  int32_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string& id_to_token(int32_t id) const;
  std::size_t size() const { return vocab_.size(); }
  const std::vector<std::string>& vocab() const { return vocab_; }
  const std::string& unk_token() const { return unk_token_; }
  const std::string& prefix() const { return prefix_; }
  std::size_t max_input_chars_per_word() const { return max_chars_; }
  int32_t unk_id() const { return unk_id_; }
  bool is_continuation(int32_t id) const;

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t len = 0;
    int32_t id = -1;
  };
  struct Table {
    std::vector<Slot> slots;
    uint64_t mask = 0;
    void build(const std::vector<std::pair<std::string_view, int32_t>>& entries);
    int32_t find(uint64_t hash, const char* data, std::size_t len) const;
  };

  std::vector<std::string> vocab_;
  std::vector<std::string> keys_;  // storage for the continuation table's keys
  std::string unk_token_, prefix_;
  std::size_t max_chars_ = 100;
  int32_t unk_id_ = -1;
  std::size_t max_token_bytes_ = 0;
  Table initial_, continuing_;
  friend class WordPieceTokenizer;
};

struct WordPieceConfig {
  BertNormalizerOptions normalizer;
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
  std::size_t model_max_length = 512;
  SpecialTokens special_tokens;  // token strings; ids are resolved from the vocabulary
  // tokenizers' WordPiece decoder `cleanup` (per token, " ." -> "." ...).
  bool decoder_cleanup = true;
  // transformers' clean_up_tokenization on the decoded string (tokenizer_config.json
  // clean_up_tokenization_spaces; transformers 5 defaults to false).
  bool clean_up_tokenization_spaces = false;
};

class WordPieceTokenizer : public TokenizerBase {
 public:
  // `vocab[i]` is the token of id i. Special tokens present in the vocabulary
  // become added (never split) tokens, as BertTokenizerFast does.
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceConfig config = {});

  // vocab.txt (+ tokenizer_config.json beside it when present).
  static std::unique_ptr<WordPieceTokenizer> from_vocab_file(const std::string& vocab_path,
                                                             const std::string& tokenizer_config_path = "");
  // HF tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece,
  // TemplateProcessing/BertProcessing), + tokenizer_config.json when given.
  static std::unique_ptr<WordPieceTokenizer> from_tokenizer_json(const std::string& path,
                                                                 const std::string& tokenizer_config_path = "");

  int32_t split(std::string_view text, RawTokens& out, int32_t first_word = 0,
                int32_t fixed_word = -1) const override;
  bool supports_truncation_early_exit() const override { return true; }  // one word id per split

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const override;
  int32_t token_to_id(std::string_view token) const override;
  std::string id_to_token(int32_t id) const override;
  std::size_t vocab_size() const override { return model_.size(); }
  bool is_continuation(int32_t id) const override { return model_.is_continuation(id); }
  void save(const std::string& dir) const override;

  const WordPieceConfig& config() const { return config_; }
  const WordPieceModel& model() const { return model_; }
  // Change the normaliser (e.g. the CLI's --lowercase / --strip-accents).
  void set_normalizer(const BertNormalizerOptions& options);
  // Extra added tokens (special or not), e.g. from tokenizer.json's added_tokens.
  void add_tokens(const std::vector<AddedToken>& tokens);

  // BertNormalizer + BertPreTokenizer only: the normalised words of `text`
  // (added tokens are not matched). Used by the vocabulary trainer.
  void pre_tokenize(std::string_view text, std::vector<std::string>& words) const;

  // tokenizer.json text (HF format) for this tokenizer.
  std::string to_tokenizer_json() const;

 private:
  void rebuild_tables();
  void segment(std::string_view text, std::size_t begin, std::size_t end, std::size_t& cp, RawTokens& out,
               int32_t& word, int32_t fixed_word, std::vector<std::string>* words = nullptr) const;

  WordPieceConfig config_;
  WordPieceModel model_;
  // Per ASCII byte: 0 word char, 1 whitespace, 2 dropped, 3 punctuation.
  unsigned char ascii_class_[128];
  char ascii_lower_[128];
};

}  // namespace bertkit
