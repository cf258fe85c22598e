#include "bertkit/tokenizers/sentencepiece.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/core/parallel.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/utf8.h"
#include "plugin/sentencepiece_plugin.h"
#include "unicode.h"

namespace bertkit {

using json::Json;
using ojson = nlohmann::ordered_json;

namespace {

// ---------------------------------------------------------------------------
// The plugin (plugin/sentencepiece_plugin.h explains why it is one).
// ---------------------------------------------------------------------------
struct Plugin {
  decltype(&bk_spm_load) load;
  decltype(&bk_spm_free) free;
  decltype(&bk_spm_piece_size) piece_size;
  decltype(&bk_spm_piece) piece;
  decltype(&bk_spm_piece_flags) piece_flags;
  decltype(&bk_spm_unk_id) unk_id;
  decltype(&bk_spm_pad_id) pad_id;
  decltype(&bk_spm_encode) encode;
  decltype(&bk_spm_decode) decode;
  decltype(&bk_spm_serialized) serialized;
  decltype(&bk_spm_train) train;
};

// AddressSanitizer refuses RTLD_DEEPBIND (it would bypass its malloc); the
// sanitizer/fuzz builds load the plugin without it (their SentencePiece
// programs do not load LibTorch's protobuf, the reason for DEEPBIND).
#if defined(__SANITIZE_ADDRESS__)
#define BERTKIT_SPM_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BERTKIT_SPM_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#endif
#endif
#ifndef BERTKIT_SPM_DLOPEN_FLAGS
#define BERTKIT_SPM_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
#endif

#ifndef BERTKIT_SPM_PLUGIN_NAME
#define BERTKIT_SPM_PLUGIN_NAME "libbertkit_sentencepiece.so"
#endif

const Plugin& plugin() {
  static Plugin p;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("BERTKIT_SENTENCEPIECE_PLUGIN")) candidates.push_back(env);
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&plugin), &info) && info.dli_fname) {
      std::string self = info.dli_fname;
      std::size_t slash = self.rfind('/');
      candidates.push_back((slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/" +
                           BERTKIT_SPM_PLUGIN_NAME);
    }
    candidates.push_back(BERTKIT_SPM_PLUGIN_NAME);
    void* h = nullptr;
    for (const auto& c : candidates) {
      h = dlopen(c.c_str(), BERTKIT_SPM_DLOPEN_FLAGS);
      if (h) break;
      error += "\n  " + c + ": " + dlerror();
    }
    if (!h) return;
    auto sym = [&](const char* name) {
      void* f = dlsym(h, name);
      if (!f) error += std::string("\n  missing symbol ") + name;
      return f;
    };
    p.load = reinterpret_cast<decltype(p.load)>(sym("bk_spm_load"));
    p.free = reinterpret_cast<decltype(p.free)>(sym("bk_spm_free"));
    p.piece_size = reinterpret_cast<decltype(p.piece_size)>(sym("bk_spm_piece_size"));
    p.piece = reinterpret_cast<decltype(p.piece)>(sym("bk_spm_piece"));
    p.piece_flags = reinterpret_cast<decltype(p.piece_flags)>(sym("bk_spm_piece_flags"));
    p.unk_id = reinterpret_cast<decltype(p.unk_id)>(sym("bk_spm_unk_id"));
    p.pad_id = reinterpret_cast<decltype(p.pad_id)>(sym("bk_spm_pad_id"));
    p.encode = reinterpret_cast<decltype(p.encode)>(sym("bk_spm_encode"));
    p.decode = reinterpret_cast<decltype(p.decode)>(sym("bk_spm_decode"));
    p.serialized = reinterpret_cast<decltype(p.serialized)>(sym("bk_spm_serialized"));
    p.train = reinterpret_cast<decltype(p.train)>(sym("bk_spm_train"));
    if (!error.empty()) p.load = nullptr;
  });
  if (!p.load || !p.train)
    throw RuntimeError("SentencePiece plugin " BERTKIT_SPM_PLUGIN_NAME
                       " could not be loaded (set BERTKIT_SENTENCEPIECE_PLUGIN to its path):" + error);
  return p;
}

void append_bytes(void* ctx, const char* data, std::size_t size) { static_cast<std::string*>(ctx)->append(data, size); }

constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's word boundary

std::optional<std::string> config_token(const Json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content")) return (*it)["content"].get<std::string>();
  return std::nullopt;
}
}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path, const std::string& tokenizer_config_path)
    : path_(model_path) {
  if (!file_exists(model_path)) throw InputError(model_path + ": no such SentencePiece model file");
  const Plugin& pl = plugin();
  char err[512] = {0};
  bk_spm* h = nullptr;
  if (pl.load(model_path.c_str(), &h, err, sizeof(err)) != 0)
    throw InputError(model_path + ": not a SentencePiece model (" + err + ")");
  handle_ = h;
  const int n = pl.piece_size(h);
  pieces_.resize(static_cast<std::size_t>(n));
  flags_.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    pl.piece(h, i, append_bytes, &pieces_[static_cast<std::size_t>(i)]);
    flags_[static_cast<std::size_t>(i)] = static_cast<uint8_t>(pl.piece_flags(h, i));
    piece_ids_.emplace(pieces_[static_cast<std::size_t>(i)], i);
  }
  unk_id_ = pl.unk_id(h);
  pad_id_ = pl.pad_id(h);
  auto has = [&](const std::string& piece) { return piece_ids_.count(piece) > 0; };
  auto pick = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names)
      if (has(n)) return n;
    return *names.begin();
  };
  specials_.cls_token = pick({"[CLS]", "<cls>", "<s>"});
  specials_.sep_token = pick({"[SEP]", "<sep>", "</s>"});
  specials_.mask_token = pick({"[MASK]", "<mask>"});
  specials_.pad_token = pad_id_ >= 0 ? pieces_[static_cast<std::size_t>(pad_id_)] : pick({"<pad>", "[PAD]"});
  specials_.unk_token = unk_id_ >= 0 && unk_id_ < n ? pieces_[static_cast<std::size_t>(unk_id_)] : "<unk>";
  if (!tokenizer_config_path.empty()) {
    Json cfg = json::load_file(tokenizer_config_path);
    if (cfg.contains("do_lower_case") && cfg["do_lower_case"].is_boolean()) config_.lowercase = cfg["do_lower_case"];
    if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
      double m = cfg["model_max_length"].get<double>();
      config_.model_max_length = m > 1e9 ? 0 : static_cast<std::size_t>(m);
    }
    if (auto t = config_token(cfg, "cls_token"); t && has(*t)) specials_.cls_token = *t;
    if (auto t = config_token(cfg, "sep_token"); t && has(*t)) specials_.sep_token = *t;
    if (auto t = config_token(cfg, "mask_token"); t && has(*t)) specials_.mask_token = *t;
    if (auto t = config_token(cfg, "pad_token"); t && has(*t)) specials_.pad_token = *t;
    if (auto t = config_token(cfg, "unk_token"); t && has(*t)) specials_.unk_token = *t;
  }
  model_max_length_ = config_.model_max_length;
  resolve_special_ids();
  if (specials_.cls < 0 || specials_.sep < 0)
    throw InputError(model_path + ": the model has no [CLS]/<cls>/<s> and [SEP]/<sep>/</s> pieces for BERT-style specials");
  post_ = PostProcessor::bert(specials_.cls_token, specials_.cls, specials_.sep_token, specials_.sep);
  std::vector<AddedToken> added;
  for (const std::string* t : {&specials_.cls_token, &specials_.sep_token, &specials_.mask_token, &specials_.pad_token}) {
    int32_t id = token_to_id(*t);
    if (id < 0) continue;
    bool dup = false;
    for (const auto& a : added) dup = dup || a.content == *t;
    if (!dup) added.push_back(AddedToken{*t, id, true});
  }
  set_added_tokens(std::move(added));
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (handle_) plugin().free(static_cast<bk_spm*>(handle_));
}

int32_t SentencePieceTokenizer::token_to_id(std::string_view token) const {
  auto it = piece_ids_.find(std::string(token));
  return it == piece_ids_.end() ? -1 : it->second;
}

std::string SentencePieceTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size())
    throw InputError("token id " + std::to_string(id) + " is outside the SentencePiece vocabulary (size " +
                     std::to_string(pieces_.size()) + ")");
  return pieces_[static_cast<std::size_t>(id)];
}

