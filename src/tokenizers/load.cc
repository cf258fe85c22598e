// load_tokenizer: pick the tokenizer a path describes.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "bertkit/tokenizers/wordpiece.h"

namespace bertkit {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  if (dir_exists(path)) {
    const std::string dir = path;
    const std::string config = file_exists(dir + "/tokenizer_config.json") ? dir + "/tokenizer_config.json" : "";
    if (file_exists(dir + "/tokenizer.json")) return WordPieceTokenizer::from_tokenizer_json(dir + "/tokenizer.json", config);
    if (file_exists(dir + "/vocab.txt")) return WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt", config);
    throw InputError(path + ": no tokenizer here (expected tokenizer.json, vocab.txt or a SentencePiece .model)");
  }
  if (!file_exists(path))
    throw InputError(path + ": no such file or directory (expected a model directory, a vocab.txt, a tokenizer.json "
                     "or a SentencePiece .model)");
  if (ends_with(path, ".json")) {
    std::string sibling = (fs::path(path).parent_path() / "tokenizer_config.json").string();
    return WordPieceTokenizer::from_tokenizer_json(path, file_exists(sibling) ? sibling : "");
  }
  std::string sibling = (fs::path(path).parent_path() / "tokenizer_config.json").string();
  if (fs::path(path).parent_path().empty()) sibling = "tokenizer_config.json";
  return WordPieceTokenizer::from_vocab_file(path, file_exists(sibling) ? sibling : "");
}

}  // namespace bertkit
