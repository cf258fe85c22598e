// bertkit serve's request bodies, over real HTTP to in-process servers of
// the tiny fixture models in ../shared/fixtures/pipelines (an embedding
// model, a classifier, a token classifier, a QA model). The first byte picks
// the route; the rest is the body. Bad bodies must get a 4xx JSON error:
// a 5xx (an exception other than bad input inside a handler) or no answer
// (the server died) is a crash.
#include <httplib.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "bertkit/core/fs.h"
#include "bertkit/serving/server.h"
#include "fuzz_util.h"

#ifndef BERTKIT_FUZZ_SHARED_DEFAULT
#define BERTKIT_FUZZ_SHARED_DEFAULT "../shared"
#endif

namespace {

struct Running {
  std::unique_ptr<bertkit::serving::Server> server;
  std::thread thread;
};

struct Route {
  int server;
  const char* path;
};
const Route kRoutes[] = {{0, "/embed"}, {0, "/v1/embeddings"}, {0, "/tokenize"}, {1, "/predict"},
                         {1, "/rerank"}, {1, "/tokenize"},       {2, "/ner"},      {3, "/qa"}};
const char* kModels[] = {"sentence-transformers", "textcls", "ner", "qa"};
std::vector<std::unique_ptr<Running>> servers;

std::string shared_dir() {
  for (const char* var : {"BERTKIT_SHARED", "BERTKIT_SHARED_DIR"})
    if (const char* v = std::getenv(var); v && *v) return v;
  return BERTKIT_FUZZ_SHARED_DEFAULT;
}

}  // namespace

// The servers start once per process. Without ../shared: exit 77 (ctest: skipped),
// or fail when BERTKIT_REQUIRE_SHARED=1 (CI).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string base = shared_dir() + "/fixtures/pipelines/";
  if (!bertkit::file_exists(base + "qa/config.json")) {
    const char* req = std::getenv("BERTKIT_REQUIRE_SHARED");
    std::fprintf(stderr, "fuzz_serve_request: %s missing (set BERTKIT_SHARED)\n", base.c_str());
    std::exit(req && std::string(req) == "1" ? 1 : 77);
  }
  for (const char* m : kModels) {
    bertkit::serving::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.max_client_batch_size = 8;
    auto r = std::make_unique<Running>();
    r->server = std::make_unique<bertkit::serving::Server>(base + m, o);
    r->thread = std::thread([s = r->server.get()] { s->serve(); });
    r->thread.detach();
    servers.push_back(std::move(r));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Route& route = kRoutes[data[0] % (sizeof(kRoutes) / sizeof(kRoutes[0]))];
  httplib::Client client("127.0.0.1", servers[route.server]->server->port());
  client.set_read_timeout(60, 0);
  std::string body(bertkit::fuzz::as_text(data + 1, size - 1));
  auto res = client.Post(route.path, body, "application/json");
  if (!res || res->status >= 500) {
    std::fprintf(stderr, "fuzz_serve_request: %s answered %s: %s\n", route.path,
                 res ? std::to_string(res->status).c_str() : "nothing", res ? res->body.c_str() : "");
    std::abort();
  }
  return 0;
}
