#include "bertkit/serving/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/model_files.h"
#include "bertkit/models/config.h"
#include "bertkit/pipelines/batched.h"
#include "bertkit/serving/batch_queue.h"
#include "bertkit/serving/connection.h"
#include "bertkit/version.h"

namespace bertkit::serving {
namespace {

namespace P = bertkit::pipelines;
using json = nlohmann::json;

// ---- errors: TEI's {"error": ..., "error_type": ...} ----
struct HttpError : std::runtime_error {
  int status;
  std::string type;
  HttpError(int s, std::string t, const std::string& msg) : std::runtime_error(msg), status(s), type(std::move(t)) {}
};
[[noreturn]] void invalid(const std::string& msg) { throw HttpError(422, "Validation", msg); }

void send_error(httplib::Response& res, int status, const std::string& type, const std::string& msg) {
  res.status = status;
  // replace: the message may quote the client's bytes (a JSON parse error does), which need not be UTF-8.
  res.set_content(json{{"error", msg}, {"error_type", type}}.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
}

// ---- request fields ----
json parse_body(const httplib::Request& req) {
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    invalid(std::string("body: not valid JSON (") + e.what() + ")");
  }
  if (!body.is_object()) invalid("body: expected a JSON object");
  return body;
}

bool bool_field(const json& body, const char* name, bool fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_boolean()) invalid(std::string(name) + ": expected true or false");
  return body[name].get<bool>();
}

int64_t int_field(const json& body, const char* name, int64_t fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_number_integer()) invalid(std::string(name) + ": expected an integer");
  return body[name].get<int64_t>();
}

std::string string_field(const json& body, const char* name) {
  if (!body.contains(name)) invalid(std::string(name) + ": missing");
  if (!body[name].is_string()) invalid(std::string(name) + ": expected a string");
  std::string s = body[name].get<std::string>();
  if (s.empty()) throw HttpError(422, "Empty", std::string(name) + ": empty");
  return s;
}

// A string or a non-empty list of strings; `single` tells which.
std::vector<std::string> string_inputs(const json& body, const char* name, bool& single) {
  if (!body.contains(name)) invalid(std::string(name) + ": missing");
  const json& v = body[name];
  std::vector<std::string> out;
  single = v.is_string();
  if (single) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) invalid(std::string(name) + "[" + std::to_string(i) + "]: expected a string");
      out.push_back(v[i].get<std::string>());
    }
    if (out.empty()) throw HttpError(422, "Empty", std::string(name) + ": empty list");
  } else {
    invalid(std::string(name) + ": expected a string or a list of strings");
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].empty())
      throw HttpError(422, "Empty", std::string(name) + (single ? "" : "[" + std::to_string(i) + "]") + ": empty text");
  return out;
}

// TEI's /predict inputs: "text", ["text", "pair"], or [["text"], ["text", "pair"], ...].
std::vector<P::TextInput> predict_inputs(const json& body, bool& single) {
  if (!body.contains("inputs")) invalid("inputs: missing");
  const json& v = body["inputs"];
  auto sequence = [&](const json& x, const std::string& where) {
    if (!x.is_array() || x.empty() || x.size() > 2) invalid(where + ": expected [text] or [text, text_pair]");
    for (const auto& s : x)
      if (!s.is_string()) invalid(where + ": expected strings");
    P::TextInput in{x[0].get<std::string>(), std::nullopt};
    if (x.size() == 2) in.text_pair = x[1].get<std::string>();
    return in;
  };
  std::vector<P::TextInput> out;
  single = !v.is_array() || v.empty() || v[0].is_string();
  if (v.is_string()) {
    out.push_back({v.get<std::string>(), std::nullopt});
  } else if (v.is_array() && v.empty()) {
    throw HttpError(422, "Empty", "inputs: empty list");
  } else if (single && v.is_array()) {
    out.push_back(sequence(v, "inputs"));
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(sequence(v[i], "inputs[" + std::to_string(i) + "]"));
  } else {
    invalid("inputs: expected a string, a pair [text, text_pair] or a list of them");
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].text.empty() || (out[i].text_pair && out[i].text_pair->empty()))
      throw HttpError(422, "Empty", "inputs" + (single ? std::string() : "[" + std::to_string(i) + "]") + ": empty text");
  return out;
}

