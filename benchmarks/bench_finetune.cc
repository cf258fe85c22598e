// Fine-tuning throughput on real sentences: BertForSequenceClassification
// training steps (forward, backward, clip, AdamW) over the SST-2 training
// sentences, each batch padded to its longest sentence as HF Trainer's dynamic
// padding does, batches made by the trainer's prefetching loader.
//
//   bench_finetune --model 2-layer --threads 1
//   bench_finetune --model bert-base --threads 2 --steps 10
//
// --model: 2-layer (hidden 128, 2 layers, 2 heads, as configs/quickstart.json)
// | bert-base | a config.json path; random init, vocab from --vocab.
// Prints progress on stderr and one JSON line on stdout: sentences/s, tokens/s
// (real tokens; padded_tokens_per_second counts what the model computed on),
// ms/step and the process's peak RSS.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/malloc_tuning.h"
#include "bertkit/nn/cpu_threads.h"
#include "bertkit/core/fs.h"
#include "bertkit/data/classification.h"
#include "bertkit/models/bert_model.h"
#include "bertkit/nn/optimizers.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "bertkit/training/batch_loader.h"
#include "bertkit/training/device.h"
#include "phase_times.h"

using namespace bertkit;
using bertkit::bench::PhaseTimes;

namespace {

BertConfig named_config(const std::string& name, int64_t vocab_size) {
  BertConfig c;  // bert-base
  if (name == "2-layer") {
    c.num_hidden_layers = 2;
    c.hidden_size = 128;
    c.num_attention_heads = 2;
    c.intermediate_size = 256;
  } else if (name != "bert-base") {
    if (!file_exists(name)) throw InputError("--model " + name + ": expected 2-layer, bert-base or a config.json path");
    c = BertConfig::load(name);
  }
  c.vocab_size = vocab_size;
  c.set_num_labels(2);
  return c;
}

// Tokenised sentences with 0/1 labels; a batch is padded to its longest.
class SentenceDataset : public Dataset {
 public:
  SentenceDataset(std::vector<std::vector<int32_t>> ids, std::vector<int64_t> labels, int32_t pad)
      : ids_(std::move(ids)), labels_(std::move(labels)), pad_(pad) {}
  int64_t size() const override { return static_cast<int64_t>(ids_.size()); }
  int64_t example_length(int64_t i) const override { return static_cast<int64_t>(ids_[i].size()); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t) const override {
    const int64_t B = static_cast<int64_t>(indices.size());
    int64_t T = 0;
    for (int64_t i : indices) T = std::max<int64_t>(T, static_cast<int64_t>(ids_[i].size()));
    Batch b;
    b.input_ids = torch::full({B, T}, pad_, torch::kInt64);       // [B, T]
    b.attention_mask = torch::zeros({B, T}, torch::kInt64);       // [B, T]
    b.token_type_ids = torch::zeros({B, T}, torch::kInt64);       // [B, T]
    b.labels = torch::empty({B}, torch::kInt64);                  // [B]
    auto ids = b.input_ids.accessor<int64_t, 2>();
    auto mask = b.attention_mask.accessor<int64_t, 2>();
    for (int64_t r = 0; r < B; ++r) {
      const auto& s = ids_[indices[r]];
      for (std::size_t t = 0; t < s.size(); ++t) ids[r][t] = s[t], mask[r][t] = 1;
      b.labels[r] = labels_[indices[r]];
    }
    return b;
  }

