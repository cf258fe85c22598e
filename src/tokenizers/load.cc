// load_tokenizer: pick the tokenizer a path describes.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/model_files.h"
#include "bertkit/tokenizers/japanese.h"
#include "bertkit/tokenizers/sentencepiece.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "bertkit/tokenizers/wordpiece.h"

namespace bertkit {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

nlohmann::json read_json(const std::string& path) { return json::load_file(path); }

// The model type a tokenizer.json holds ("WordPiece", "Unigram", "BPE", ...),
// read without parsing the whole vocabulary into a DOM twice.
std::string tokenizer_json_model_type(const std::string& path) {
  nlohmann::json j = read_json(path);
  if (!j.is_object()) throw InputError(path + ": expected a JSON object (a tokenizers tokenizer.json), got " + j.type_name());
  if (!j.contains("model") || !j["model"].is_object()) return "";
  return j["model"].value("type", "WordPiece");
}

std::string find_spm_model(const std::string& dir) {
  for (const char* name : {"spiece.model", "sentencepiece.bpe.model", "tokenizer.model"})
    if (file_exists(dir + "/" + name)) return dir + "/" + name;
  std::vector<std::string> models;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".model") models.push_back(e.path().string());
  std::sort(models.begin(), models.end());
  return models.empty() ? "" : models.front();
}

bool is_japanese_config(const std::string& config) {
  if (config.empty()) return false;
  nlohmann::json cfg = read_json(config);
  return cfg.is_object() && (cfg.value("tokenizer_class", "") == "BertJapaneseTokenizer" ||
                             cfg.contains("word_tokenizer_type"));
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  if (dir_exists(path)) {
    const std::string dir = path;
    // model_file: no symbolic link may lead out of `dir` (a directory from elsewhere).
    const std::string config_path = model_file(dir, "tokenizer_config.json", dir);
    const std::string vocab = model_file(dir, "vocab.txt", dir), tokenizer_json = model_file(dir, "tokenizer.json", dir);
    const std::string config = file_exists(config_path) ? config_path : "";
    if (file_exists(vocab) && is_japanese_config(config)) return JapaneseTokenizer::from_files(vocab, config);
    if (file_exists(tokenizer_json) && tokenizer_json_model_type(tokenizer_json) == "WordPiece")
      return WordPieceTokenizer::from_tokenizer_json(tokenizer_json, config);
    if (file_exists(vocab)) return WordPieceTokenizer::from_vocab_file(vocab, config);
    std::string spm = find_spm_model(dir);
    if (!spm.empty()) spm = model_file(dir, std::filesystem::path(spm).filename().string(), dir);
    if (!spm.empty()) return std::make_unique<SentencePieceTokenizer>(spm, config);
    if (file_exists(dir + "/tokenizer.json"))
      throw InputError(dir + "/tokenizer.json: model type '" + tokenizer_json_model_type(dir + "/tokenizer.json") +
                       "' is not WordPiece and there is no SentencePiece .model beside it");
    throw InputError(path + ": no tokenizer here (expected tokenizer.json, vocab.txt or a SentencePiece .model)");
  }
  if (!file_exists(path))
    throw InputError(path + ": no such file or directory (expected a model directory, a vocab.txt, a tokenizer.json "
                     "or a SentencePiece .model)");
  fs::path parent = fs::path(path).parent_path();
  std::string sibling = ((parent.empty() ? fs::path(".") : parent) / "tokenizer_config.json").string();
  std::string config = file_exists(sibling) ? sibling : "";
  if (ends_with(path, ".model")) return std::make_unique<SentencePieceTokenizer>(path, config);
  if (ends_with(path, ".json")) return WordPieceTokenizer::from_tokenizer_json(path, config);
  if (is_japanese_config(config))
    return JapaneseTokenizer::from_files(path, config);
  return WordPieceTokenizer::from_vocab_file(path, config);
}

}  // namespace bertkit
