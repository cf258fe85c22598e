// Inference throughput over real sentences: sentences/s, tokens/s and peak RSS of
// classification (BertForSequenceClassification -> logits) or embeddings
// (BertModel -> mean pooling over real tokens), eval mode, no gradients.
//
//   bench_infer --model bert-base --threads 2 --batch-size 32 --file-order --padding-free off
//   bench_infer --model bert-base --threads 2 --batch-size 32 --sort-by-length --padding-free on
//   bench_infer --model runs/sst2 --task embeddings
//
// --model: tiny | bert-mini | bert-small | bert-medium | bert-base | bert-large (random init),
// a config.json path, or a model directory (its weights and, without --vocab, its tokenizer).
// Sentences: the `sentence` column of the TSV --data (default ../shared/data/glue/SST-2/dev.tsv),
// tokenized once up front (not timed) with [CLS]/[SEP] and truncation to --max-length.
// Timed: batching (padding to the longest in the batch) + forward + reading the outputs;
// wall seconds and the process's CPU seconds (user + system, all threads: less sensitive
// to other load on the machine than wall time).
// Prints progress on stderr and one JSON line with the numbers on stdout.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <sstream>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/malloc_tuning.h"
#include "bertkit/nn/cpu_threads.h"
#include "bertkit/core/fs.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/models/heads.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "model_shapes.h"

using namespace bertkit;

namespace {

struct Args {
  std::string model = "bert-base", task = "classification", data, vocab, padding_free = "on";
  int64_t batch_size = 32, max_length = 128, repeat = 1;
  int threads = 0;
  bool sort_by_length = true;
};

// The `sentence` column of a GLUE-style TSV (header row, tab-separated, no quoting).
std::vector<std::string> read_sentences(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);
  auto fields = [](const std::string& l) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t tab; (tab = l.find('\t', start)) != std::string::npos; start = tab + 1) out.push_back(l.substr(start, tab - start));
    out.push_back(l.substr(start));
    return out;
  };
  auto header = fields(line);
  auto col = std::find(header.begin(), header.end(), "sentence");
  if (col == header.end()) throw InputError(path + ": line 1: expected a 'sentence' column in the header");
  const std::size_t c = static_cast<std::size_t>(col - header.begin());
  std::vector<std::string> out;
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto f = fields(line);
    if (f.size() <= c) throw InputError(path + ": line " + std::to_string(n) + ": fewer fields than the header");
    out.push_back(f[c]);
  }
  return out;
}

BertPreTrainedModel make_model(const Args& a, Architecture arch) {
  if (std::filesystem::is_directory(a.model)) {
    LoadOptions lo;
    lo.verbose = false;
    lo.architecture = arch;
    return load_pretrained(a.model, lo);
  }
  BertConfig c = bench::named_config(a.model);
  c.num_labels = 2;
  torch::manual_seed(0);
  return create_model(arch, c);
}

// [B,T] right-padded inputs of sequences `order[begin, end)`.
Batch collate(const std::vector<std::vector<int32_t>>& ids, const std::vector<int64_t>& order, std::size_t begin,
              std::size_t end, int32_t pad_id) {
  std::size_t T = 0;
  for (std::size_t i = begin; i < end; ++i) T = std::max(T, ids[order[i]].size());
  const int64_t B = static_cast<int64_t>(end - begin);
  Batch b;
  b.input_ids = torch::full({B, static_cast<int64_t>(T)}, static_cast<int64_t>(pad_id), torch::kLong);
  b.attention_mask = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  b.token_type_ids = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  auto pi = b.input_ids.accessor<int64_t, 2>();
  auto pa = b.attention_mask.accessor<int64_t, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& seq = ids[order[begin + r]];
    for (std::size_t t = 0; t < seq.size(); ++t) pi[r][t] = seq[t], pa[r][t] = 1;
  }
  return b;
}

// Classification logits [B,L] or mean-pooled embeddings [B,H], on the CPU.
torch::Tensor infer(BertPreTrainedModelImpl& model, const Batch& b, const ForwardOptions& o, bool embeddings) {
  ModelOutput out = model.forward(b, o);
  if (!embeddings) return out.logits.to(torch::kCPU);
  auto m = b.attention_mask.unsqueeze(-1).to(out.last_hidden_state.scalar_type());  // [B,T,1]
  return ((out.last_hidden_state * m).sum(1) / m.sum(1).clamp_min(1.0)).to(torch::kCPU);  // [B,H]
}

// User + system CPU seconds of this process so far (all threads).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

