// Tokenizer speed: tokens/s of bertkit's WordPiece on one thread and on all
// threads, over a set of text files (one line = one text, no specials), the
// same measurement scripts/hf-tokenizers/hf_tokenize.js --bench makes for HF
// tokenizers.
//
//   bench_tokenizers [--vocab VOCAB.txt|DIR] [--threads N] [--repeat R] [FILE|DIR ...]
//
// Defaults: ../shared/data/bert-vocab/bert-base-uncased-vocab.txt and every
// file of ../shared/data/corpus/gutenberg (relative to the source tree).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace fs = std::filesystem;

namespace {

std::string shared_dir() {
  if (const char* s = std::getenv("BERTKIT_SHARED")) return s;
#ifdef BERTKIT_SOURCE_DIR
  return std::string(BERTKIT_SOURCE_DIR) + "/../shared";
#else
  return "../shared";
#endif
}

// CPU time of the whole process (all threads): wall-clock scaling needs free
// cores, but tokens per CPU-second shows whether threads add overhead.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string vocab = shared_dir() + "/data/bert-vocab/bert-base-uncased-vocab.txt";
    std::vector<std::string> inputs;
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    int repeat = 3;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--vocab" && i + 1 < argc) vocab = argv[++i];
      else if (a == "--threads" && i + 1 < argc) threads = static_cast<unsigned>(std::stoul(argv[++i]));
      else if (a == "--repeat" && i + 1 < argc) repeat = std::stoi(argv[++i]);
      else if (a == "--help" || a == "-h") {
        std::cout << "bench_tokenizers [--vocab VOCAB|DIR] [--threads N] [--repeat R] [FILE|DIR ...]\n";
        return 0;
      } else inputs.push_back(a);
    }
    if (inputs.empty()) inputs.push_back(shared_dir() + "/data/corpus/gutenberg");
    std::vector<std::string> files;
    for (const auto& in : inputs) {
      if (fs::is_directory(in)) {
        for (const auto& e : fs::directory_iterator(in))
          if (e.is_regular_file()) files.push_back(e.path().string());
      } else {
        files.push_back(in);
      }
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> lines;
    std::size_t bytes = 0;
    for (const auto& f : files) {
      std::string text = bertkit::read_file(f);
      std::size_t pos = 0;
      while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        bytes += line.size();
        lines.push_back(std::move(line));
      }
    }
    auto tok = bertkit::load_tokenizer(vocab);
    bertkit::EncodeOptions opt;
    opt.add_special_tokens = false;

    std::printf("bench_tokenizers: %zu files, %zu lines, %.1f MB, vocab %s\n", files.size(), lines.size(),
                bytes / 1e6, vocab.c_str());
    // One thread: encode line by line (full Encoding: ids, tokens, offsets, word ids).
    std::size_t tokens = 0;
    double best1 = 1e30, cpu1 = 1e30;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpu_seconds();
      std::size_t n = 0;
      for (const auto& l : lines) n += tok->encode(l, std::nullopt, opt).size();
      best1 = std::min(best1, seconds_since(t0));
      cpu1 = std::min(cpu1, cpu_seconds() - c0);
      tokens = n;
    }
    std::printf("{\"tokenizer\":\"bertkit\",\"threads\":1,\"lines\":%zu,\"tokens\":%zu,\"seconds\":%.3f,\"tokens_per_s\":%.0f,"
                "\"tokens_per_cpu_s\":%.0f}\n",
                lines.size(), tokens, best1, tokens / best1, tokens / cpu1);
    // All threads: encode_batch in batches of 1000 lines (as the HF script does).
    for (unsigned t : {threads}) {
      double best = 1e30, cpu = 1e30;
      std::size_t n = 0;
      for (int r = 0; r < repeat; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        double c0 = cpu_seconds();
        n = 0;
        const std::size_t batch = 1000;
        for (std::size_t s = 0; s < lines.size(); s += batch) {
          std::vector<std::string> chunk(lines.begin() + s, lines.begin() + std::min(lines.size(), s + batch));
          for (const auto& e : tok->encode_batch(chunk, nullptr, opt, t)) n += e.size();
        }
        best = std::min(best, seconds_since(t0));
        cpu = std::min(cpu, cpu_seconds() - c0);
      }
      std::printf("{\"tokenizer\":\"bertkit\",\"threads\":%u,\"lines\":%zu,\"tokens\":%zu,\"seconds\":%.3f,\"tokens_per_s\":%.0f,"
                  "\"tokens_per_cpu_s\":%.0f}\n",
                  t, lines.size(), n, best, n / best, n / cpu);
    }
    return 0;
  } catch (const bertkit::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}