std::size_t SentencePieceTokenizer::vocab_size() const { return pieces_.size(); }

bool SentencePieceTokenizer::is_control(int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < flags_.size() && (flags_[static_cast<std::size_t>(id)] & 1);
}

bool SentencePieceTokenizer::is_continuation(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size() || (flags_[static_cast<std::size_t>(id)] & 3)) return false;
  return pieces_[static_cast<std::size_t>(id)].rfind(kSpace, 0) != 0;
}

int32_t SentencePieceTokenizer::split(std::string_view text, RawTokens& out, int32_t first_word,
                                      int32_t fixed_word) const {
  // Code point index of every byte of the original text.
  const std::vector<uint32_t> cp_at = utf8::code_point_index(text);
  int32_t word = first_word;
  auto wid = [&](bool new_word) {
    if (fixed_word >= 0) return fixed_word;
    if (new_word) ++word;
    return word - 1;
  };
  bool started = false;
  auto encode_segment = [&](std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    std::string_view seg = text.substr(begin, end - begin);
    // Normalised text (lowercased when asked) + each byte's original char range.
    std::string norm;
    std::vector<uint32_t> ob, oe;
    if (config_.lowercase) {
      std::size_t i = 0;
      while (i < seg.size()) {
        std::size_t s = i;
        char32_t c = utf8::next(seg, i);
        char32_t low[3];
        std::size_t nl = unicode::lower(c, low);
        std::size_t before = norm.size();
        for (std::size_t k = 0; k < nl; ++k) utf8::append(norm, low[k]);
        for (std::size_t k = before; k < norm.size(); ++k) {
          ob.push_back(static_cast<uint32_t>(begin + s));
          oe.push_back(static_cast<uint32_t>(begin + i));
        }
      }
    } else {
      norm.assign(seg);
    }
    struct Span {
      int id;
      unsigned b, e;
    };
    std::vector<Span> spans;
    char err[512] = {0};
    auto collect = [](void* ctx, int id, unsigned b, unsigned e) { static_cast<std::vector<Span>*>(ctx)->push_back({id, b, e}); };
    if (plugin().encode(static_cast<const bk_spm*>(handle_), norm.data(), norm.size(), collect, &spans, err, sizeof(err)) != 0)
      throw RuntimeError(std::string("SentencePiece encode failed: ") + err);
    for (const auto& piece : spans) {
      std::size_t b = piece.b, e = piece.e;
      std::size_t obeg, oend;
      if (config_.lowercase) {
        obeg = b < ob.size() ? ob[b] : end;
        oend = e > 0 && e - 1 < oe.size() ? oe[e - 1] : obeg;
        if (e <= b) oend = obeg;
      } else {
        obeg = begin + b;
        oend = begin + e;
      }
      // Offsets leave out the whitespace SentencePiece folds into "▁".
      while (obeg < oend && unicode::is_whitespace(static_cast<unsigned char>(text[obeg]))) ++obeg;
      bool new_word = !started || pieces_[static_cast<std::size_t>(piece.id)].rfind(kSpace, 0) == 0;
      started = true;
      out.push(static_cast<int32_t>(piece.id), Offset{cp_at[obeg], cp_at[oend]}, Offset{obeg, oend}, wid(new_word));
    }
  };
  std::size_t pos = 0;
  for (;;) {
    std::size_t k = 0;
    std::size_t next = find_added(text, pos, k);
    std::size_t stop = next == std::string_view::npos ? text.size() : next;
    encode_segment(pos, stop);
    if (next == std::string_view::npos) break;
    const AddedToken& t = added_[k];
    std::size_t e = next + t.content.size();
    out.push(t.id, Offset{cp_at[next], cp_at[e]}, Offset{next, e}, wid(true));
    started = false;
    pos = e;
  }
  return word;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string out;
  std::vector<int> run;
  auto flush = [&]() {
    if (run.empty()) return;
    std::string s;
    char err[512] = {0};
    if (plugin().decode(static_cast<const bk_spm*>(handle_), run.data(), run.size(), append_bytes, &s, err, sizeof(err)) != 0)
      throw InputError(std::string("decode: ") + err);
    if (!out.empty() && !s.empty()) out += ' ';
    out += s;
    run.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size())
      throw InputError("decode: token id " + std::to_string(id) + " is outside the vocabulary (size " +
                       std::to_string(pieces_.size()) + ")");
    bool special = is_added_special(id) || is_control(id);
    if (special) {
      if (skip_special_tokens) continue;
      flush();
      if (!out.empty()) out += ' ';
      out += pieces_[static_cast<std::size_t>(id)];
    } else {
      run.push_back(id);
    }
  }
  flush();
  return out;
}