int run(const Args& a) {
  set_cpu_threads(a.threads);  // torch and OpenBLAS, as the bertkit binary
  const bool embeddings = a.task == "embeddings";
  const std::string data = a.data.empty() ? std::string(BERTKIT_SHARED_DIR) + "/data/glue/SST-2/dev.tsv" : a.data;
  std::string vocab = a.vocab;
  if (vocab.empty())
    vocab = std::filesystem::is_directory(a.model) ? a.model : std::string(BERTKIT_SHARED_DIR) + "/data/bert-vocab/bert-base-uncased-vocab.txt";
  auto tokenizer = load_tokenizer(vocab);
  std::vector<std::string> texts = read_sentences(data);
  EncodeOptions eo;
  eo.truncation = Truncation::LongestFirst;
  eo.max_length = static_cast<std::size_t>(a.max_length);
  std::vector<std::vector<int32_t>> ids;
  int64_t tokens = 0;
  for (auto& e : tokenizer->encode_batch(texts, nullptr, eo)) tokens += static_cast<int64_t>(e.ids.size()), ids.push_back(std::move(e.ids));

  std::vector<int64_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  if (a.sort_by_length)
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return ids[x].size() < ids[y].size(); });
  auto model = make_model(a, embeddings ? Architecture::BertModel : Architecture::BertForSequenceClassification);
  model->eval();
  torch::NoGradGuard ng;
  ForwardOptions fo;
  fo.padding = a.padding_free == "on" ? PaddingMode::Unpadded : PaddingMode::Padded;
  const int32_t pad = std::max(0, tokenizer->special_tokens().pad);
  const std::size_t bs = static_cast<std::size_t>(std::max<int64_t>(1, a.batch_size));
  auto pass = [&]() {
    double checksum = 0;
    for (std::size_t s = 0; s < order.size(); s += bs)
      checksum += infer(*model, collate(ids, order, s, std::min(order.size(), s + bs), pad), fo, embeddings)
                      .abs().sum().item<double>();
    return checksum;
  };
  std::cerr << "bench_infer: " << a.model << " " << a.task << ", " << ids.size() << " sentences, " << tokens
            << " tokens, batch " << bs << (a.sort_by_length ? ", sorted by length" : ", file order")
            << ", padding-free " << a.padding_free << ", " << cpu_threads() << " threads\n";
  infer(*model, collate(ids, order, 0, std::min(order.size(), bs), pad), fo, embeddings);  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  double checksum = 0;
  for (int64_t r = 0; r < a.repeat; ++r) checksum = pass();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(a.repeat);
  double cpu = (cpu_seconds() - cpu0) / static_cast<double>(a.repeat);
  std::printf("{\"bench\":\"infer\",\"model\":\"%s\",\"task\":\"%s\",\"sentences\":%zu,\"tokens\":%lld,"
              "\"batch_size\":%zu,\"order\":\"%s\",\"padding_free\":\"%s\",\"threads\":%d,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
              "\"sentences_per_second\":%.1f,\"tokens_per_second\":%.1f,\"peak_rss_mib\":%.1f,\"checksum\":%.6g}\n",
              a.model.c_str(), a.task.c_str(), ids.size(), static_cast<long long>(tokens), bs,
              a.sort_by_length ? "length" : "file", a.padding_free.c_str(), cpu_threads(), s, cpu,
              static_cast<double>(ids.size()) / s, static_cast<double>(tokens) / s, peak_rss_mib(), checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc_for_steps();  // as the bertkit binary does
  Args a;
  CLI::App app{"bertkit inference benchmark: sentences/s, tokens/s and peak RSS over real sentences"};
  app.add_option("--model", a.model, "tiny, bert-mini, bert-small, bert-medium, bert-base, bert-large, a config.json or a model dir")
      ->capture_default_str();
  app.add_option("--task", a.task, "classification or embeddings")->capture_default_str()
      ->check(CLI::IsMember({"classification", "embeddings"}));
  app.add_option("--data", a.data, "TSV with a 'sentence' column (default: SST-2 dev from ../shared)");
  app.add_option("--vocab", a.vocab, "vocab.txt or tokenizer dir (default: the model dir's, else bert-base-uncased)");
  app.add_option("--threads", a.threads, "CPU threads (0: LibTorch default)");
  app.add_option("--batch-size", a.batch_size, "Sentences per batch")->capture_default_str();
  app.add_option("--max-length", a.max_length, "Truncate sentences to this many tokens")->capture_default_str();
  app.add_option("--repeat", a.repeat, "Timed passes over the data (the mean is reported)")->capture_default_str();
  app.add_flag("--sort-by-length,!--file-order", a.sort_by_length, "Batch sentences sorted by length (default) or in file order");
  app.add_option("--padding-free", a.padding_free, "on: drop padding before the encoder; off: the padded path")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  CLI11_PARSE(app, argc, argv);
  try {
    return run(a);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  }
}
