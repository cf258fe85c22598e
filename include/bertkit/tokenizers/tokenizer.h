// The tokenizer contract (docs/architecture.md: tokenizers never see tensors).
// Every tokenizer (WordPiece, SentencePiece, MeCab+WordPiece) implements
// Tokenizer; everything downstream (data, tasks, pipelines) uses only this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertkit {

// [start, end) offsets. Code points index the original (un-normalised) text,
// as HF's fast tokenizers report them; bytes index its UTF-8 encoding.
using Offset = std::pair<std::size_t, std::size_t>;

// One encoded sequence (a single text or a pair), HF Encoding semantics.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;             // 0 for text (and specials before it), 1 for the pair
  std::vector<std::string> tokens;
  std::vector<Offset> offsets;               // code points; (0,0) for specials and padding
  std::vector<Offset> byte_offsets;          // bytes; (0,0) for specials and padding
  std::vector<int32_t> attention_mask;       // 1 real, 0 padding
  std::vector<int32_t> special_tokens_mask;  // 1 for [CLS]/[SEP]/[PAD]
  std::vector<int32_t> word_ids;             // index of the word within its sequence; -1 for specials/padding
  std::vector<int32_t> sequence_ids;         // 0 text, 1 pair, -1 specials/padding
  // Windows after the first when EncodeOptions::return_overflowing is set
  // (each a complete encoding with specials, offsets into the same texts).
  std::vector<Encoding> overflowing;

  std::size_t size() const { return ids.size(); }
};

enum class Truncation { None, LongestFirst, OnlyFirst, OnlySecond };
enum class Padding { None, Longest, MaxLength };

struct EncodeOptions {
  bool add_special_tokens = true;
  std::size_t max_length = 0;          // 0: no limit (the tokenizer's model_max_length applies when truncating)
  Truncation truncation = Truncation::None;
  std::size_t stride = 0;              // overlap between overflowing windows, in tokens
  bool return_overflowing = false;
  Padding padding = Padding::None;     // for batches: Longest pads to the longest in the batch
  std::size_t pad_to_multiple_of = 0;
  // HF tokenizers >= 0.23 (PR #1990 "early exit for truncation"): when
  // truncating, each sequence that may be truncated (both, except the first
  // under only_second) stops being tokenised after the first pre-tokenizer
  // split (word) that brings its token count to >= max_length (the whole
  // max_length, specials not counted); later words are dropped, so the
  // overflowing windows cover only the start of a long text. false (default):
  // tokenizers <= 0.22, windows cover the whole text. WordPiece only (other
  // tokenizers throw InputError). docs/tokenizers.md.
  bool truncation_early_exit = false;
};

// Ids of the special tokens a model needs; -1 when the vocabulary lacks one.
struct SpecialTokens {
  int32_t pad = -1, unk = -1, cls = -1, sep = -1, mask = -1;
  std::string pad_token = "[PAD]", unk_token = "[UNK]", cls_token = "[CLS]",
              sep_token = "[SEP]", mask_token = "[MASK]";
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encode one text, or a pair when `pair` is set.
  virtual Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                          const EncodeOptions& options = {}) const = 0;
  // Encode many on `threads` threads (0: all hardware threads); padding applies across the batch.
  virtual std::vector<Encoding> encode_batch(
      const std::vector<std::string>& texts, const std::vector<std::string>* pairs = nullptr,
      const EncodeOptions& options = {}, unsigned threads = 0) const;
  // Pre-tokenised input (NER), as transformers' is_split_into_words=True: each
  // word is normalised and pre-tokenised alone (so "don't" still gives don ' t);
  // every token of words[i] has word id i; offsets (code points and bytes) are
  // relative to each word's own text, as HF returns them. docs/tokenizers.md.
  virtual Encoding encode_words(const std::vector<std::string>& words,
                                const EncodeOptions& options = {}) const = 0;

  // Text -> tokens without specials (no truncation).
  virtual std::vector<std::string> tokenize(std::string_view text) const = 0;
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const = 0;

  virtual int32_t token_to_id(std::string_view token) const = 0;  // -1 when absent
  virtual std::string id_to_token(int32_t id) const = 0;
  virtual std::size_t vocab_size() const = 0;
  virtual const SpecialTokens& special_tokens() const = 0;
  // For WordPiece: "##" pieces continue a word (whole-word masking uses this).
  virtual bool is_continuation(int32_t id) const = 0;
  virtual std::size_t model_max_length() const = 0;

  // Write the tokenizer's files into a model directory (vocab.txt or the
  // .model, tokenizer_config.json, special_tokens_map.json, tokenizer.json).
  virtual void save(const std::string& dir) const = 0;
};

// Load a tokenizer from: a model directory (tokenizer.json, vocab.txt +
// tokenizer_config.json, or a SentencePiece .model), a vocab.txt path, or a
// SentencePiece .model path. Throws InputError naming the path otherwise.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace bertkit