// ---- the served model ----
enum class ModelKind { Embedding, Classifier, TokenClassifier, QuestionAnswering };

std::string kind_name(ModelKind k) {
  switch (k) {
    case ModelKind::Embedding: return "embeddings";
    case ModelKind::Classifier: return "text-classification";
    case ModelKind::TokenClassifier: return "token-classification";
    case ModelKind::QuestionAnswering: return "question-answering";
  }
  return "";
}

// model_file: the directory may come from elsewhere; no symbolic link in it
// may make the server read outside it.
ModelKind detect_kind(const std::string& dir) {
  if (file_exists(model_file(dir, "modules.json", dir))) return ModelKind::Embedding;
  BertConfig c = BertConfig::load(model_file(dir, "config.json", dir));
  std::string arch = c.architectures.empty() ? "BertModel" : c.architectures[0];
  if (arch == "BertForSequenceClassification") return ModelKind::Classifier;
  if (arch == "BertForTokenClassification") return ModelKind::TokenClassifier;
  if (arch == "BertForQuestionAnswering") return ModelKind::QuestionAnswering;
  if (arch == "BertForMaskedLM" || arch == "BertForPreTraining")
    throw InputError(dir + "/config.json: " + arch +
                     " is not served (embedding, sequence-classification, token-classification and "
                     "question-answering models are); use `bertkit predict` for fill-mask");
  return ModelKind::Embedding;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  ModelKind kind;
  std::optional<P::EmbeddingModel> embedding;
  std::optional<P::LoadedModel> model;
  Metrics metrics;
  std::unique_ptr<BatchQueue> queue;
  httplib::Server http;
  int port = -1;
  int listen_socket = -1;
  std::atomic<bool> stop_requested{false}, serving{false};

  const P::LoadedModel& base() const { return embedding ? embedding->base : *model; }
  P::BatchingOptions batching() const { return {options.max_batch_tokens, 0}; }

  Impl(const std::string& dir, const ServerOptions& o);
  std::vector<json> run(const std::string& kind, const std::vector<const Sequence*>& seqs);
  Encoding encode(const P::TextInput& in, bool truncate, const std::string& field) const;
  std::vector<json> infer(const httplib::Request& req, const std::string& kind, std::vector<Sequence> seqs);
  void require(ModelKind k, const std::string& route) const;
  void add_routes();

  // Routes
  void embed(const httplib::Request& req, httplib::Response& res);
  void openai_embeddings(const httplib::Request& req, httplib::Response& res);
  void predict(const httplib::Request& req, httplib::Response& res);
  void rerank(const httplib::Request& req, httplib::Response& res);
  void ner(const httplib::Request& req, httplib::Response& res);
  void qa(const httplib::Request& req, httplib::Response& res);
  void tokenize(const httplib::Request& req, httplib::Response& res);
  json info() const;
};

Server::Impl::Impl(const std::string& dir, const ServerOptions& o) : options(o) {
  kind = detect_kind(dir);
  if (kind == ModelKind::Embedding)
    embedding = P::load_embedding_model(dir, std::nullopt, o.device);
  else
    model = P::load_model(dir, std::nullopt, o.device);
  if (options.model_id.empty()) options.model_id = dir;
  std::size_t model_limit = embedding ? embedding->options.max_seq_length : P::model_max_length(*model);
  if (options.max_input_length == 0 || options.max_input_length > model_limit) options.max_input_length = model_limit;
  queue = std::make_unique<BatchQueue>([this](const std::string& k, const std::vector<const Sequence*>& s) { return run(k, s); },
                                       options.max_batch_tokens, options.max_concurrent_requests, metrics);
}

