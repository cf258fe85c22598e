// bertkit serve: an HTTP server (cpp-httplib) for one model directory, with
// the routes and JSON bodies of HuggingFace text-embeddings-inference (TEI):
// POST /embed /v1/embeddings /predict /rerank /tokenize, plus /ner and /qa;
// GET /health /info /metrics. Requests go through one BatchQueue to the
// batched pipelines (batched.h), so answers equal `bertkit predict`'s.
// docs/serving.md describes the routes, limits and metrics.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <torch/types.h>

namespace bertkit::serving {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                             // 0: any free port (see Server::port)
  torch::Device device = torch::kCPU;
  std::size_t max_batch_tokens = 16384;        // tokens per inference call
  std::size_t max_concurrent_requests = 512;   // requests queued or running; more: 429
  std::size_t max_client_batch_size = 32;      // inputs per request; more: 413
  std::size_t max_input_length = 0;            // tokens per input; 0: the model's limit
  bool auto_truncate = false;                  // truncate long inputs instead of 413
  std::string api_key;                         // non-empty: "Authorization: Bearer KEY" on all but /health
  std::size_t payload_limit = 2000000;         // request body bytes; more: 413 (TEI's default)
  std::string model_id;                        // name in /info and /v1/embeddings (default: the directory)
};

class Server {
 public:
  // Loads the model (InputError for a directory it cannot serve) and binds
  // the address (RuntimeError when it is taken).
  Server(const std::string& model_dir, const ServerOptions& options);
  ~Server();
  int port() const;  // the bound port
  // Answers requests until stop(); returns once in-flight requests are answered.
  void serve();
  // Stops accepting; requests already received are still answered. Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bertkit::serving
