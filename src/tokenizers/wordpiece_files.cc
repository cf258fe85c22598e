// WordPieceTokenizer's files: vocab.txt, tokenizer.json (tokenizers) and
// tokenizer_config.json (transformers), read and written.
#include "bertkit/tokenizers/wordpiece.h"

#include <algorithm>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/core/utf8.h"

namespace bertkit {

namespace {

using json::Json;
using ojson = nlohmann::ordered_json;

// A special token in tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}.
std::optional<std::string> token_string(const Json& cfg, const char* key, const std::string& path) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw InputError(path + ": key '" + key + "' must be a string or an object with \"content\"");
}

template <typename T>
T get_or(const Json& j, const char* key, T fallback, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const Json::exception&) {
    throw InputError(path + ": key '" + key + "' has the wrong type (" + it->type_name() + ")");
  }
}

// Apply tokenizer_config.json (transformers) on top of `config`.
void apply_tokenizer_config(const std::string& path, WordPieceConfig& config, bool normalizer_too,
                            std::vector<AddedToken>* added) {
  Json cfg = json::load_file(path);
  if (!cfg.is_object()) throw InputError(path + ": expected a JSON object");
  if (normalizer_too) {
    config.normalizer.lowercase = get_or<bool>(cfg, "do_lower_case", config.normalizer.lowercase, path);
    if (cfg.contains("strip_accents")) {
      const Json& sa = cfg["strip_accents"];
      if (sa.is_null())
        config.normalizer.strip_accents.reset();
      else if (sa.is_boolean())
        config.normalizer.strip_accents = sa.get<bool>();
      else
        throw InputError(path + ": key 'strip_accents' must be true, false or null");
    }
    config.normalizer.handle_chinese_chars =
        get_or<bool>(cfg, "tokenize_chinese_chars", config.normalizer.handle_chinese_chars, path);
  }
  if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
    double m = cfg["model_max_length"].get<double>();
    // transformers writes 1e30 (VERY_LARGE_INTEGER) when a model has no limit.
    config.model_max_length = m > 1e9 ? 0 : static_cast<std::size_t>(m);
  }
  config.clean_up_tokenization_spaces =
      get_or<bool>(cfg, "clean_up_tokenization_spaces", config.clean_up_tokenization_spaces, path);
  auto& st = config.special_tokens;
  if (auto t = token_string(cfg, "unk_token", path)) config.unk_token = st.unk_token = *t;
  if (auto t = token_string(cfg, "sep_token", path)) st.sep_token = *t;
  if (auto t = token_string(cfg, "pad_token", path)) st.pad_token = *t;
  if (auto t = token_string(cfg, "cls_token", path)) st.cls_token = *t;
  if (auto t = token_string(cfg, "mask_token", path)) st.mask_token = *t;
  if (added && cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object()) {
    for (auto& [key, v] : cfg["added_tokens_decoder"].items()) {
      AddedToken t;
      try {
        t.id = std::stoi(key);
      } catch (const std::exception&) {
        throw InputError(path + ": added_tokens_decoder key '" + key + "' is not a token id");
      }
      t.content = get_or<std::string>(v, "content", "", path);
      t.special = get_or<bool>(v, "special", true, path);
      t.normalized = get_or<bool>(v, "normalized", false, path);
      t.lstrip = get_or<bool>(v, "lstrip", false, path);
      t.rstrip = get_or<bool>(v, "rstrip", false, path);
      t.single_word = get_or<bool>(v, "single_word", false, path);
      if (!t.content.empty()) added->push_back(t);
    }
  }
}

}  // namespace

