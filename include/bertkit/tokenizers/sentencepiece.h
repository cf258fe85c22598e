// SentencePiece (.model: unigram or BPE) as a drop-in Tokenizer, with
// BERT-style specials: the model's own [CLS]/[SEP]/[MASK]/<pad> (ALBERT),
// else <cls>/<sep>/<mask>/<pad> (XLNet), else <s>/</s>.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bertkit/tokenizers/base.h"

namespace bertkit {

struct SentencePieceConfig {
  bool lowercase = false;        // ALBERT's do_lower_case (applied before the model, offsets kept)
  std::size_t model_max_length = 512;
};

class SentencePieceTokenizer : public TokenizerBase {
 public:
  // `model_path`: a .model file; `tokenizer_config_path` (optional): do_lower_case,
  // model_max_length and special token names.
  explicit SentencePieceTokenizer(const std::string& model_path, const std::string& tokenizer_config_path = "");
  ~SentencePieceTokenizer() override;

  int32_t split(std::string_view text, RawTokens& out, int32_t first_word = 0,
                int32_t fixed_word = -1) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const override;
  int32_t token_to_id(std::string_view token) const override;
  std::string id_to_token(int32_t id) const override;
  std::size_t vocab_size() const override;
  bool is_continuation(int32_t id) const override;
  // Writes spiece.model, tokenizer_config.json and special_tokens_map.json.
  void save(const std::string& dir) const override;

  const SentencePieceConfig& config() const { return config_; }
  bool is_control(int32_t id) const;

 private:
  // libsentencepiece runs in a dlopen'ed plugin (its protobuf clashes with
  // LibTorch's); pieces and flags are cached here.
  void* handle_ = nullptr;
  std::vector<std::string> pieces_;
  std::vector<uint8_t> flags_;  // 1 control, 2 unknown, 4 unused, 8 byte
  std::unordered_map<std::string, int32_t> piece_ids_;
  int32_t unk_id_ = 0, pad_id_ = -1;
  SentencePieceConfig config_;
  std::string path_;
};

// Train a SentencePiece model (libsentencepiece's trainer).
struct SentencePieceTrainOptions {
  std::vector<std::string> inputs;       // text files, one sentence a line
  std::string model_prefix;              // writes <prefix>.model and <prefix>.vocab
  int vocab_size = 8000;
  std::string model_type = "unigram";    // unigram | bpe | char | word
  double character_coverage = 0.9995;
  std::vector<std::string> user_defined_symbols;  // never split, e.g. [CLS],[SEP],[MASK]
  bool bert_specials = true;             // add [CLS] [SEP] [MASK] as control symbols and <pad> id 0
  bool lowercase = false;                // train on lowercased text (NMT_NFKC_CF normalization)
  std::size_t input_sentence_size = 0;   // 0: all sentences
  int threads = 0;                       // 0: all cores
};
// Returns the .model path.
std::string train_sentencepiece(const SentencePieceTrainOptions& options);

}  // namespace bertkit
