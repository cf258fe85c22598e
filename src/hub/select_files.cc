// Which files of a repository to download: those a BERT needs, or those
// matching --include globs (huggingface_hub's allow_patterns).
#include <fnmatch.h>

#include <regex>
#include <set>

#include "bertkit/hub/download.h"

namespace bertkit::hub {

namespace {

bool in_module_folder(const std::string& file, std::string* folder) {
  static const std::regex module_folder(R"(^([0-9]+_[^/]+/)[^/]+$)");
  std::smatch m;
  if (!std::regex_match(file, m, module_folder)) return false;
  *folder = m[1];
  return true;
}

}  // namespace

std::vector<std::string> select_model_files(const std::vector<std::string>& repo_files) {
  static const std::set<std::string> always = {
      "config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
      "added_tokens.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
      "model.safetensors", "model.safetensors.index.json"};
  static const std::regex safetensors_shard(R"(^model-[0-9]+-of-[0-9]+\.safetensors$)");
  static const std::regex bin_weights(R"(^pytorch_model(-[0-9]+-of-[0-9]+)?\.bin(\.index\.json)?$)");
  // The folders (root "" and module folders) that hold safetensors weights.
  std::set<std::string> has_safetensors;
  for (const auto& f : repo_files) {
    std::string folder;
    std::string base = in_module_folder(f, &folder) ? f.substr(folder.size()) : f;
    if (!folder.empty() || f.find('/') == std::string::npos)
      if (base == "model.safetensors" || base == "model.safetensors.index.json") has_safetensors.insert(folder);
  }
  std::vector<std::string> out;
  for (const auto& f : repo_files) {
    std::string folder;
    if (f.find('/') != std::string::npos && !in_module_folder(f, &folder)) continue;
    std::string base = f.substr(folder.size());
    bool root = folder.empty();
    bool wanted = always.count(base) || (root && std::regex_match(base, safetensors_shard)) ||
                  (root && base.size() > 6 && base.compare(base.size() - 6, 6, ".model") == 0) ||
                  (std::regex_match(base, bin_weights) && !has_safetensors.count(folder));
    if (wanted) out.push_back(f);
  }
  return out;
}

std::vector<std::string> filter_by_globs(const std::vector<std::string>& files, const std::vector<std::string>& globs) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    for (std::string g : globs) {
      if (!g.empty() && g.back() == '/') g += "*";  // a folder: everything in it
      if (::fnmatch(g.c_str(), f.c_str(), 0) == 0) {  // no FNM_PATHNAME: '*' matches '/', as in Python's fnmatch
        out.push_back(f);
        break;
      }
    }
  }
  return out;
}

}  // namespace bertkit::hub
