// Japanese: HF BertJapaneseTokenizer (word_tokenizer_type "mecab") — NFKC,
// MeCab words, then WordPiece ("wordpiece") or single characters
// ("character") as subwords. Offsets index the original (un-normalised) text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bertkit/tokenizers/base.h"
#include "bertkit/tokenizers/wordpiece.h"

namespace bertkit {

struct JapaneseConfig {
  std::string subword = "wordpiece";  // wordpiece | character
  bool lowercase = false;
  bool normalize_text = true;         // NFKC before MeCab, as HF
  // MeCab dictionary: a directory, or a name: ipadic, unidic, unidic_lite,
  // naist-jdic, jumandic (mapped to the Debian packages' directories).
  std::string mecab_dic = "ipadic";
  std::string mecab_option;           // extra MeCab arguments
  std::size_t model_max_length = 512;
  SpecialTokens special_tokens;
};

// The directory of a MeCab dictionary name (Debian paths); InputError naming
// the package to install when it is missing.
std::string mecab_dictionary_dir(const std::string& name_or_dir);

// MeCab words of a text: byte ranges into `text`.
class MecabSplitter {
 public:
  explicit MecabSplitter(const std::string& dictionary_dir, const std::string& extra_options = "");
  ~MecabSplitter();
  MecabSplitter(const MecabSplitter&) = delete;
  MecabSplitter& operator=(const MecabSplitter&) = delete;
  std::vector<std::pair<std::size_t, std::size_t>> split(const std::string& text) const;
  const std::string& dictionary_dir() const { return dir_; }

 private:
  void* model_ = nullptr;  // MeCab::Model (thread-safe; one tagger + lattice per call)
  std::string dir_;
};

class JapaneseTokenizer : public TokenizerBase {
 public:
  JapaneseTokenizer(std::vector<std::string> vocab, JapaneseConfig config);
  // vocab.txt + tokenizer_config.json (word_tokenizer_type, subword_tokenizer_type,
  // do_lower_case, mecab_kwargs.mecab_dic, ...).
  static std::unique_ptr<JapaneseTokenizer> from_files(const std::string& vocab_path,
                                                       const std::string& tokenizer_config_path = "");

  int32_t split(std::string_view text, RawTokens& out, int32_t first_word = 0,
                int32_t fixed_word = -1) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const override;
  int32_t token_to_id(std::string_view token) const override;
  std::string id_to_token(int32_t id) const override;
  std::size_t vocab_size() const override { return model_.size(); }
  bool is_continuation(int32_t id) const override { return model_.is_continuation(id); }
  // vocab.txt, tokenizer_config.json (BertJapaneseTokenizer), special_tokens_map.json.
  void save(const std::string& dir) const override;

  const JapaneseConfig& config() const { return config_; }
  // MeCab words of a text after NFKC (for dictionary comparisons).
  std::vector<std::string> words(std::string_view text) const;

 private:
  void segment(std::string_view text, std::size_t begin, std::size_t end, RawTokens& out, int32_t& word,
               int32_t fixed_word, const std::vector<uint32_t>& cp_at) const;

  JapaneseConfig config_;
  WordPieceModel model_;
  std::unique_ptr<MecabSplitter> mecab_;
};

}  // namespace bertkit