std::vector<std::string> read_vocab_file(const std::string& path) {
  std::string text = read_file(path);
  std::vector<std::string> vocab;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!utf8::is_valid(line))  // transformers' load_vocab fails here too (UnicodeDecodeError)
      throw InputError(path + ":" + std::to_string(vocab.size() + 1) +
                       ": not valid UTF-8 (expected one UTF-8 token a line)");
    vocab.push_back(std::move(line));
    pos = nl + 1;
  }
  return vocab;
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_vocab_file(const std::string& vocab_path,
                                                                        const std::string& tokenizer_config_path) {
  std::vector<std::string> vocab = read_vocab_file(vocab_path);
  if (vocab.empty()) throw InputError(vocab_path + ": the vocabulary file is empty (expected one token a line)");
  WordPieceConfig config;
  std::vector<AddedToken> added;
  if (!tokenizer_config_path.empty()) apply_tokenizer_config(tokenizer_config_path, config, true, &added);
  if (std::find(vocab.begin(), vocab.end(), config.unk_token) == vocab.end())
    throw InputError(vocab_path + ": the unknown token '" + config.unk_token +
                     "' is not in the vocabulary; is this a WordPiece vocab.txt?");
  auto tok = std::make_unique<WordPieceTokenizer>(std::move(vocab), config);
  std::vector<AddedToken> extra;
  for (auto& t : added)
    if (static_cast<std::size_t>(t.id) < tok->vocab_size() && tok->model_.vocab()[t.id] == t.content)
      extra.push_back(t);
  if (!extra.empty()) tok->add_tokens(extra);
  return tok;
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_tokenizer_json(const std::string& path,
                                                                            const std::string& tokenizer_config_path) {
  Json j = json::load_file(path);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw InputError(path + ": expected a HF tokenizer.json with a \"model\" object");
  const Json& m = j["model"];
  std::string type = get_or<std::string>(m, "type", "WordPiece", path);
  if (type != "WordPiece")
    throw InputError(path + ": model.type is '" + type + "'; bertkit reads WordPiece tokenizer.json files "
                     "(use the SentencePiece .model for unigram/BPE models)");
  WordPieceConfig config;
  config.unk_token = get_or<std::string>(m, "unk_token", "[UNK]", path);
  config.continuing_subword_prefix = get_or<std::string>(m, "continuing_subword_prefix", "##", path);
  config.max_input_chars_per_word = get_or<std::size_t>(m, "max_input_chars_per_word", 100, path);
  if (!m.contains("vocab") || !m["vocab"].is_object())
    throw InputError(path + ": model.vocab must be an object {token: id}");
  std::vector<std::string> vocab(m["vocab"].size());
  std::vector<bool> seen(vocab.size(), false);
  for (auto& [tok, idj] : m["vocab"].items()) {
    if (!idj.is_number_integer()) throw InputError(path + ": model.vocab['" + tok + "'] must be an integer id");
    int64_t id = idj.get<int64_t>();
    if (id < 0) throw InputError(path + ": model.vocab['" + tok + "'] has a negative id");
    if (static_cast<std::size_t>(id) >= vocab.size()) {
      vocab.resize(static_cast<std::size_t>(id) + 1);
      seen.resize(vocab.size(), false);
    }
    vocab[static_cast<std::size_t>(id)] = tok;
    seen[static_cast<std::size_t>(id)] = true;
  }

  // Normaliser.
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    const Json& n = j["normalizer"];
    std::string nt = get_or<std::string>(n, "type", "", path);
    if (nt != "BertNormalizer")
      throw InputError(path + ": normalizer.type is '" + nt + "'; bertkit supports BertNormalizer (or null)");
    config.normalizer.clean_text = get_or<bool>(n, "clean_text", true, path);
    config.normalizer.handle_chinese_chars = get_or<bool>(n, "handle_chinese_chars", true, path);
    config.normalizer.lowercase = get_or<bool>(n, "lowercase", true, path);
    if (n.contains("strip_accents") && !n["strip_accents"].is_null())
      config.normalizer.strip_accents = get_or<bool>(n, "strip_accents", false, path);
  } else {
    config.normalizer.clean_text = false;
    config.normalizer.handle_chinese_chars = false;
    config.normalizer.lowercase = false;
    config.normalizer.strip_accents = false;
  }
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null()) {
    std::string pt = get_or<std::string>(j["pre_tokenizer"], "type", "", path);
    if (pt != "BertPreTokenizer")
      throw InputError(path + ": pre_tokenizer.type is '" + pt + "'; bertkit supports BertPreTokenizer");
  }
  if (j.contains("decoder") && j["decoder"].is_object())
    config.decoder_cleanup = get_or<bool>(j["decoder"], "cleanup", true, path);

  std::vector<AddedToken> added;
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& a : j["added_tokens"]) {
      AddedToken t;
      t.id = get_or<int32_t>(a, "id", -1, path);
      t.content = get_or<std::string>(a, "content", "", path);
      t.special = get_or<bool>(a, "special", false, path);
      t.normalized = get_or<bool>(a, "normalized", false, path);
      t.lstrip = get_or<bool>(a, "lstrip", false, path);
      t.rstrip = get_or<bool>(a, "rstrip", false, path);
      t.single_word = get_or<bool>(a, "single_word", false, path);
      if (t.id < 0 || t.content.empty()) throw InputError(path + ": added_tokens entries need an id and content");
      if (static_cast<std::size_t>(t.id) >= vocab.size()) {
        vocab.resize(static_cast<std::size_t>(t.id) + 1);
        seen.resize(vocab.size(), false);
      }
      if (!seen[static_cast<std::size_t>(t.id)]) {
        vocab[static_cast<std::size_t>(t.id)] = t.content;
        seen[static_cast<std::size_t>(t.id)] = true;
      }
      added.push_back(t);
    }
  }
  // Names of the specials: the post-processor's CLS/SEP, the model's UNK.
  PostProcessor post;
  bool have_post = false;
  if (j.contains("post_processor") && j["post_processor"].is_object()) {
    const Json& p = j["post_processor"];
    std::string pt = get_or<std::string>(p, "type", "", path);
    if (pt == "TemplateProcessing") {
      auto pieces = [&](const char* key) {
        std::vector<TemplatePiece> out;
        if (!p.contains(key) || !p[key].is_array()) throw InputError(path + ": post_processor." + key + " must be a list");
        for (const auto& piece : p[key]) {
          TemplatePiece t;
          if (piece.contains("Sequence")) {
            t.is_sequence = true;
            std::string id = get_or<std::string>(piece["Sequence"], "id", "A", path);
            t.sequence = id == "B" ? 1 : 0;
            t.type_id = get_or<int32_t>(piece["Sequence"], "type_id", 0, path);
          } else if (piece.contains("SpecialToken")) {
            t.special = get_or<std::string>(piece["SpecialToken"], "id", "", path);
            t.type_id = get_or<int32_t>(piece["SpecialToken"], "type_id", 0, path);
          } else {
            throw InputError(path + ": post_processor." + key + " has a piece that is neither Sequence nor SpecialToken");
          }
          out.push_back(t);
        }
        return out;
      };
      post.single = pieces("single");
      post.pair = pieces("pair");
      if (p.contains("special_tokens") && p["special_tokens"].is_object()) {
        for (auto& [name, v] : p["special_tokens"].items()) {
          TemplateSpecial s;
          s.name = name;
          s.ids = get_or<std::vector<int32_t>>(v, "ids", {}, path);
          s.tokens = get_or<std::vector<std::string>>(v, "tokens", {}, path);
          if (s.ids.size() != s.tokens.size())
            throw InputError(path + ": post_processor.special_tokens['" + name + "'] has different ids and tokens counts");
          post.specials.push_back(std::move(s));
        }
      }
      for (const auto& piece : post.single)
        if (!piece.is_sequence) post.special(piece.special);  // validates
      for (const auto& piece : post.pair)
        if (!piece.is_sequence) post.special(piece.special);
      have_post = true;
      // BERT layout: first special is CLS, the one after $A is SEP.
      if (post.single.size() == 3 && !post.single[0].is_sequence && !post.single[2].is_sequence) {
        config.special_tokens.cls_token = post.special(post.single[0].special).tokens.at(0);
        config.special_tokens.sep_token = post.special(post.single[2].special).tokens.at(0);
      }
    } else if (pt == "BertProcessing") {
      auto cls = p.at("cls"), sep = p.at("sep");
      config.special_tokens.cls_token = cls.at(0).get<std::string>();
      config.special_tokens.sep_token = sep.at(0).get<std::string>();
      post = PostProcessor::bert(cls.at(0).get<std::string>(), cls.at(1).get<int32_t>(), sep.at(0).get<std::string>(),
                                 sep.at(1).get<int32_t>());
      have_post = true;
    } else {
      throw InputError(path + ": post_processor.type is '" + pt + "'; bertkit supports TemplateProcessing and BertProcessing");
    }
  }
  config.special_tokens.unk_token = config.unk_token;
  if (!tokenizer_config_path.empty()) apply_tokenizer_config(tokenizer_config_path, config, false, nullptr);
  auto tok = std::make_unique<WordPieceTokenizer>(std::move(vocab), config);
  if (have_post) {
    tok->post_ = post;
  } else if (j.contains("post_processor") && j["post_processor"].is_null()) {
    tok->post_ = PostProcessor{};
  }
  // tokenizer.json's added_tokens are the complete list.
  tok->set_added_tokens(std::move(added));
  return tok;
}

