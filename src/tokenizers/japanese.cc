#include "bertkit/tokenizers/japanese.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/utf8.h"
#include "unicode.h"

#if defined(BERTKIT_WITH_MECAB)
#include <mecab.h>
#endif

namespace bertkit {

using json::Json;
using ojson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// MeCab
// ---------------------------------------------------------------------------
std::string mecab_dictionary_dir(const std::string& name) {
  struct Known {
    const char* name;
    const char* dir;
    const char* package;
  };
  // unidic_lite (the cl-tohoku v3 models' dictionary) is not packaged by
  // Debian; unidic-mecab is the full UniDic it was cut from.
  static const Known known[] = {
      {"ipadic", "/var/lib/mecab/dic/ipadic-utf8", "mecab-ipadic-utf8"},
      {"unidic", "/var/lib/mecab/dic/unidic", "unidic-mecab"},
      {"unidic_lite", "/var/lib/mecab/dic/unidic", "unidic-mecab"},
      {"naist-jdic", "/var/lib/mecab/dic/naist-jdic", "mecab-naist-jdic"},
      {"jumandic", "/var/lib/mecab/dic/juman-utf8", "mecab-jumandic-utf8"},
  };
  // unidic_lite models (cl-tohoku v3) work best with UniDic; without it, fall
  // back to IPAdic (UNK rates on wagahaiwa_nekodearu.txt: 0.0108% vs 0.0132%).
  if (name == "unidic_lite" && !dir_exists("/var/lib/mecab/dic/unidic") && dir_exists("/var/lib/mecab/dic/ipadic-utf8")) {
    static bool warned = false;
    if (!warned)
      std::fprintf(stderr, "warning: MeCab dictionary unidic_lite: unidic-mecab is not installed, using ipadic-utf8 "
                           "(apt-get install unidic-mecab for UniDic words)\n");
    warned = true;
    return "/var/lib/mecab/dic/ipadic-utf8";
  }
  for (const auto& k : known) {
    if (name == k.name) {
      if (!dir_exists(k.dir))
        throw InputError(std::string("MeCab dictionary '") + name + "' is not installed: apt-get install " + k.package +
                         " (expected " + k.dir + ")");
      return k.dir;
    }
  }
  if (dir_exists(name)) return name;
  throw InputError("MeCab dictionary '" + name +
                   "': not a directory nor one of ipadic, unidic, unidic_lite, naist-jdic, jumandic");
}

#if defined(BERTKIT_WITH_MECAB)
MecabSplitter::MecabSplitter(const std::string& dictionary_dir, const std::string& extra_options)
    : dir_(dictionary_dir) {
  if (!file_exists(dictionary_dir + "/sys.dic"))
    throw InputError(dictionary_dir + ": not a MeCab dictionary (no sys.dic)");
  // -r /dev/null: do not depend on /etc/mecabrc; the dictionary is explicit.
  std::string args = "-r /dev/null -d " + dictionary_dir;
  if (!extra_options.empty()) args += " " + extra_options;
  MeCab::Model* model = MeCab::createModel(args.c_str());
  if (!model) throw InputError("MeCab: cannot load dictionary " + dictionary_dir + ": " + MeCab::getLastError());
  model_ = model;
}

MecabSplitter::~MecabSplitter() { delete static_cast<MeCab::Model*>(model_); }

std::vector<std::pair<std::size_t, std::size_t>> MecabSplitter::split(const std::string& text) const {
  auto* model = static_cast<MeCab::Model*>(model_);
  std::unique_ptr<MeCab::Tagger> tagger(model->createTagger());
  std::unique_ptr<MeCab::Lattice> lattice(model->createLattice());
  lattice->set_sentence(text.c_str(), text.size());
  if (!tagger->parse(lattice.get())) throw RuntimeError(std::string("MeCab: parse failed: ") + lattice->what());
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const char* base = lattice->sentence();
  for (const MeCab::Node* n = lattice->bos_node(); n; n = n->next) {
    if (n->stat == MECAB_BOS_NODE || n->stat == MECAB_EOS_NODE || n->length == 0) continue;
    std::size_t b = static_cast<std::size_t>(n->surface - base);
    out.emplace_back(b, b + n->length);
  }
  return out;
}
#else
MecabSplitter::MecabSplitter(const std::string& dictionary_dir, const std::string&) : dir_(dictionary_dir) {
  throw InputError("this bertkit was built without MeCab (BERTKIT_WITH_MECAB=OFF); install libmecab-dev and rebuild");
}
MecabSplitter::~MecabSplitter() = default;
std::vector<std::pair<std::size_t, std::size_t>> MecabSplitter::split(const std::string&) const { return {}; }
#endif

// ---------------------------------------------------------------------------
// JapaneseTokenizer
// ---------------------------------------------------------------------------
JapaneseTokenizer::JapaneseTokenizer(std::vector<std::string> vocab, JapaneseConfig config)
    : config_(std::move(config)) {
  if (config_.subword != "wordpiece" && config_.subword != "character")
    throw InputError("Japanese tokenizer: subword_tokenizer_type '" + config_.subword +
                     "'; expected wordpiece or character");
  specials_ = config_.special_tokens;
  model_ = WordPieceModel(std::move(vocab), specials_.unk_token, "##", 100);
  if (model_.unk_id() < 0)
    throw InputError("Japanese tokenizer: the unknown token '" + specials_.unk_token + "' is not in the vocabulary");
  mecab_ = std::make_unique<MecabSplitter>(mecab_dictionary_dir(config_.mecab_dic), config_.mecab_option);
  model_max_length_ = config_.model_max_length;
  resolve_special_ids();
  post_ = PostProcessor::bert(specials_.cls_token, specials_.cls, specials_.sep_token, specials_.sep);
  std::vector<AddedToken> added;
  for (const std::string* t : {&specials_.pad_token, &specials_.unk_token, &specials_.cls_token,
                               &specials_.sep_token, &specials_.mask_token}) {
    int32_t id = model_.token_to_id(*t);
    if (id >= 0) added.push_back(AddedToken{*t, id, true});
  }
  set_added_tokens(std::move(added));
}

std::unique_ptr<JapaneseTokenizer> JapaneseTokenizer::from_files(const std::string& vocab_path,
                                                                 const std::string& tokenizer_config_path) {
  std::vector<std::string> vocab = read_vocab_file(vocab_path);
  JapaneseConfig config;
  if (!tokenizer_config_path.empty()) {
    Json cfg = json::load_file(tokenizer_config_path);
    std::string word = cfg.value("word_tokenizer_type", "mecab");
    if (word != "mecab")
      throw InputError(tokenizer_config_path + ": word_tokenizer_type '" + word + "'; bertkit supports mecab");
    config.subword = cfg.value("subword_tokenizer_type", "wordpiece");
    config.lowercase = cfg.value("do_lower_case", false);
    if (cfg.contains("mecab_kwargs") && cfg["mecab_kwargs"].is_object()) {
      const Json& mk = cfg["mecab_kwargs"];
      if (mk.contains("mecab_dic") && mk["mecab_dic"].is_string()) config.mecab_dic = mk["mecab_dic"];
      if (mk.contains("mecab_option") && mk["mecab_option"].is_string()) config.mecab_option = mk["mecab_option"];
      if (mk.contains("normalize_text") && mk["normalize_text"].is_boolean()) config.normalize_text = mk["normalize_text"];
    }
    if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
      double m = cfg["model_max_length"].get<double>();
      config.model_max_length = m > 1e9 ? 0 : static_cast<std::size_t>(m);
    }
    for (auto [key, field] : {std::pair<const char*, std::string*>{"unk_token", &config.special_tokens.unk_token},
                              {"sep_token", &config.special_tokens.sep_token},
                              {"pad_token", &config.special_tokens.pad_token},
                              {"cls_token", &config.special_tokens.cls_token},
                              {"mask_token", &config.special_tokens.mask_token}}) {
      if (cfg.contains(key) && cfg[key].is_string()) *field = cfg[key].get<std::string>();
    }
  }
  return std::make_unique<JapaneseTokenizer>(std::move(vocab), config);
}