// ---- inference (the queue's thread): kinds "embed", "predict", "rerank", "ner:<agg>", "qa:<options>" ----
std::vector<json> Server::Impl::run(const std::string& kind, const std::vector<const Sequence*>& seqs) {
  std::vector<Encoding> encs;
  for (auto* s : seqs) encs.push_back(s->encoding);
  std::vector<json> out;
  if (kind == "embed") {
    torch::Tensor e = P::embed_encodings(*embedding, encs, /*normalize=*/false, batching()).contiguous();
    for (int64_t i = 0; i < e.size(0); ++i)
      out.push_back(std::vector<float>(e[i].data_ptr<float>(), e[i].data_ptr<float>() + e.size(1)));
  } else if (kind == "predict" || kind == "rerank") {
    torch::Tensor logits = P::classification_logits(*model, encs, batching()).contiguous();  // [N, L]
    for (int64_t i = 0; i < logits.size(0); ++i)
      out.push_back(std::vector<float>(logits[i].data_ptr<float>(), logits[i].data_ptr<float>() + logits.size(1)));
  } else if (kind.rfind("ner:", 0) == 0) {
    P::Aggregation agg = P::parse_aggregation(kind.substr(4));
    std::vector<std::string> texts;
    for (auto* s : seqs) texts.push_back(s->text);
    for (auto& ents : P::token_classification(*model, texts, encs, agg, {"O"}, batching()))
      out.push_back(P::to_json(ents, agg));
  } else if (kind.rfind("qa:", 0) == 0) {
    json o = json::parse(kind.substr(3));
    P::QaOptions qo;
    qo.top_k = o["top_k"];
    qo.doc_stride = o["doc_stride"];
    qo.max_answer_len = o["max_answer_len"];
    qo.max_seq_len = o["max_seq_len"];
    qo.handle_impossible_answer = o["handle_impossible_answer"];
    qo.align_to_words = o["align_to_words"];
    for (auto* s : seqs) out.push_back(P::to_json(P::question_answering(*model, s->text, s->text_pair, qo)));
  } else {
    throw RuntimeError("serve: unknown job kind " + kind);
  }
  return out;
}

// Tokenised as the pipelines do; longer than max_input_length: 413, or cut when truncating.
Encoding Server::Impl::encode(const P::TextInput& in, bool truncate, const std::string& field) const {
  const Tokenizer& tok = *base().tokenizer;
  auto run = [&](const EncodeOptions& eo) {
    return in.text_pair ? tok.encode(in.text, std::string_view(*in.text_pair), eo) : tok.encode(in.text, std::nullopt, eo);
  };
  Encoding e = run(EncodeOptions{});
  if (e.ids.size() <= options.max_input_length) return e;
  if (!truncate && !options.auto_truncate)
    throw HttpError(413, "Validation",
                    field + ": " + std::to_string(e.ids.size()) + " tokens, more than the limit of " +
                        std::to_string(options.max_input_length) +
                        " (send \"truncate\": true, or start the server with --auto-truncate)");
  EncodeOptions eo;
  eo.max_length = options.max_input_length;
  eo.truncation = Truncation::LongestFirst;
  return run(eo);
}

// Queues the sequences and waits for their answers; a client that goes away meanwhile cancels them.
std::vector<json> Server::Impl::infer(const httplib::Request& req, const std::string& kind, std::vector<Sequence> seqs) {
  auto job = std::make_shared<Job>();
  job->kind = kind;
  for (auto& s : seqs) job->tokens += std::max<std::size_t>(s.encoding.ids.size(), 1);
  job->sequences = std::move(seqs);
  auto answers = job->answers.get_future();
  if (!queue->submit(job))
    throw HttpError(429, "Overloaded", "the server has " + std::to_string(options.max_concurrent_requests) +
                                           " requests in flight (--max-concurrent-requests); retry later");
  int fd = -2;  // looked up once the answer takes a while
  while (answers.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    if (fd == -2) fd = find_connection_socket(req.remote_addr, req.remote_port, req.local_port);
    if (fd >= 0 && peer_closed(fd)) job->cancelled = true;
  }
  std::vector<json> out = answers.get();
  if (out.size() != job->sequences.size()) throw HttpError(499, "Cancelled", "the client closed the connection");
  return out;
}