std::string WordPieceTokenizer::to_tokenizer_json() const {
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  std::vector<AddedToken> added = added_;
  std::sort(added.begin(), added.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  ojson at = ojson::array();
  for (const auto& a : added) {
    ojson t;
    t["id"] = a.id;
    t["content"] = a.content;
    t["single_word"] = a.single_word;
    t["lstrip"] = a.lstrip;
    t["rstrip"] = a.rstrip;
    t["normalized"] = a.normalized;
    t["special"] = a.special;
    at.push_back(t);
  }
  j["added_tokens"] = at;
  const auto& n = config_.normalizer;
  ojson norm;
  norm["type"] = "BertNormalizer";
  norm["clean_text"] = n.clean_text;
  norm["handle_chinese_chars"] = n.handle_chinese_chars;
  if (n.strip_accents)
    norm["strip_accents"] = *n.strip_accents;
  else
    norm["strip_accents"] = nullptr;
  norm["lowercase"] = n.lowercase;
  j["normalizer"] = norm;
  j["pre_tokenizer"] = ojson{{"type", "BertPreTokenizer"}};
  ojson post;
  post["type"] = "TemplateProcessing";
  auto pieces = [](const std::vector<TemplatePiece>& ps) {
    ojson out = ojson::array();
    for (const auto& p : ps) {
      ojson o;
      if (p.is_sequence)
        o["Sequence"] = ojson{{"id", p.sequence == 0 ? "A" : "B"}, {"type_id", p.type_id}};
      else
        o["SpecialToken"] = ojson{{"id", p.special}, {"type_id", p.type_id}};
      out.push_back(o);
    }
    return out;
  };
  post["single"] = pieces(post_.single);
  post["pair"] = pieces(post_.pair);
  ojson sp = ojson::object();
  for (const auto& s : post_.specials) sp[s.name] = ojson{{"id", s.name}, {"ids", s.ids}, {"tokens", s.tokens}};
  post["special_tokens"] = sp;
  j["post_processor"] = post;
  j["decoder"] = ojson{{"type", "WordPiece"}, {"prefix", model_.prefix()}, {"cleanup", config_.decoder_cleanup}};
  ojson model;
  model["type"] = "WordPiece";
  model["unk_token"] = model_.unk_token();
  model["continuing_subword_prefix"] = model_.prefix();
  model["max_input_chars_per_word"] = model_.max_input_chars_per_word();
  // ordered_json's lookups are linear: append through its vector base and
  // de-duplicate with a hash set, or a 30k vocabulary takes seconds.
  ojson vocab = ojson::object();
  auto& entries = static_cast<std::vector<std::pair<const std::string, ojson>>&>(vocab.get_ref<ojson::object_t&>());
  entries.reserve(model_.size());
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < model_.size(); ++i)
    if (seen.insert(model_.vocab()[i]).second) entries.emplace_back(model_.vocab()[i], i);
  model["vocab"] = vocab;
  j["model"] = model;
  return j.dump(2, ' ', false, ojson::error_handler_t::replace);
}

