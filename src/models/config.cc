#include "bertkit/models/config.h"

#include <cmath>
#include <set>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"

namespace bertkit {

namespace {

using json::Json;

std::string key_where(const std::string& where, const std::string& key) { return where + ": key '" + key + "'"; }

int64_t get_int(const Json& j, const std::string& key, const std::string& where) {
  const auto& v = j.at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    // In range before the cast (casting 1e48 to int64 is undefined behaviour).
    if (std::isfinite(d) && std::abs(d) < 9.2e18 && d == std::floor(d)) return static_cast<int64_t>(d);
  }
  throw InputError(key_where(where, key) + ": expected an integer, got " + v.dump());
}

double get_double(const Json& j, const std::string& key, const std::string& where) {
  const auto& v = j.at(key);
  if (v.is_number()) return v.get<double>();
  throw InputError(key_where(where, key) + ": expected a number, got " + v.dump());
}

std::string get_string(const Json& j, const std::string& key, const std::string& where) {
  const auto& v = j.at(key);
  if (v.is_string()) return v.get<std::string>();
  throw InputError(key_where(where, key) + ": expected a string, got " + v.dump());
}

const std::set<std::string>& known_activations() {
  static const std::set<std::string> acts = {"gelu",      "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_python",
                                             "quick_gelu", "relu",    "silu",              "swish",     "tanh",
                                             "mish",       "linear"};
  return acts;
}

}  // namespace

BertConfig BertConfig::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": expected a JSON object");
  BertConfig c;
  std::set<std::string> handled;
  auto has = [&](const char* k) {
    handled.insert(k);
    return j.contains(k) && !j.at(k).is_null();
  };
  if (has("vocab_size")) c.vocab_size = get_int(j, "vocab_size", where);
  if (has("hidden_size")) c.hidden_size = get_int(j, "hidden_size", where);
  if (has("num_hidden_layers")) c.num_hidden_layers = get_int(j, "num_hidden_layers", where);
  if (has("num_attention_heads")) c.num_attention_heads = get_int(j, "num_attention_heads", where);
  if (has("intermediate_size")) c.intermediate_size = get_int(j, "intermediate_size", where);
  if (has("hidden_act")) c.hidden_act = get_string(j, "hidden_act", where);
  if (has("hidden_dropout_prob")) c.hidden_dropout_prob = get_double(j, "hidden_dropout_prob", where);
  if (has("attention_probs_dropout_prob"))
    c.attention_probs_dropout_prob = get_double(j, "attention_probs_dropout_prob", where);
  if (has("max_position_embeddings")) c.max_position_embeddings = get_int(j, "max_position_embeddings", where);
  if (has("type_vocab_size")) c.type_vocab_size = get_int(j, "type_vocab_size", where);
  if (has("initializer_range")) c.initializer_range = get_double(j, "initializer_range", where);
  if (has("layer_norm_eps")) c.layer_norm_eps = get_double(j, "layer_norm_eps", where);
  handled.insert("pad_token_id");
  if (j.contains("pad_token_id"))
    c.pad_token_id = j.at("pad_token_id").is_null() ? -1 : get_int(j, "pad_token_id", where);
  if (has("position_embedding_type")) c.position_embedding_type = get_string(j, "position_embedding_type", where);
  if (has("classifier_dropout")) c.classifier_dropout = get_double(j, "classifier_dropout", where);
  if (has("problem_type")) c.problem_type = get_string(j, "problem_type", where);
  if (has("model_type")) c.model_type = get_string(j, "model_type", where);
  if (has("architectures")) {
    const auto& a = j.at("architectures");
    if (!a.is_array()) throw InputError(key_where(where, "architectures") + ": expected an array of strings");
    for (const auto& s : a) {
      if (!s.is_string()) throw InputError(key_where(where, "architectures") + ": expected strings, got " + s.dump());
      c.architectures.push_back(s.get<std::string>());
    }
  }
  if (has("id2label")) {
    const auto& m = j.at("id2label");
    if (!m.is_object()) throw InputError(key_where(where, "id2label") + ": expected an object {\"0\": \"label\"}");
    for (auto it = m.begin(); it != m.end(); ++it) {
      int64_t id;
      try {
        size_t pos = 0;
        id = std::stoll(it.key(), &pos);
        if (pos != it.key().size()) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw InputError(key_where(where, "id2label") + ": key '" + it.key() + "' is not an integer id");
      }
      if (!it.value().is_string())
        throw InputError(key_where(where, "id2label." + it.key()) + ": expected a string label");
      c.id2label[id] = it.value().get<std::string>();
    }
  }
  if (has("label2id")) {
    const auto& m = j.at("label2id");
    if (!m.is_object()) throw InputError(key_where(where, "label2id") + ": expected an object {\"label\": 0}");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it.value().is_number_integer())
        throw InputError(key_where(where, "label2id." + it.key()) + ": expected an integer id");
      c.label2id[it.key()] = it.value().get<int64_t>();
    }
  }
  // HF: num_labels is derived from id2label when present; num_labels alone
  // creates LABEL_0..LABEL_{n-1}.
  if (has("num_labels")) c.num_labels = get_int(j, "num_labels", where);
  if (!c.id2label.empty()) {
    if (j.contains("num_labels") && !j.at("num_labels").is_null() &&
        c.num_labels != static_cast<int64_t>(c.id2label.size()))
      throw InputError(key_where(where, "num_labels") + ": " + std::to_string(c.num_labels) + " disagrees with id2label (" +
                       std::to_string(c.id2label.size()) + " labels)");
    c.num_labels = static_cast<int64_t>(c.id2label.size());
  } else {
    for (int64_t i = 0; i < c.num_labels; ++i) c.id2label[i] = "LABEL_" + std::to_string(i);
  }
  if (c.label2id.empty())
    for (const auto& [i, l] : c.id2label) c.label2id[l] = i;

  for (auto it = j.begin(); it != j.end(); ++it)
    if (!handled.count(it.key())) c.extra[it.key()] = it.value();
  c.validate(where);
  return c;
}