void Server::Impl::require(ModelKind k, const std::string& route) const {
  if (kind == k) return;
  throw HttpError(400, "Validation",
                  route + " serves " + kind_name(k) + " models; this server's model (" + options.model_id + ") is a " +
                      kind_name(kind) + " model");
}

std::vector<std::string> checked_batch(const json& body, const char* field, bool& single, std::size_t max) {
  std::vector<std::string> texts = string_inputs(body, field, single);
  if (texts.size() > max)
    throw HttpError(413, "Validation", std::string(field) + ": " + std::to_string(texts.size()) +
                                           " inputs, more than --max-client-batch-size " + std::to_string(max));
  return texts;
}

// POST /embed {"inputs": str | [str], "normalize": true, "truncate": false} -> [[float]]
void Server::Impl::embed(const httplib::Request& req, httplib::Response& res) {
  require(ModelKind::Embedding, "/embed");
  json body = parse_body(req);
  bool single = false;
  auto texts = checked_batch(body, "inputs", single, options.max_client_batch_size);
  bool normalize = bool_field(body, "normalize", true), truncate = bool_field(body, "truncate", false);
  std::vector<Sequence> seqs;
  for (std::size_t i = 0; i < texts.size(); ++i)
    seqs.push_back({encode({texts[i], std::nullopt}, truncate, "inputs[" + std::to_string(i) + "]"), texts[i], ""});
  json out = json::array();
  for (auto& v : infer(req, "embed", std::move(seqs))) {
    if (normalize) {
      auto t = torch::tensor(v.get<std::vector<float>>());
      t = torch::nn::functional::normalize(t.unsqueeze(0), torch::nn::functional::NormalizeFuncOptions().p(2).dim(1))[0];
      v = std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    }
    out.push_back(std::move(v));
  }
  res.set_content(out.dump(), "application/json");
}

// POST /v1/embeddings {"input": str | [str], "model": ..., "encoding_format": "float"} (OpenAI's shape)
void Server::Impl::openai_embeddings(const httplib::Request& req, httplib::Response& res) {
  require(ModelKind::Embedding, "/v1/embeddings");
  json body = parse_body(req);
  bool single = false;
  auto texts = checked_batch(body, "input", single, options.max_client_batch_size);
  if (body.contains("encoding_format") && body["encoding_format"] != "float")
    invalid("encoding_format: only \"float\" is supported");
  std::vector<Sequence> seqs;
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    seqs.push_back({encode({texts[i], std::nullopt}, false, "input[" + std::to_string(i) + "]"), texts[i], ""});
    tokens += seqs.back().encoding.ids.size();
  }
  json data = json::array();
  auto rows = infer(req, "embed", std::move(seqs));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto t = torch::tensor(rows[i].get<std::vector<float>>());
    t = torch::nn::functional::normalize(t.unsqueeze(0), torch::nn::functional::NormalizeFuncOptions().p(2).dim(1))[0];
    data.push_back({{"object", "embedding"},
                    {"embedding", std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel())},
                    {"index", i}});
  }
  std::string model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : options.model_id;
  res.set_content(json{{"object", "list"}, {"data", data}, {"model", model},
                       {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}}
                      .dump(),
                  "application/json");
}

