// bench_serve: requests/s and p50/p99 latency of `bertkit serve`'s /embed on
// SST-2 sentences (one sentence per request) at client concurrency 1, 8 and
// 64, against `bertkit predict`'s batched embeddings of the same sentences in
// one process. Prints numbers, asserts nothing.
//
//   bench_serve [MODEL_DIR] [--random-model LAYERS,HIDDEN] [--requests N] [--sentences FILE] [--threads T]
// Defaults: ../shared/fixtures/pipelines/sentence-transformers (hidden 32, 2
// layers: HTTP overhead dominates), 512 requests, ../shared/data/glue/SST-2/dev.tsv,
// torch's thread count. --random-model 6,384 serves a randomly initialised BERT
// of that size (MiniLM-L6's shape; mean pooling) with the fixture's tokenizer,
// so that the model's work dominates as with real embedding models.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/cpu_threads.h"
#include "bertkit/pipelines/batched.h"
#include "bertkit/serving/server.h"

using namespace bertkit;
using Clock = std::chrono::steady_clock;

#ifndef BERTKIT_SHARED_DEFAULT
#define BERTKIT_SHARED_DEFAULT "../shared"
#endif

static std::vector<std::string> sst2_sentences(const std::string& path) {
  std::istringstream is(read_file(path));
  std::vector<std::string> out;
  std::string line;
  std::getline(is, line);  // header: sentence<TAB>label
  while (std::getline(is, line)) {
    auto tab = line.find('\t');
    std::string s = line.substr(0, tab);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (!s.empty()) out.push_back(s);
  }
  return out;
}

// A random BERT of `layers` x `hidden` with `tokenizer_dir`'s tokenizer, saved in a temporary directory.
static std::string random_model(int layers, int hidden, const std::string& tokenizer_dir) {
  BertConfig c;
  c.num_hidden_layers = layers;
  c.hidden_size = hidden;
  c.num_attention_heads = hidden / 64;
  c.intermediate_size = 4 * hidden;
  c.architectures = {"BertModel"};
  torch::manual_seed(0);
  auto model = create_model(Architecture::BertModel, c);
  char tmpl[] = "/tmp/bench-serve-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  save_pretrained(model, dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    write_file_atomic(dir + "/" + f, read_file(tokenizer_dir + "/" + f));
  return dir;
}

struct Level {
  int concurrency;
  double seconds, rps, p50_ms, p99_ms;
  int errors;
};

static Level run_level(int port, int concurrency, int requests, const std::vector<std::string>& sentences) {
  std::atomic<int> next{0}, errors{0};
  std::vector<std::vector<double>> latencies(concurrency);
  auto t0 = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c)
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(120, 0);
      for (int i; (i = next++) < requests;) {
        std::string body = nlohmann::json{{"inputs", sentences[i % sentences.size()]}}.dump();
        auto s = Clock::now();
        auto r = client.Post("/embed", body, "application/json");
        latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        if (!r || r->status != 200) ++errors;
      }
    });
  for (auto& t : clients) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, std::size_t(p * all.size()))]; };
  return {concurrency, seconds, requests / seconds, pct(0.50), pct(0.99), errors.load()};
}

int main(int argc, char** argv) {
  std::string shared = std::getenv("BERTKIT_SHARED") ? std::getenv("BERTKIT_SHARED") : BERTKIT_SHARED_DEFAULT;
  std::string model = shared + "/fixtures/pipelines/sentence-transformers";
  std::string data = shared + "/data/glue/SST-2/dev.tsv";
  int requests = 512, layers = 0, hidden = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--requests" && i + 1 < argc) requests = std::atoi(argv[++i]);
    else if (a == "--sentences" && i + 1 < argc) data = argv[++i];
    else if (a == "--random-model" && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%d,%d", &layers, &hidden) != 2 || layers < 1 || hidden < 64 || hidden % 64) {
        std::fprintf(stderr, "--random-model LAYERS,HIDDEN (hidden a multiple of 64)\n");
        return 2;
      }
    }
    else if (a == "--threads" && i + 1 < argc) set_cpu_threads(std::atoi(argv[++i]));
    else if (a[0] != '-') model = a;
    else {
      std::fprintf(stderr, "usage: bench_serve [MODEL_DIR] [--requests N] [--sentences FILE] [--threads T]\n");
      return 2;
    }
  }
  if (layers > 0) model = random_model(layers, hidden, model);  // the tokenizer of MODEL_DIR
  auto sentences = sst2_sentences(data);
  std::printf("model %s\nsentences %zu (SST-2 dev), requests per level %d, torch threads %d, cores %u\n", model.c_str(),
              sentences.size(), requests, cpu_threads(), std::thread::hardware_concurrency());

  // `bertkit predict` path: all sentences at once, batched by token budget.
  {
    auto m = pipelines::load_embedding_model(model);
    std::vector<std::string> texts;
    for (int i = 0; i < requests; ++i) texts.push_back(sentences[i % sentences.size()]);
    pipelines::embed_batched(m, texts);  // warm-up
    auto t0 = Clock::now();
    pipelines::embed_batched(m, texts);
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("predict (one process, batched): %d sentences in %.3f s = %.1f sentences/s\n", requests, s, requests / s);
  }

  serving::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  serving::Server server(model, o);
  std::thread serve([&] { server.serve(); });
  run_level(server.port(), 8, std::min(requests, 64), sentences);  // warm-up
  std::printf("%-12s %10s %12s %10s %10s %7s\n", "concurrency", "seconds", "requests/s", "p50 ms", "p99 ms", "errors");
  std::vector<Level> levels;
  for (int c : {1, 8, 64}) {
    Level l = run_level(server.port(), c, requests, sentences);
    levels.push_back(l);
    std::printf("%-12d %10.3f %12.1f %10.2f %10.2f %7d\n", l.concurrency, l.seconds, l.rps, l.p50_ms, l.p99_ms, l.errors);
  }
  std::printf("throughput concurrency 64 / concurrency 1: %.2fx\n", levels[2].rps / levels[0].rps);
  server.stop();
  serve.join();
  if (layers > 0) std::filesystem::remove_all(model);
  return 0;
}