int32_t JapaneseTokenizer::token_to_id(std::string_view token) const { return model_.token_to_id(token); }

std::string JapaneseTokenizer::id_to_token(int32_t id) const { return model_.id_to_token(id); }

namespace {
// NFKC with alignment: the text is cut into clusters (a character and the
// ones whose decomposition starts with a combining mark), each normalised on
// its own; every output byte points at its cluster in the original.
void nfkc_aligned(std::string_view text, std::size_t begin, std::size_t end, bool normalize, std::string& norm,
                  std::vector<uint32_t>& ob, std::vector<uint32_t>& oe) {
  std::size_t i = begin;
  while (i < end) {
    std::size_t start = i;
    utf8::next(text, i);
    while (i < end) {
      std::size_t j = i;
      char32_t c = utf8::next(text, j);
      if (!normalize || unicode::combining_class(unicode::nfkd_first(c)) == 0) break;
      i = j;
    }
    std::string piece = normalize ? unicode::nfkc(text.substr(start, i - start)) : std::string(text.substr(start, i - start));
    for (std::size_t k = 0; k < piece.size(); ++k) {
      ob.push_back(static_cast<uint32_t>(start));
      oe.push_back(static_cast<uint32_t>(i));
    }
    norm += piece;
  }
}
}  // namespace

std::vector<std::string> JapaneseTokenizer::words(std::string_view text) const {
  std::string norm;
  std::vector<uint32_t> ob, oe;
  nfkc_aligned(text, 0, text.size(), config_.normalize_text, norm, ob, oe);
  std::vector<std::string> out;
  for (auto [b, e] : mecab_->split(norm)) out.push_back(norm.substr(b, e - b));
  return out;
}