// POST /predict {"inputs": ..., "raw_scores": false, "truncate": false} -> [{"label", "score"}] (or a list of them)
void Server::Impl::predict(const httplib::Request& req, httplib::Response& res) {
  require(ModelKind::Classifier, "/predict");
  json body = parse_body(req);
  bool single = false;
  auto inputs = predict_inputs(body, single);
  if (inputs.size() > options.max_client_batch_size)
    throw HttpError(413, "Validation", "inputs: " + std::to_string(inputs.size()) +
                                           " inputs, more than --max-client-batch-size " +
                                           std::to_string(options.max_client_batch_size));
  bool raw = bool_field(body, "raw_scores", false), truncate = bool_field(body, "truncate", false);
  std::vector<Sequence> seqs;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    seqs.push_back({encode(inputs[i], truncate, "inputs[" + std::to_string(i) + "]"), inputs[i].text, ""});
  json out = json::array();
  for (auto& logits : infer(req, "predict", std::move(seqs))) {
    auto scores = P::classification_scores(*model, logits.get<std::vector<float>>(), 0,
                                           raw ? P::ClassifyFunction::None : P::ClassifyFunction::Default);
    out.push_back(P::to_json(scores));
  }
  res.set_content((single ? out[0] : out).dump(), "application/json");
}

// POST /rerank {"query", "texts", "raw_scores", "return_text", "truncate"} -> [{"index", "score"(, "text")}] best first
void Server::Impl::rerank(const httplib::Request& req, httplib::Response& res) {
  require(ModelKind::Classifier, "/rerank");
  if (model->model->config.num_labels != 1)
    throw HttpError(400, "Validation", "/rerank needs a classifier with one label (a cross-encoder); this model has " +
                                           std::to_string(model->model->config.num_labels) + " (use /predict)");
  json body = parse_body(req);
  std::string query = string_field(body, "query");
  bool single = false;
  auto texts = checked_batch(body, "texts", single, options.max_client_batch_size);
  if (single) invalid("texts: expected a list of strings");
  bool raw = bool_field(body, "raw_scores", false), truncate = bool_field(body, "truncate", false);
  bool return_text = bool_field(body, "return_text", false);
  std::vector<Sequence> seqs;
  for (std::size_t i = 0; i < texts.size(); ++i)
    seqs.push_back({encode({query, texts[i]}, truncate, "texts[" + std::to_string(i) + "]"), texts[i], ""});
  auto logits = infer(req, "rerank", std::move(seqs));
  std::vector<std::pair<double, std::size_t>> ranked;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    float x = logits[i][0].get<float>();
    ranked.push_back({raw ? x : 1.0f / (1.0f + std::exp(-x)), i});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first > b.first; });
  json out = json::array();
  for (auto& [score, i] : ranked) {
    json r{{"index", i}, {"score", score}};
    if (return_text) r["text"] = texts[i];
    out.push_back(r);
  }
  res.set_content(out.dump(), "application/json");
}

// POST /ner {"inputs": str | [str], "aggregation_strategy": "simple", "truncate": false}
void Server::Impl::ner(const httplib::Request& req, httplib::Response& res) {
  require(ModelKind::TokenClassifier, "/ner");
  json body = parse_body(req);
  bool single = false;
  auto texts = checked_batch(body, "inputs", single, options.max_client_batch_size);
  std::string agg = "simple";
  if (body.contains("aggregation_strategy")) {
    if (!body["aggregation_strategy"].is_string()) invalid("aggregation_strategy: expected a string");
    agg = body["aggregation_strategy"].get<std::string>();
    try {
      P::parse_aggregation(agg);
    } catch (const InputError& e) {
      invalid(std::string("aggregation_strategy: ") + e.what());
    }
  }
  bool truncate = bool_field(body, "truncate", false);
  std::vector<Sequence> seqs;
  for (std::size_t i = 0; i < texts.size(); ++i)
    seqs.push_back({encode({texts[i], std::nullopt}, truncate, "inputs[" + std::to_string(i) + "]"), texts[i], ""});
  json out(infer(req, "ner:" + agg, std::move(seqs)));
  res.set_content((single ? out[0] : out).dump(), "application/json");
}

