// bertkit predict: run a model on texts with the behaviour and output fields
// of transformers' pipelines (see docs/tasks.md).
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/progress.h"
#include "bertkit/core/fs.h"
#include "bertkit/models/config.h"
#include "bertkit/pipelines/batched.h"
#include "bertkit/pipelines/pipelines.h"
#include "bertkit/training/device.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace bertkit::cli {
namespace {

namespace P = bertkit::pipelines;

struct PredictArgs {
  std::string model;
  std::string task = "auto";
  std::vector<std::string> texts;
  std::string pair, question, context, input, output, format = "json", device = "cpu";
  int top_k = -1;
  std::string aggregation = "none";  // transformers' pipeline default
  std::string function_to_apply = "default";
  int doc_stride = -1, max_seq_len = -1, max_answer_len = 15;
  bool handle_impossible = false, no_align_to_words = false, hf_early_exit = false;
  std::string pooling;
  bool normalize = false, similarity = false;
  int max_length = 0;
  std::size_t max_batch_tokens = 16384;
};

// One input item: text (+pair) or question/context.
struct Item {
  std::string text, pair, question, context;
  bool has_pair = false;
};

std::string detect_task(const std::string& dir) {
  if (file_exists(dir + "/modules.json")) return "embeddings";
  BertConfig c = BertConfig::load(dir + "/config.json");
  std::string arch = c.architectures.empty() ? "BertModel" : c.architectures[0];
  if (arch == "BertForSequenceClassification") return "text-classification";
  if (arch == "BertForTokenClassification") return "token-classification";
  if (arch == "BertForQuestionAnswering") return "question-answering";
  if (arch == "BertForMaskedLM" || arch == "BertForPreTraining") return "fill-mask";
  return "embeddings";
}

std::vector<Item> read_items(const PredictArgs& a, const std::string& task) {
  std::vector<Item> items;
  if (!a.input.empty()) {
    std::istringstream is(read_file(a.input));
    std::string line;
    std::size_t n = 0;
    while (std::getline(is, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      Item it;
      if (line[line.find_first_not_of(" \t")] == '{') {
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
          throw InputError(a.input + ":" + std::to_string(n) + ": not valid JSON (" + e.what() + ")");
        }
        auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
        it.text = str("text");
        if (j.contains("text_pair")) it.pair = str("text_pair"), it.has_pair = true;
        it.question = str("question");
        it.context = str("context");
        if (task == "question-answering" && (it.question.empty() || it.context.empty()))
          throw InputError(a.input + ":" + std::to_string(n) + ": expected {\"question\": ..., \"context\": ...}");
        if (task != "question-answering" && !j.contains("text"))
          throw InputError(a.input + ":" + std::to_string(n) + ": expected {\"text\": ...}");
      } else {
        it.text = line;
      }
      items.push_back(std::move(it));
    }
  }
  if (task == "question-answering" && (!a.question.empty() || !a.context.empty())) {
    if (a.question.empty() || a.context.empty()) throw InputError("predict: question-answering needs both --question and --context");
    Item it;
    it.question = a.question;
    it.context = a.context;
    items.push_back(it);
  }
  if (task == "question-answering" && !a.texts.empty())
    throw InputError("predict: question-answering takes --question Q --context C (or --input FILE of "
                     "{\"question\": ..., \"context\": ...} lines), not positional texts");
  for (auto& t : a.texts) {
    Item it;
    it.text = t;
    if (!a.pair.empty()) it.pair = a.pair, it.has_pair = true;
    items.push_back(it);
  }
  if (items.empty()) throw InputError("predict: no input (give texts, --input FILE, or --question/--context)");
  return items;
}

int run_predict(const PredictArgs& a) {
  torch::Device device = parse_device(a.device);
  std::string task = a.task == "auto" ? detect_task(a.model) : a.task;
  if (task == "feature-extraction" || task == "sentence-similarity") task = "embeddings";
  if (task == "ner") task = "token-classification";
  if (task == "qa") task = "question-answering";
  if (task == "sentiment-analysis") task = "text-classification";
  std::vector<Item> items = read_items(a, task);
  std::vector<nlohmann::json> results;
  P::BatchingOptions batching;
  batching.max_batch_tokens = a.max_batch_tokens;
  if (task == "embeddings") {
    std::optional<P::EmbeddingOptions> ov;
    if (!a.pooling.empty() || a.normalize || a.max_length > 0) {
      P::EmbeddingOptions o;
      o.pooling.clear();
      if (!a.pooling.empty()) o.pooling.push_back(P::parse_pooling(a.pooling));
      o.normalize = a.normalize;
      o.max_seq_length = static_cast<std::size_t>(std::max(0, a.max_length));
      ov = o;
    }
    P::EmbeddingModel m = P::load_embedding_model(a.model, ov, device);
    std::vector<std::string> texts;
    for (auto& it : items) texts.push_back(it.text);
    torch::Tensor emb = P::embed_batched(m, texts, batching).contiguous();  // [N, D]
    auto rows = [&](const torch::Tensor& t) {
      nlohmann::json out = nlohmann::json::array();
      auto c = t.to(torch::kDouble).contiguous();
      for (int64_t i = 0; i < c.size(0); ++i)
        out.push_back(std::vector<double>(c[i].data_ptr<double>(), c[i].data_ptr<double>() + c.size(1)));
      return out;
    };
    nlohmann::json e = rows(emb);
    if (a.format == "jsonl") {
      nlohmann::json sim = a.similarity ? rows(P::cosine_similarity_matrix(emb, emb)) : nlohmann::json();
      for (std::size_t i = 0; i < texts.size(); ++i) {
        results.push_back({{"text", texts[i]}, {"embedding", e[i]}});
        if (a.similarity) results.back()["similarity"] = sim[i];  // row i: cosine to every input
      }
    } else {
      nlohmann::json o{{"embeddings", e}};
      if (a.similarity) o["similarity"] = rows(P::cosine_similarity_matrix(emb, emb));
      results.push_back(o);
    }
  } else if (task == "text-classification" || task == "token-classification" || task == "question-answering" ||
             task == "fill-mask") {
    std::optional<Architecture> arch;
    if (task == "text-classification") arch = Architecture::BertForSequenceClassification;
    if (task == "token-classification") arch = Architecture::BertForTokenClassification;
    if (task == "question-answering") arch = Architecture::BertForQuestionAnswering;
    if (task == "fill-mask") arch = Architecture::BertForMaskedLM;
    P::LoadedModel m = P::load_model(a.model, arch, device);
    // Over a file: progress on stderr (stdout holds the results).
    std::optional<ProgressLine> progress;
    if (!a.input.empty()) progress.emplace("predict:", static_cast<int64_t>(items.size()), "inputs");
    int64_t done = 0;
    if (task == "text-classification") {
      std::vector<P::TextInput> inputs;
      for (auto& it : items) inputs.push_back({it.text, it.has_pair ? std::optional<std::string>(it.pair) : std::nullopt});
      std::size_t k = a.top_k < 0 ? 0 : static_cast<std::size_t>(a.top_k);
      for (auto& r : P::text_classification(m, inputs, k, P::parse_classify_function(a.function_to_apply), batching))
        results.push_back(P::to_json(r));
    } else if (task == "token-classification") {
      std::vector<std::string> texts;
      for (auto& it : items) texts.push_back(it.text);
      auto agg = P::parse_aggregation(a.aggregation);
      for (auto& r : P::token_classification(m, texts, agg, {"O"}, batching)) results.push_back(P::to_json(r, agg));
    }
    for (auto& it : items) {  // one at a time: QA windows and masks vary per input
      if (task == "text-classification" || task == "token-classification") {
        break;
      }
      if (progress) progress->update(done++);
      if (task == "question-answering") {
        P::QaOptions o;
        o.top_k = a.top_k < 0 ? 1 : static_cast<std::size_t>(a.top_k);
        o.doc_stride = a.doc_stride;
        o.max_seq_len = a.max_seq_len;
        o.max_answer_len = static_cast<std::size_t>(a.max_answer_len);
        o.handle_impossible_answer = a.handle_impossible;
        o.align_to_words = !a.no_align_to_words;
        o.hf_tokenizers_early_exit = a.hf_early_exit;
        results.push_back(P::to_json(P::question_answering(m, it.question, it.context, o)));
      } else {
        results.push_back(P::to_json(P::fill_mask(m, it.text, a.top_k < 0 ? 5 : static_cast<std::size_t>(a.top_k))));
      }
    }
    if (progress) progress->update(static_cast<int64_t>(items.size()));
  } else {
    throw InputError("predict: unknown task '" + task +
                     "' (text-classification, token-classification, question-answering, fill-mask, embeddings)");
  }
  std::string out;
  if (a.format == "jsonl") {
    for (auto& r : results) out += r.dump() + "\n";
  } else {
    nlohmann::json j = results.size() == 1 ? results[0] : nlohmann::json(results);
    out = j.dump(2) + "\n";
  }
  if (a.output.empty())
    std::cout << out;
  else
    write_file_atomic(a.output, out);
  return 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<PredictArgs>();
  sub.add_option("model", a->model, "Model directory (HF or sentence-transformers) or Hub id (org/name[@revision])")->required();
  add_verbatim_positionals(sub, "texts", a->texts, "Input texts (passed as typed: \"[MASK]\" is one text)");
  sub.add_option("--task", a->task,
                 "auto (from config.json), text-classification, token-classification, question-answering, fill-mask, "
                 "embeddings")
      ->capture_default_str();
  sub.add_option("--pair", a->pair, "text-classification: second text of the pair (for every text)");
  sub.add_option("--question", a->question, "question-answering: the question");
  sub.add_option("--context", a->context, "question-answering: the context");
  sub.add_option("-i,--input", a->input,
                 "Input file: JSONL ({\"text\", \"text_pair\"} or {\"question\", \"context\"}) or one text per line");
  sub.add_option("-o,--output", a->output, "Write the output here (default: stdout)");
  sub.add_option("--format", a->format, "json (one document) or jsonl (one line per input)")
      ->check(CLI::IsMember({"json", "jsonl"}))
      ->capture_default_str();
  sub.add_option("--device", a->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  sub.add_option("--top-k", a->top_k,
                 "Results per input (text-classification: all labels by default; question-answering: 1; fill-mask: 5)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--aggregation", a->aggregation, "token-classification: none, simple, first, average, max")
      ->check(CLI::IsMember({"none", "simple", "first", "average", "max"}))
      ->capture_default_str();
  sub.add_option("--function-to-apply", a->function_to_apply, "text-classification: default, softmax, sigmoid, none")
      ->check(CLI::IsMember({"default", "softmax", "sigmoid", "none"}))
      ->capture_default_str();
  sub.add_option("--doc-stride", a->doc_stride, "question-answering: window overlap (default min(max_seq_len/2, 128))");
  sub.add_option("--max-seq-len", a->max_seq_len, "question-answering: window length (default min(model_max_length, 384))");
  sub.add_option("--max-answer-len", a->max_answer_len, "question-answering: longest answer in tokens")->capture_default_str();
  sub.add_flag("--handle-impossible-answer", a->handle_impossible, "question-answering: allow the empty answer");
  sub.add_flag("--no-align-to-words", a->no_align_to_words, "question-answering: keep token offsets, not word bounds");
  sub.add_flag("--hf-tokenizers-early-exit", a->hf_early_exit,
               "question-answering: cut windows as HF tokenizers >= 0.23 does (truncation early exit, PR #1990): "
               "the context is tokenised only up to max_seq_len tokens, so windows cover just its start; "
               "reproduces transformers' QA pipeline run with tokenizers 0.23.x (default: windows cover the whole "
               "context, as with tokenizers <= 0.22)");
  sub.add_option("--pooling", a->pooling, "embeddings: cls, mean, max, mean_sqrt_len_tokens (default: the model's, else mean)");
  sub.add_flag("--normalize", a->normalize, "embeddings: L2-normalise");
  sub.add_flag("--similarity", a->similarity, "embeddings: add the cosine similarity matrix of the inputs (jsonl: each line its row)");
  sub.add_option("--max-length", a->max_length, "embeddings: truncate inputs to this many tokens")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--max-batch-tokens", a->max_batch_tokens,
                 "text-classification, token-classification, embeddings: inputs are sorted by length and run in "
                 "batches of at most this many padded tokens")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  return [a] {
    a->model = bertkit::hub::resolve_model_dir(a->model, "MODEL");  // a Hub id -> its snapshot
    return run_predict(*a);
  };
}

Registrar reg({"predict", "Run a model on texts like transformers' pipelines (classification, NER, QA, fill-mask, embeddings)",
               setup});

}  // namespace
}  // namespace bertkit::cli
