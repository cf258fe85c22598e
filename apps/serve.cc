// bertkit serve: an HTTP inference server with text-embeddings-inference's
// routes (docs/serving.md). SIGTERM / SIGINT stop accepting, answer the
// requests in flight, and exit 0.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <thread>

#include "bertkit/core/error.h"
#include "bertkit/serving/server.h"
#include "bertkit/training/device.h"
#include "command.h"

namespace bertkit::cli {
namespace {

struct ServeArgs {
  std::string model, device = "cpu";
  serving::ServerOptions options;
};

// A signal handler may only write to a pipe; a thread reads it and stops the
// server. (Blocking the signals instead would not cover the threads LibTorch
// and OpenBLAS start when they load, and a signal reaching one kills the process.)
int stop_pipe[2] = {-1, -1};
extern "C" void on_stop_signal(int) {
  char c = 1;
  [[maybe_unused]] auto n = write(stop_pipe[1], &c, 1);
}

int run_serve(ServeArgs& a) {
  if (pipe(stop_pipe) != 0) throw RuntimeError("serve: cannot create a pipe");
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  a.options.device = parse_device(a.device);
  serving::Server server(a.model, a.options);
  std::cerr << "bertkit serve: " << a.model << " on http://" << a.options.host << ":" << server.port() << std::endl;
  std::thread waiter([&] {
    char c = 0;
    while (read(stop_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    if (c != 1) return;  // serve() ended on its own
    std::cerr << "bertkit serve: stop signal, answering the requests in flight" << std::endl;
    server.stop();
  });
  server.serve();
  char done = 0;
  [[maybe_unused]] auto n = write(stop_pipe[1], &done, 1);
  waiter.join();
  std::cerr << "bertkit serve: stopped" << std::endl;
  return 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<ServeArgs>();
  auto& o = a->options;
  sub.add_option("model", a->model, "Model directory: sentence-transformers / BERT (embeddings), or a fine-tuned "
                                    "sequence-classification, token-classification or question-answering model")
      ->required();
  sub.add_option("--host", o.host, "Address to listen on")->capture_default_str();
  sub.add_option("--port", o.port, "Port (0: any free port, printed on stderr)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  sub.add_option("--device", a->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  sub.add_option("--max-batch-tokens", o.max_batch_tokens, "Tokens per inference batch")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub.add_option("--max-concurrent-requests", o.max_concurrent_requests,
                 "Requests queued or running at once; more are answered 429")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub.add_option("--max-client-batch-size", o.max_client_batch_size, "Inputs per request; more are answered 413")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub.add_option("--max-input-length", o.max_input_length,
                 "Tokens per input (default and cap: the model's limit); longer inputs are answered 413 unless "
                 "the request sets \"truncate\" or --auto-truncate is given")
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--auto-truncate", o.auto_truncate, "Truncate inputs longer than --max-input-length instead of 413");
  sub.add_option("--payload-limit", o.payload_limit, "Largest request body in bytes; larger ones are answered 413")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub.add_option("--api-key", o.api_key, "Require \"Authorization: Bearer KEY\" on every route but /health");
  sub.add_option("--model-id", o.model_id, "Model name in /info and /v1/embeddings (default: the directory)");
  return [a] { return run_serve(*a); };
}

Registrar reg({"serve", "Serve a model over HTTP with text-embeddings-inference's API (embed, predict, rerank, ner, qa)",
               setup});

}  // namespace
}  // namespace bertkit::cli