// POST /qa {"question", "context", "top_k", "doc_stride", "max_answer_len", "max_seq_len", "handle_impossible_answer", "align_to_words"}
void Server::Impl::qa(const httplib::Request& req, httplib::Response& res) {
  require(ModelKind::QuestionAnswering, "/qa");
  json body = parse_body(req);
  Sequence s;
  s.text = string_field(body, "question");
  s.text_pair = string_field(body, "context");
  json o{{"top_k", int_field(body, "top_k", 1)},
         {"doc_stride", int_field(body, "doc_stride", -1)},
         {"max_answer_len", int_field(body, "max_answer_len", 15)},
         {"max_seq_len", int_field(body, "max_seq_len", -1)},
         {"handle_impossible_answer", bool_field(body, "handle_impossible_answer", false)},
         {"align_to_words", bool_field(body, "align_to_words", true)}};
  if (o["top_k"] < 1) invalid("top_k: must be >= 1");
  if (o["max_answer_len"] < 1) invalid("max_answer_len: must be >= 1");
  if (o["max_seq_len"] != -1 && (o["max_seq_len"] < 8 || o["max_seq_len"] > int64_t(P::model_max_length(*model))))
    invalid("max_seq_len: must be between 8 and " + std::to_string(P::model_max_length(*model)));
  if (o["doc_stride"] < -1) invalid("doc_stride: must be >= 0");
  EncodeOptions eo;  // the token count the queue budgets (the pipeline cuts its own windows)
  eo.max_length = P::model_max_length(*model);
  eo.truncation = Truncation::OnlySecond;
  s.encoding = model->tokenizer->encode(s.text, std::string_view(s.text_pair), eo);
  std::vector<Sequence> seqs;
  seqs.push_back(std::move(s));
  res.set_content(infer(req, "qa:" + o.dump(), std::move(seqs))[0].dump(), "application/json");
}

// POST /tokenize {"inputs": str | [str], "add_special_tokens": true} -> [[{"id", "text", "special", "start", "stop"}]]
void Server::Impl::tokenize(const httplib::Request& req, httplib::Response& res) {
  json body = parse_body(req);
  bool single = false;
  auto texts = checked_batch(body, "inputs", single, options.max_client_batch_size);
  EncodeOptions eo;
  eo.add_special_tokens = bool_field(body, "add_special_tokens", true);
  json out = json::array();
  for (const auto& text : texts) {
    Encoding e = base().tokenizer->encode(text, std::nullopt, eo);
    json toks = json::array();
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      bool special = !e.special_tokens_mask.empty() && e.special_tokens_mask[i];
      json t{{"id", e.ids[i]}, {"special", special}};
      if (special) {
        t["text"] = e.tokens[i];
        t["start"] = nullptr;
        t["stop"] = nullptr;
      } else {
        auto [a, b] = e.byte_offsets[i];
        t["text"] = text.substr(a, b - a);
        t["start"] = e.offsets[i].first;
        t["stop"] = e.offsets[i].second;
      }
      toks.push_back(t);
    }
    out.push_back(toks);
  }
  res.set_content(out.dump(), "application/json");
}

json Server::Impl::info() const {
  const BertConfig& c = base().model->config;
  json model_type;
  if (kind == ModelKind::Embedding) {
    std::string pooling;
    for (auto p : embedding->options.pooling) {
      static const char* names[] = {"cls", "mean", "max", "mean_sqrt_len_tokens"};
      pooling += (pooling.empty() ? "" : "+") + std::string(names[static_cast<int>(p)]);
    }
    model_type = {{"embedding", {{"pooling", pooling}}}};
  } else {
    json id2label = json::object(), label2id = json::object();
    for (auto& [i, l] : c.id2label) id2label[std::to_string(i)] = l, label2id[l] = i;
    std::string key = kind == ModelKind::Classifier ? (c.num_labels == 1 ? "reranker" : "classifier")
                                                    : (kind == ModelKind::TokenClassifier ? "token_classifier" : "question_answering");
    model_type = {{key, {{"id2label", id2label}, {"label2id", label2id}}}};
  }
  return {{"model_id", options.model_id},
          {"model_sha", nullptr},
          {"model_dtype", "float32"},
          {"model_type", model_type},
          {"task", kind_name(kind)},
          {"max_concurrent_requests", options.max_concurrent_requests},
          {"max_input_length", options.max_input_length},
          {"max_batch_tokens", options.max_batch_tokens},
          {"max_batch_requests", nullptr},
          {"max_client_batch_size", options.max_client_batch_size},
          {"auto_truncate", options.auto_truncate},
          {"tokenization_workers", 1},
          {"payload_limit", options.payload_limit},
          {"version", BERTKIT_VERSION_STRING},
          {"sha", nullptr},
          {"docker_label", nullptr}};
}