BertConfig BertConfig::load(const std::string& path) { return from_json(json::load_file(path), path); }

Json BertConfig::to_json() const {
  Json j = extra.is_object() ? extra : Json::object();
  if (!architectures.empty()) j["architectures"] = architectures;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["classifier_dropout"] = classifier_dropout ? Json(*classifier_dropout) : Json(nullptr);
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["hidden_size"] = hidden_size;
  Json i2l = Json::object();
  for (const auto& [i, l] : id2label) i2l[std::to_string(i)] = l;
  if (id2label.empty())
    for (int64_t i = 0; i < num_labels; ++i) i2l[std::to_string(i)] = "LABEL_" + std::to_string(i);
  j["id2label"] = i2l;
  j["initializer_range"] = initializer_range;
  j["intermediate_size"] = intermediate_size;
  Json l2i = Json::object();
  for (const auto& [l, i] : label2id) l2i[l] = i;
  if (label2id.empty())
    for (auto it = i2l.begin(); it != i2l.end(); ++it) l2i[it.value().get<std::string>()] = std::stoll(it.key());
  j["label2id"] = l2i;
  j["layer_norm_eps"] = layer_norm_eps;
  j["max_position_embeddings"] = max_position_embeddings;
  j["model_type"] = model_type;
  j["num_attention_heads"] = num_attention_heads;
  j["num_hidden_layers"] = num_hidden_layers;
  j["pad_token_id"] = pad_token_id >= 0 ? Json(pad_token_id) : Json(nullptr);
  j["position_embedding_type"] = position_embedding_type;
  if (!problem_type.empty()) j["problem_type"] = problem_type;
  j["type_vocab_size"] = type_vocab_size;
  j["vocab_size"] = vocab_size;
  return j;
}

void BertConfig::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