void SentencePieceTokenizer::save(const std::string& dir) const {
  make_dirs(dir);
  std::string proto;
  plugin().serialized(static_cast<const bk_spm*>(handle_), append_bytes, &proto);
  write_file_atomic(dir + "/spiece.model", proto);
  ojson stm;
  stm["cls_token"] = specials_.cls_token;
  stm["mask_token"] = specials_.mask_token;
  stm["pad_token"] = specials_.pad_token;
  stm["sep_token"] = specials_.sep_token;
  stm["unk_token"] = specials_.unk_token;
  write_file_atomic(dir + "/special_tokens_map.json", stm.dump(2) + "\n");
  ojson cfg;
  cfg["tokenizer_class"] = "AlbertTokenizer";
  cfg["do_lower_case"] = config_.lowercase;
  cfg["keep_accents"] = true;
  cfg["remove_space"] = false;
  cfg["model_max_length"] = model_max_length_;
  for (const auto& [k, v] : stm.items()) cfg[k] = v;
  write_file_atomic(dir + "/tokenizer_config.json", cfg.dump(2) + "\n");
}

std::string train_sentencepiece(const SentencePieceTrainOptions& o) {
  if (o.inputs.empty()) throw InputError("sentencepiece training: no input files");
  for (const auto& f : o.inputs)
    if (!file_exists(f)) throw InputError(f + ": no such training file");
  if (o.model_prefix.empty()) throw InputError("sentencepiece training: an output model prefix is required");
  if (o.vocab_size <= 0) throw InputError("sentencepiece training: vocab_size must be positive");
  const std::vector<std::string> types = {"unigram", "bpe", "char", "word"};
  if (std::find(types.begin(), types.end(), o.model_type) == types.end())
    throw InputError("sentencepiece training: model type '" + o.model_type + "'; expected unigram, bpe, char or word");
  std::vector<std::pair<std::string, std::string>> kwv;
  struct Kw {
    std::vector<std::pair<std::string, std::string>>& v;
    std::string& operator[](const std::string& k) {
      v.emplace_back(k, "");
      return v.back().second;
    }
  } kw{kwv};
  std::string inputs;
  for (const auto& f : o.inputs) inputs += (inputs.empty() ? "" : ",") + f;
  kw["input"] = inputs;
  kw["model_prefix"] = o.model_prefix;
  kw["vocab_size"] = std::to_string(o.vocab_size);
  kw["model_type"] = o.model_type;
  kw["character_coverage"] = std::to_string(o.character_coverage);
  const unsigned threads = resolve_threads(o.threads > 0 ? static_cast<unsigned>(o.threads) : 0);
  kw["num_threads"] = std::to_string(threads);
  if (o.input_sentence_size > 0) {
    kw["input_sentence_size"] = std::to_string(o.input_sentence_size);
    kw["shuffle_input_sentence"] = "true";
  }
  if (o.lowercase) kw["normalization_rule_name"] = "nmt_nfkc_cf";
  std::string user;
  for (const auto& s : o.user_defined_symbols) user += (user.empty() ? "" : ",") + s;
  if (!user.empty()) kw["user_defined_symbols"] = user;
  if (o.bert_specials) {
    // ALBERT's layout: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3 [MASK]=4.
    kw["pad_id"] = "0";
    kw["unk_id"] = "1";
    kw["bos_id"] = "-1";
    kw["eos_id"] = "-1";
    kw["control_symbols"] = "[CLS],[SEP],[MASK]";
  }
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kwv) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  char err[1024] = {0};
  if (plugin().train(keys.data(), values.data(), keys.size(), err, sizeof(err)) != 0)
    throw InputError(std::string("sentencepiece training failed: ") + err);
  return o.model_prefix + ".model";
}

}  // namespace bertkit