namespace {
const char* kRoutes[] = {"/embed", "/v1/embeddings", "/predict", "/rerank", "/ner", "/qa", "/tokenize", "/health", "/info", "/metrics"};
std::string route_label(const std::string& path) {
  for (const char* r : kRoutes)
    if (path == r) return r;
  return "other";
}
}  // namespace

void Server::Impl::add_routes() {
  using Method = void (Impl::*)(const httplib::Request&, httplib::Response&);
  auto post = [&](const char* path, Method m) {
    http.Post(path, [this, path, m](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      try {
        (this->*m)(req, res);
      } catch (const HttpError& e) {
        send_error(res, e.status, e.type, e.what());
      } catch (const InputError& e) {
        send_error(res, 422, "Validation", e.what());
      } catch (const std::exception& e) {
        send_error(res, 500, "Backend", e.what());
      }
      metrics.record_latency(path, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    });
  };
  post("/embed", &Impl::embed);
  post("/v1/embeddings", &Impl::openai_embeddings);
  post("/predict", &Impl::predict);
  post("/rerank", &Impl::rerank);
  post("/ner", &Impl::ner);
  post("/qa", &Impl::qa);
  post("/tokenize", &Impl::tokenize);
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  http.Get("/info", [this](const httplib::Request&, httplib::Response& res) { res.set_content(info().dump(), "application/json"); });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.prometheus(), "text/plain; version=0.0.4");
  });
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (options.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + options.api_key) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, 401, "Unauthorized", "missing or wrong \"Authorization: Bearer <api key>\" header");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {  // httplib's own 4xx: JSON too
    if (!res.body.empty()) return;
    if (res.status == 413) send_error(res, 413, "Validation", "request body larger than the payload limit");
    else if (res.status == 404) send_error(res, 404, "NotFound", "no route " + req.method + " " + req.path);
    else send_error(res, res.status, "Validation", "bad request");
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics.record_status(route_label(req.path), res.status);
  });
  http.set_payload_max_length(options.payload_limit);
  http.set_tcp_nodelay(true);
  http.set_socket_options([this](int sock) {  // replaces httplib's, which set SO_REUSEADDR too
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket = sock;
  });  // answers go out at once, not after the client's delayed ACK
  // One worker per request the queue admits (+ a few to answer 429 and GETs at once).
  std::size_t workers = options.max_concurrent_requests + 8;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
}

Server::Server(const std::string& model_dir, const ServerOptions& options) : impl_(std::make_unique<Impl>(model_dir, options)) {
  impl_->add_routes();
  if (options.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(options.host);
  } else if (impl_->http.bind_to_port(options.host, options.port)) {
    impl_->port = options.port;
  }
  if (impl_->port <= 0)
    throw RuntimeError("serve: cannot listen on " + options.host + ":" + std::to_string(options.port) +
                       " (address in use or not local?)");
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of new clients
  // would overflow it and some connections be dropped. Listening again widens it.
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, 1024);
}

Server::~Server() { impl_->queue->drain_and_stop(); }

int Server::port() const { return impl_->port; }

void Server::serve() {
  impl_->serving = true;
  if (!impl_->stop_requested) impl_->http.listen_after_bind();  // returns after stop(), once its workers answered
  impl_->queue->drain_and_stop();
}

void Server::stop() {
  impl_->stop_requested = true;
  // listen_after_bind may not have started yet: wait until it runs (or serve() never will).
  for (int i = 0; i < 500 && impl_->serving && !impl_->http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  impl_->http.stop();
}

}  // namespace bertkit::serving
