// Pretraining throughput: tokens/s and ms/step of BertForPreTraining (MLM+NSP)
// training steps (forward, backward, clip, AdamW) on synthetic batches.
//
//   bench_pretrain --model bert-base --batch-size 8 --seq-len 128 --device cpu
//   bench_pretrain --model bert-base --batch-size 128 --seq-len 128 --precision bf16 --device cuda
//
// --model: tiny | bert-mini | bert-small | bert-medium | bert-base | bert-large, or a config.json path.
// Prints progress on stderr and one JSON line with the numbers on stdout.
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
#include "bertkit/models/bert_model.h"
#include "bertkit/nn/optimizers.h"
#include "bertkit/training/device.h"
#include "bertkit/training/precision.h"
#include "model_shapes.h"
#include "phase_times.h"

using namespace bertkit;
using bertkit::bench::PhaseTimes;

namespace {
using bench::named_config;
void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}
}  // namespace

int main(int argc, char** argv) {
  tune_malloc_for_steps();  // as the bertkit binary does
  std::string model_name = "bert-base", device_spec = "auto", precision_spec = "fp32", optimizer_name = "adamw";
  int64_t batch = 8, seq = 128, steps = 10, warmup = 3;
  int threads = 0;
  bool dense = false;
  std::string trace_path;
  CLI::App app{"bertkit pretraining benchmark: tokens/s and ms/step"};
  app.add_option("--model", model_name, "tiny, bert-mini, bert-small, bert-medium, bert-base, bert-large or a config.json")->capture_default_str();
  app.add_option("--device", device_spec, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--precision", precision_spec, "fp32, bf16 or fp16 (CUDA)")->capture_default_str();
  app.add_option("--batch-size", batch, "Sequences per step")->capture_default_str();
  app.add_option("--seq-len", seq, "Tokens per sequence")->capture_default_str();
  app.add_option("--steps", steps, "Timed steps")->capture_default_str();
  app.add_option("--warmup-steps", warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--optimizer", optimizer_name, "adamw or lamb")->capture_default_str()->check(CLI::IsMember({"adamw", "lamb"}));
  app.add_option("--threads", threads, "CPU threads (0: LibTorch default)");
  app.add_flag("--dense-mlm", dense, "Run the MLM head on every position (default: only masked ones)");
  app.add_option("--trace", trace_path, "Write LibTorch's profiler trace of the timed steps (chrome://tracing JSON)");
  CLI11_PARSE(app, argc, argv);
  try {
    set_cpu_threads(threads);  // torch and OpenBLAS, as the bertkit binary
    torch::Device device = parse_device(device_spec);
    Precision precision = parse_precision(precision_spec, "--precision");
    check_precision(precision, device, "--precision");
    BertConfig config = named_config(model_name);
    if (seq > config.max_position_embeddings) throw InputError("--seq-len exceeds max_position_embeddings");
    torch::manual_seed(0);
    auto model = create_model(Architecture::BertForPreTraining, config);
    model->to(device);
    model->train();
    auto groups = group_parameters(*model, 0.01);
    std::vector<torch::Tensor> params;
    for (auto& g : groups) params.push_back(g.param);
    std::unique_ptr<Optimizer> opt;
    if (optimizer_name == "lamb") opt = std::make_unique<Lamb>(std::move(groups), LambOptions{});
    else opt = std::make_unique<AdamW>(std::move(groups), AdamWOptions{});
    opt->set_lr(1e-4);
    ForwardOptions fo;
    fo.sparse_mlm = !dense;
#if BERTKIT_HAVE_SDPA
    fo.attention_kernel = AttentionKernel::SDPA;
#endif
    // A synthetic batch: random ids, 15% of positions labelled, NSP labels.
    Batch b;
    b.input_ids = torch::randint(1000, config.vocab_size, {batch, seq}, torch::kLong);          // [B, T]
    b.token_type_ids = torch::cat({torch::zeros({batch, seq / 2}, torch::kLong),
                                   torch::ones({batch, seq - seq / 2}, torch::kLong)}, 1);     // [B, T]
    b.attention_mask = torch::ones({batch, seq}, torch::kLong);                                  // [B, T]
    auto chosen = torch::rand({batch, seq}).lt(0.15);
    b.labels = torch::where(chosen, b.input_ids, torch::full_like(b.input_ids, -100));          // [B, T]
    b.next_sentence_label = torch::randint(0, 2, {batch}, torch::kLong);                         // [B]
    b = b.to(device);
    PhaseTimes phases;
    auto step = [&]() {
      auto t = phases.start(device);
      ModelOutput out;
      {
        AutocastGuard ac(precision, device);
        out = model->forward(b, fo);
      }
      t.lap("forward");
      auto loss = out.loss.to(torch::kFloat);
      (precision == Precision::FP16 ? loss * 1024.0 : loss).backward();
      t.lap("backward");
      if (precision == Precision::FP16) {
        torch::NoGradGuard ng;
        for (auto& p : params)
          if (p.grad().defined()) p.grad().div_(1024.0);
      }
      clip_grad_norm(params, 1.0);  // on the device, as the trainer
      t.lap("clip");
      opt->step();
      t.lap("optimizer");
      opt->zero_grad();
      t.lap("zero_grad");
      return loss;
    };
    std::cerr << "bench_pretrain: " << model_name << " " << device.str() << " " << precision_spec << " batch " << batch
              << " x " << seq << ", " << warmup << " warmup + " << steps << " steps\n";
    torch::Tensor loss;
    for (int64_t i = 0; i < warmup; ++i) loss = step();
    sync(device);
    phases.clear();
    auto t0 = std::chrono::steady_clock::now();
    {
      auto trace = bench::trace_to(trace_path);
      for (int64_t i = 0; i < steps; ++i) loss = step();
    }
    sync(device);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double ms = 1000.0 * s / static_cast<double>(steps);
    double tok_s = static_cast<double>(batch * seq * steps) / s;
    std::fprintf(stderr, "%.1f ms/step, %.0f tokens/s (loss %.3f)\n", ms, tok_s, loss.item<double>());
    std::fprintf(stderr, "per step: %s\n", phases.summary(steps).c_str());
    std::printf("{\"bench\":\"pretrain\",\"model\":\"%s\",\"device\":\"%s\",\"precision\":\"%s\",\"batch_size\":%lld,"
                "\"seq_len\":%lld,\"steps\":%lld,\"threads\":%d,\"sparse_mlm\":%s,\"ms_per_step\":%.3f,\"tokens_per_second\":%.1f}\n",
                model_name.c_str(), device.str().c_str(), precision_spec.c_str(), static_cast<long long>(batch),
                static_cast<long long>(seq), static_cast<long long>(steps), cpu_threads(),
                dense ? "false" : "true", ms, tok_s);
    return 0;
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  }
}