void BertConfig::validate(const std::string& where) const {
  auto positive = [&](int64_t v, const char* key) {
    if (v <= 0) throw InputError(key_where(where, key) + ": must be positive, got " + std::to_string(v));
  };
  auto probability = [&](double v, const char* key) {
    if (!(v >= 0.0 && v <= 1.0))
      throw InputError(key_where(where, key) + ": must be a probability in [0, 1], got " + std::to_string(v));
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  if (num_hidden_layers < 0)
    throw InputError(key_where(where, "num_hidden_layers") + ": must be >= 0, got " + std::to_string(num_hidden_layers));
  positive(num_attention_heads, "num_attention_heads");
  if (hidden_size % num_attention_heads != 0)
    throw InputError(key_where(where, "hidden_size") + ": " + std::to_string(hidden_size) +
                     " is not a multiple of num_attention_heads (" + std::to_string(num_attention_heads) + ")");
  positive(intermediate_size, "intermediate_size");
  if (!known_activations().count(hidden_act)) {
    std::string names;
    for (const auto& a : known_activations()) names += (names.empty() ? "" : ", ") + a;
    throw InputError(key_where(where, "hidden_act") + ": unknown activation '" + hidden_act + "' (expected one of " +
                     names + ")");
  }
  probability(hidden_dropout_prob, "hidden_dropout_prob");
  probability(attention_probs_dropout_prob, "attention_probs_dropout_prob");
  if (classifier_dropout) probability(*classifier_dropout, "classifier_dropout");
  positive(max_position_embeddings, "max_position_embeddings");
  positive(type_vocab_size, "type_vocab_size");
  if (!(initializer_range >= 0.0))
    throw InputError(key_where(where, "initializer_range") + ": must be >= 0");
  if (!(layer_norm_eps > 0.0)) throw InputError(key_where(where, "layer_norm_eps") + ": must be positive");
  if (pad_token_id >= vocab_size)
    throw InputError(key_where(where, "pad_token_id") + ": " + std::to_string(pad_token_id) +
                     " is outside the vocabulary (vocab_size " + std::to_string(vocab_size) + ")");
  if (position_embedding_type != "absolute" && position_embedding_type != "sinusoidal")
    throw InputError(key_where(where, "position_embedding_type") + ": '" + position_embedding_type +
                     "' is not supported (expected \"absolute\" or bertkit's \"sinusoidal\")");
  positive(num_labels, "num_labels");
  // An empty id2label (a config built in code) means HF's LABEL_i defaults.
  if (!id2label.empty() && static_cast<int64_t>(id2label.size()) != num_labels)
    throw InputError(key_where(where, "id2label") + ": has " + std::to_string(id2label.size()) +
                     " labels but num_labels is " + std::to_string(num_labels));
  for (const auto& [i, l] : id2label)
    if (i < 0 || i >= num_labels)
      throw InputError(key_where(where, "id2label") + ": id " + std::to_string(i) + " is outside [0, num_labels)");
  if (!problem_type.empty() && problem_type != "single_label_classification" &&
      problem_type != "multi_label_classification" && problem_type != "regression")
    throw InputError(key_where(where, "problem_type") + ": '" + problem_type +
                     "' (expected single_label_classification, multi_label_classification or regression)");
  if (model_type != "bert")
    throw InputError(key_where(where, "model_type") + ": '" + model_type + "' is not a BERT model (expected \"bert\")");
}

}  // namespace bertkit

namespace bertkit {

void BertConfig::set_num_labels(int64_t n) {
  if (n <= 0) throw InputError("num_labels must be positive, got " + std::to_string(n));
  if (n == num_labels && static_cast<int64_t>(id2label.size()) == n) return;
  num_labels = n;
  id2label.clear();
  label2id.clear();
  for (int64_t i = 0; i < n; ++i) {
    id2label[i] = "LABEL_" + std::to_string(i);
    label2id[id2label[i]] = i;
  }
}

bool BertConfig::tie_word_embeddings() const {
  if (extra.is_object() && extra.contains("tie_word_embeddings") && extra["tie_word_embeddings"].is_boolean())
    return extra["tie_word_embeddings"].get<bool>();
  return true;
}

}  // namespace bertkit