void JapaneseTokenizer::segment(std::string_view text, std::size_t begin, std::size_t end, RawTokens& out,
                                int32_t& word, int32_t fixed_word, const std::vector<uint32_t>& cp_at) const {
  if (begin >= end) return;
  std::string norm;
  std::vector<uint32_t> ob, oe;
  nfkc_aligned(text, begin, end, config_.normalize_text, norm, ob, oe);
  std::vector<WordPieceModel::Piece> pieces;
  for (auto [wb, we] : mecab_->split(norm)) {
    // The word, lowercased when asked, with each byte's original range.
    std::string w;
    std::vector<uint32_t> wb0, wb1;
    std::size_t chars = 0;
    std::size_t i = wb;
    while (i < we) {
      std::size_t s = i;
      char32_t c = utf8::next(norm, i);
      char32_t low[3];
      std::size_t n = 1;
      low[0] = c;
      if (config_.lowercase) n = unicode::lower(c, low);
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t before = w.size();
        utf8::append(w, low[k]);
        for (std::size_t q = before; q < w.size(); ++q) {
          wb0.push_back(ob[s]);
          wb1.push_back(oe[i - 1]);
        }
        ++chars;
      }
    }
    if (w.empty()) continue;
    pieces.clear();
    if (config_.subword == "character") {
      std::size_t p = 0;
      while (p < w.size()) {
        std::size_t s = p;
        utf8::next(w, p);
        int32_t id = model_.token_to_id(std::string_view(w).substr(s, p - s));
        pieces.push_back({static_cast<uint32_t>(s), static_cast<uint32_t>(p), id >= 0 ? id : model_.unk_id()});
      }
    } else {
      model_.tokenize_word(w, chars, pieces);
    }
    int32_t wid = fixed_word >= 0 ? fixed_word : word;
    for (const auto& p : pieces) {
      uint32_t b0 = wb0[p.begin], b1 = wb1[p.end - 1];
      out.push(p.id, Offset{cp_at[b0], cp_at[b1]}, Offset{b0, b1}, wid);
    }
    ++word;
  }
}

int32_t JapaneseTokenizer::split(std::string_view text, RawTokens& out, int32_t first_word, int32_t fixed_word) const {
  const std::vector<uint32_t> cp_at = utf8::code_point_index(text);
  int32_t word = first_word;
  std::size_t pos = 0;
  for (;;) {
    std::size_t k = 0;
    std::size_t next = find_added(text, pos, k);
    std::size_t stop = next == std::string_view::npos ? text.size() : next;
    segment(text, pos, stop, out, word, fixed_word, cp_at);
    if (next == std::string_view::npos) break;
    const AddedToken& t = added_[k];
    std::size_t e = next + t.content.size();
    out.push(t.id, Offset{cp_at[next], cp_at[e]}, Offset{next, e}, fixed_word >= 0 ? fixed_word : word);
    ++word;
    pos = e;
  }
  return word;
}

std::string JapaneseTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  // HF BertJapaneseTokenizer: tokens joined by spaces, " ##" removed.
  std::string out;
  for (int32_t id : ids) {
    if (skip_special_tokens && is_added_special(id)) continue;
    const std::string& t = model_.id_to_token(id);
    if (!out.empty()) {
      if (t.rfind("##", 0) == 0) {
        out += t.substr(2);
        continue;
      }
      out += ' ';
    }
    out += t;
  }
  return out;
}

void JapaneseTokenizer::save(const std::string& dir) const {
  make_dirs(dir);
  std::string vocab;
  for (const auto& t : model_.vocab()) vocab += t + "\n";
  write_file_atomic(dir + "/vocab.txt", vocab);
  ojson stm;
  stm["cls_token"] = specials_.cls_token;
  stm["mask_token"] = specials_.mask_token;
  stm["pad_token"] = specials_.pad_token;
  stm["sep_token"] = specials_.sep_token;
  stm["unk_token"] = specials_.unk_token;
  write_file_atomic(dir + "/special_tokens_map.json", stm.dump(2) + "\n");
  ojson cfg;
  cfg["tokenizer_class"] = "BertJapaneseTokenizer";
  cfg["do_lower_case"] = config_.lowercase;
  cfg["word_tokenizer_type"] = "mecab";
  cfg["subword_tokenizer_type"] = config_.subword;
  cfg["mecab_kwargs"] = ojson{{"mecab_dic", config_.mecab_dic}};
  cfg["model_max_length"] = model_max_length_;
  for (const auto& [k, v] : stm.items()) cfg[k] = v;
  write_file_atomic(dir + "/tokenizer_config.json", cfg.dump(2) + "\n");
}

}  // namespace bertkit