 private:
  std::vector<std::vector<int32_t>> ids_;
  std::vector<int64_t> labels_;
  int32_t pad_;
};

double peak_rss_mib() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc_for_steps();  // as the bertkit binary does
  std::string model_name = "2-layer", device_spec = "cpu";
  std::string train_path = "../shared/data/glue/SST-2/train.tsv";
  std::string vocab_path = "../shared/data/bert-vocab/bert-base-uncased-vocab.txt";
  int64_t batch = 32, steps = 30, warmup = 3, max_seq_length = 128;
  int threads = 1, workers = 1;
  bool group = false;
  std::string trace_path;
  CLI::App app{"bertkit fine-tuning benchmark: SST-2 sentences/s, tokens/s, ms/step, peak RSS"};
  app.add_option("--model", model_name, "2-layer, bert-base or a config.json")->capture_default_str();
  app.add_option("--train", train_path, "SST-2 train.tsv (sentence, label)")->capture_default_str();
  app.add_option("--vocab", vocab_path, "WordPiece vocab.txt")->capture_default_str();
  app.add_option("--device", device_spec, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--batch-size", batch, "Sentences per step")->capture_default_str();
  app.add_option("--max-seq-length", max_seq_length, "Truncation length")->capture_default_str();
  app.add_option("--steps", steps, "Timed steps")->capture_default_str();
  app.add_option("--warmup-steps", warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--threads", threads, "CPU intra-op threads (0: LibTorch default)")->capture_default_str();
  app.add_option("--workers", workers, "Data loader threads (train.dataloader_workers)")->capture_default_str();
  app.add_flag("--group-by-length", group, "Length-grouped batches (train.group_by_length)");
  app.add_option("--trace", trace_path, "Write LibTorch's profiler trace of the timed steps (chrome://tracing JSON)");
  CLI11_PARSE(app, argc, argv);
  try {
    set_cpu_threads(threads);  // torch and OpenBLAS, as the bertkit binary
    torch::Device device = parse_device(device_spec);
    auto tok = std::shared_ptr<Tokenizer>(load_tokenizer(vocab_path));
    ClassificationReadOptions ro;
    ro.format = TableFormat::Tsv;
    auto examples = read_classification(train_path, ro);
    std::vector<std::string> texts;
    std::vector<int64_t> labels;
    for (const auto& e : examples) {
      texts.push_back(e.text);
      labels.push_back(std::stoll(e.labels.at(0)));
    }
    EncodeOptions eo;
    eo.max_length = static_cast<std::size_t>(max_seq_length);
    eo.truncation = Truncation::LongestFirst;
    std::vector<std::vector<int32_t>> ids;
    for (auto& enc : tok->encode_batch(texts, nullptr, eo, 1)) ids.push_back(std::move(enc.ids));
    auto data = std::make_shared<SentenceDataset>(std::move(ids), std::move(labels), tok->special_tokens().pad);

    BertConfig config = named_config(model_name, static_cast<int64_t>(tok->vocab_size()));
    torch::manual_seed(0);
    auto model = create_model(Architecture::BertForSequenceClassification, config);
    model->to(device);
    model->train();
    auto groups = group_parameters(*model, 0.01);
    std::vector<torch::Tensor> params;
    for (auto& g : groups) params.push_back(g.param);
    AdamWOptions ao;
    ao.lr = 2e-5;
    AdamW opt(std::move(groups), ao);

    BatchSamplerOptions so;
    so.batch_size = batch;
    so.examples_per_step = batch;
    so.group_by_length = group;
    BatchLoaderOptions lo;
    lo.workers = workers;
    lo.device = device;
    BatchLoader loader(data, BatchSampler(*data, so), lo);
    loader.start({0, 0});

    int64_t tokens = 0, padded = 0;
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
    PhaseTimes phases;
    auto step = [&]() {
      auto t = phases.start(device);
      LoadedBatch lb = loader.next();
      t.lap("load");
      tokens += lb.tokens;
      padded += lb.batch.input_ids.numel();
      ModelOutput out = model->forward(lb.batch, ForwardOptions{});
      t.lap("forward");
      out.loss.backward();
      t.lap("backward");
      clip_grad_norm(params, 1.0);
      t.lap("clip");
      opt.step();
      t.lap("optimizer");
      opt.zero_grad();
      loss_sum += out.loss.detach().to(torch::kDouble);
      t.lap("zero_grad");
    };
    std::cerr << "bench_finetune: " << model_name << " " << device.str() << ", " << data->size() << " sentences, batch "
              << batch << ", " << warmup << " warmup + " << steps << " steps, " << workers << " loader worker(s)\n";
    for (int64_t i = 0; i < warmup; ++i) step();
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
    tokens = padded = 0;
    phases.clear();
    auto t0 = std::chrono::steady_clock::now();
    {
      auto trace = bench::trace_to(trace_path);
      for (int64_t i = 0; i < steps; ++i) step();
    }
    const double loss = loss_sum.item<double>() / static_cast<double>(warmup + steps);  // waits for the device
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "%.1f ms/step, %.1f sentences/s, %.0f tokens/s (mean loss %.3f)\n", 1000.0 * s / steps,
                 batch * steps / s, tokens / s, loss);
    std::printf("{\"bench\":\"finetune\",\"model\":\"%s\",\"device\":\"%s\",\"batch_size\":%lld,\"steps\":%lld,"
                "\"threads\":%d,\"workers\":%d,\"group_by_length\":%s,\"ms_per_step\":%.3f,\"sentences_per_second\":%.2f,"
                "\"tokens_per_second\":%.1f,\"padded_tokens_per_second\":%.1f,\"peak_rss_mib\":%.1f}\n",
                model_name.c_str(), device.str().c_str(), static_cast<long long>(batch), static_cast<long long>(steps),
                cpu_threads(), workers, group ? "true" : "false", 1000.0 * s / steps, batch * steps / s,
                tokens / s, padded / s, peak_rss_mib());
    std::fprintf(stderr, "per step: %s\n", phases.summary(steps).c_str());
    return 0;
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  }
}