void WordPieceTokenizer::save(const std::string& dir) const {
  make_dirs(dir);
  std::string vocab;
  for (const auto& t : model_.vocab()) {
    vocab += t;
    vocab += '\n';
  }
  write_file_atomic(dir + "/vocab.txt", vocab);
  const auto& st = specials_;
  ojson stm;
  stm["cls_token"] = st.cls_token;
  stm["mask_token"] = st.mask_token;
  stm["pad_token"] = st.pad_token;
  stm["sep_token"] = st.sep_token;
  stm["unk_token"] = st.unk_token;
  write_file_atomic(dir + "/special_tokens_map.json", stm.dump(2) + "\n");
  ojson cfg;
  cfg["tokenizer_class"] = "BertTokenizer";
  cfg["do_lower_case"] = config_.normalizer.lowercase;
  if (config_.normalizer.strip_accents)
    cfg["strip_accents"] = *config_.normalizer.strip_accents;
  else
    cfg["strip_accents"] = nullptr;
  cfg["tokenize_chinese_chars"] = config_.normalizer.handle_chinese_chars;
  cfg["model_max_length"] = model_max_length_ ? model_max_length_ : static_cast<std::size_t>(1000000000000000019ull);
  cfg["clean_up_tokenization_spaces"] = config_.clean_up_tokenization_spaces;
  for (const auto& [k, v] : stm.items()) cfg[k] = v;
  write_file_atomic(dir + "/tokenizer_config.json", cfg.dump(2) + "\n");
  write_file_atomic(dir + "/tokenizer.json", to_tokenizer_json() + "\n");
}

}  // namespace bertkit
