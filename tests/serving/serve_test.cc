// bertkit serve over real HTTP (cpp-httplib's client) on a free loopback
// port: every route against ../shared/fixtures/pipelines (the references
// `bertkit predict` also matches), the error matrix, many concurrent clients,
// and SIGTERM while busy.
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/pipelines/pipelines.h"
#include "bertkit/serving/server.h"
#include "test_util.h"

using namespace bertkit;
using json = nlohmann::json;

static json fixture(const std::string& name) {
  return json::parse(read_file(test::shared_path("fixtures/pipelines/" + name)));
}

// A server in this process on a free loopback port, stopped at scope end.
struct RunningServer {
  std::unique_ptr<serving::Server> server;
  std::thread thread;
  RunningServer(const std::string& dir, serving::ServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<serving::Server>(dir, o);
    thread = std::thread([this] { server->serve(); });
  }
  ~RunningServer() {
    server->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(60, 0);
    return c;
  }
};

static httplib::Result post(const RunningServer& s, const std::string& path, const std::string& body,
                            const httplib::Headers& headers = {}) {
  auto c = s.client();
  return c.Post(path.c_str(), headers, body, "application/json");
}

static void expect_close(const json& got, const json& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i].get<double>(), want[i].get<double>(), tol) << what << " " << i;
}

static std::string st_dir() { return test::shared_path("fixtures/pipelines/sentence-transformers"); }

TEST(Serve, EmbedEqualsSentenceTransformers) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  auto fx = fixture("pipelines.json")["sentence_transformers"];
  RunningServer s(st_dir());
  auto r = post(s, "/embed", json{{"inputs", fx["sentences"]}}.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json got = json::parse(r->body);
  ASSERT_EQ(got.size(), fx["sentences"].size());
  for (std::size_t i = 0; i < got.size(); ++i) expect_close(got[i], fx["embeddings"][i], 1e-5, "embedding " + std::to_string(i));
  // One string: still a list of one embedding (TEI).
  r = post(s, "/embed", json{{"inputs", fx["sentences"][2]}}.dump());
  ASSERT_EQ(r->status, 200);
  got = json::parse(r->body);
  ASSERT_EQ(got.size(), 1u);
  expect_close(got[0], fx["embeddings"][2], 1e-5, "single");
  // normalize: false gives the pooled vector; its direction is the fixture's.
  r = post(s, "/embed", json{{"inputs", {fx["sentences"][0]}}, {"normalize", false}}.dump());
  ASSERT_EQ(r->status, 200);
  got = json::parse(r->body)[0];
  double norm = 0;
  for (auto& v : got) norm += v.get<double>() * v.get<double>();
  norm = std::sqrt(norm);
  EXPECT_GT(std::abs(norm - 1.0), 1e-3);
  for (std::size_t d = 0; d < got.size(); ++d)
    EXPECT_NEAR(got[d].get<double>() / norm, fx["embeddings"][0][d].get<double>(), 1e-5);
}

TEST(Serve, OpenAIEmbeddingsShapeAndUsage) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  auto fx = fixture("pipelines.json")["sentence_transformers"];
  RunningServer s(st_dir());
  // "The cat sits on the mat." -> [CLS] the cat sits on the mat . [SEP]: 9 tokens; "The dog plays in the park." 9.
  auto r = post(s, "/v1/embeddings", json{{"input", {fx["sentences"][0], fx["sentences"][2]}}, {"model", "tiny"}}.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json got = json::parse(r->body);
  EXPECT_EQ(got["object"], "list");
  EXPECT_EQ(got["model"], "tiny");
  EXPECT_EQ(got["usage"]["prompt_tokens"], 18);
  EXPECT_EQ(got["usage"]["total_tokens"], 18);
  ASSERT_EQ(got["data"].size(), 2u);
  EXPECT_EQ(got["data"][1]["object"], "embedding");
  EXPECT_EQ(got["data"][1]["index"], 1);
  expect_close(got["data"][1]["embedding"], fx["embeddings"][2], 1e-5, "openai");
}

TEST(Serve, TokenizeIdsTextOffsetsSpecials) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  RunningServer s(st_dir());
  auto r = post(s, "/tokenize", R"({"inputs": "The cat"})");
  ASSERT_EQ(r->status, 200) << r->body;
  // bert-base-uncased: [CLS] 101, the 1996, cat 4937, [SEP] 102.
  json want = json::parse(R"([[{"id":101,"text":"[CLS]","special":true,"start":null,"stop":null},
    {"id":1996,"text":"The","special":false,"start":0,"stop":3},
    {"id":4937,"text":"cat","special":false,"start":4,"stop":7},
    {"id":102,"text":"[SEP]","special":true,"start":null,"stop":null}]])");
  EXPECT_EQ(json::parse(r->body), want);
  r = post(s, "/tokenize", R"({"inputs": ["cat"], "add_special_tokens": false})");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body), json::parse(R"([[{"id":4937,"text":"cat","special":false,"start":0,"stop":3}]])"));
}

TEST(Serve, PredictSingleBatchPairAndRawScores) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/textcls/config.json");
  auto fx = fixture("pipelines.json")["text_classification"];
  RunningServer s(test::shared_path("fixtures/pipelines/textcls"));
  auto check = [](const json& got, const json& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i]["label"], want[i]["label"]);
      EXPECT_NEAR(got[i]["score"].get<double>(), want[i]["score"].get<double>(), 1e-4);
    }
  };
  auto r = post(s, "/predict", json{{"inputs", fx["texts"][0]}}.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  check(json::parse(r->body), fx["outputs"][0]);
  json batch = json::array();
  for (auto& t : fx["texts"]) batch.push_back({t});
  batch.push_back({fx["pair"]["text"], fx["pair"]["text_pair"]});
  r = post(s, "/predict", json{{"inputs", batch}}.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json got = json::parse(r->body);
  ASSERT_EQ(got.size(), fx["texts"].size() + 1);
  for (std::size_t t = 0; t < fx["texts"].size(); ++t) check(got[t], fx["outputs"][t]);
  check(got.back(), fx["pair"]["output"]);
  r = post(s, "/predict", json{{"inputs", {fx["pair"]["text"], fx["pair"]["text_pair"]}}}.dump());
  check(json::parse(r->body), fx["pair"]["output"]);
  // raw_scores: logits whose softmax is the fixture's scores.
  r = post(s, "/predict", json{{"inputs", fx["texts"][1]}, {"raw_scores", true}}.dump());
  json raw = json::parse(r->body);
  double z = 0;
  for (auto& x : raw) z += std::exp(x["score"].get<double>());
  for (auto& want : fx["outputs"][1])
    for (auto& x : raw)
      if (x["label"] == want["label"]) {
        EXPECT_NEAR(std::exp(x["score"].get<double>()) / z, want["score"].get<double>(), 1e-4);
      }
  // A 3-label classifier is no reranker.
  r = post(s, "/rerank", R"({"query": "q", "texts": ["a"]})");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("one label"), std::string::npos);
}

// A one-label cross-encoder cut from the textcls fixture (its classifier's
// first row): /rerank scores are sigmoid(logit of label 0) of each
// (query, text) pair, as the one-at-a-time pipeline computes it on the
// original model; best first, with the input index.
TEST(Serve, RerankOneLabelCrossEncoder) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/textcls/config.json");
  namespace P = bertkit::pipelines;
  const std::string src_dir = test::shared_path("fixtures/pipelines/textcls");
  auto src = P::load_model(src_dir);
  BertConfig c = src.model->config;
  c.set_num_labels(1);
  auto one = create_model(Architecture::BertForSequenceClassification, c);
  {
    torch::NoGradGuard ng;
    auto from = src.model->named_parameters();
    for (auto& p : one->named_parameters()) {
      torch::Tensor w = from[p.key()];
      if (p.key().rfind("classifier.", 0) == 0) w = w.narrow(0, 0, 1);
      p.value().copy_(w);
    }
  }
  std::string dir = test::make_temp_dir("bertkit-rerank");
  save_pretrained(one, dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) write_file_atomic(dir + "/" + f, read_file(src_dir + "/" + f));
  std::string query = "Is the film good?";
  std::vector<std::string> texts{"This movie was truly wonderful!", "It was the worst experience and a waste of time.",
                                 "It was average and not particularly memorable."};
  std::vector<double> want;
  const std::string label0 = src.model->config.id2label.at(0);
  for (auto& t : texts)
    for (auto& ls : P::text_classification(src, query, t, 0, P::ClassifyFunction::None))
      if (ls.label == label0) want.push_back(1.0 / (1.0 + std::exp(-ls.score)));
  ASSERT_EQ(want.size(), 3u);
  RunningServer s(dir);
  auto r = post(s, "/rerank", json{{"query", query}, {"texts", texts}, {"return_text", true}}.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json got = json::parse(r->body);
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    std::size_t i = got[k]["index"];
    EXPECT_NEAR(got[k]["score"].get<double>(), want[i], 1e-5);
    EXPECT_EQ(got[k]["text"], texts[i]);
    if (k > 0) {
      EXPECT_GE(got[k - 1]["score"].get<double>(), got[k]["score"].get<double>());
    }
  }
  r = post(s, "/rerank", json{{"query", query}, {"texts", texts}, {"raw_scores", true}}.dump());
  got = json::parse(r->body);
  EXPECT_FALSE(got[0].contains("text"));
  std::size_t i = got[0]["index"];
  EXPECT_NEAR(1.0 / (1.0 + std::exp(-got[0]["score"].get<double>())), want[i], 1e-5);
}

TEST(Serve, NerEqualsTransformersPipeline) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/ner/config.json");
  auto fx = fixture("pipelines.json")["ner"];
  RunningServer s(test::shared_path("fixtures/pipelines/ner"));
  for (const char* agg : {"simple", "none", "first"}) {
    auto r = post(s, "/ner", json{{"inputs", fx["texts"]}, {"aggregation_strategy", agg}}.dump());
    ASSERT_EQ(r->status, 200) << r->body;
    json got = json::parse(r->body);
    ASSERT_EQ(got.size(), fx["texts"].size());
    for (std::size_t t = 0; t < got.size(); ++t) {
      const auto& want = fx["outputs"][agg][t];
      ASSERT_EQ(got[t].size(), want.size()) << agg << " " << t;
      for (std::size_t i = 0; i < want.size(); ++i) {
        for (const char* k : {"word", "start", "end"}) EXPECT_EQ(got[t][i][k], want[i][k]) << agg << " " << t << " " << i;
        EXPECT_NEAR(got[t][i]["score"].get<double>(), want[i]["score"].get<double>(), 1e-4);
      }
    }
  }
  auto r = post(s, "/ner", json{{"inputs", fx["texts"][0]}}.dump());  // one text: one list of entities
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body).size(), fx["outputs"]["simple"][0].size());
}

TEST(Serve, QaEqualsTransformers447) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/qa/config.json");
  auto fx = fixture("qa_pipeline.json")["qa"][0];
  RunningServer s(test::shared_path("fixtures/pipelines/qa"));
  json body{{"question", fx["question"]}, {"context", fx["context"]}};
  for (auto& [k, v] : fx["kwargs"].items()) body[k] = v;
  auto r = post(s, "/qa", body.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json got = json::parse(r->body), want = fx["answers"];
  if (want.is_object()) want = json::array({want}), got = json::array({got});
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i]["answer"], want[i]["answer"]);
    EXPECT_EQ(got[i]["start"], want[i]["start"]);
    EXPECT_EQ(got[i]["end"], want[i]["end"]);
    EXPECT_NEAR(got[i]["score"].get<double>(), want[i]["score"].get<double>(), 1e-4);
  }
}

TEST(Serve, HealthInfoMetrics) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  serving::ServerOptions o;
  o.max_client_batch_size = 7;
  RunningServer s(st_dir(), o);
  auto c = s.client();
  auto r = c.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/info");
  json info = json::parse(r->body);
  EXPECT_EQ(info["task"], "embeddings");
  EXPECT_EQ(info["model_type"]["embedding"]["pooling"], "mean");
  EXPECT_EQ(info["max_client_batch_size"], 7);
  EXPECT_EQ(info["max_batch_tokens"], 16384);
  EXPECT_EQ(info["max_input_length"], 128);  // tokenizer_config.json model_max_length
  ASSERT_EQ(post(s, "/embed", R"({"inputs": ["a b", "c"]})")->status, 200);
  ASSERT_EQ(post(s, "/embed", R"({"inputs": 3})")->status, 422);
  // Statuses are counted once a response is written, by the connection's
  // thread after the client may already read it: wait (bounded) until both are.
  const std::string ok = "bertkit_requests_total{route=\"/embed\",status=\"200\"} 1\n";
  const std::string bad = "bertkit_requests_total{route=\"/embed\",status=\"422\"} 1\n";
  for (int i = 0; i < 100; ++i) {
    r = c.Get("/metrics");
    if (r && r->body.find(ok) != std::string::npos && r->body.find(bad) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("bertkit_requests_total{route=\"/embed\",status=\"200\"} 1\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("bertkit_requests_total{route=\"/embed\",status=\"422\"} 1\n"), std::string::npos);
  EXPECT_NE(r->body.find("bertkit_request_duration_seconds_count{route=\"/embed\"} 2\n"), std::string::npos);
  // One batch of 2 sequences: [CLS] a b [SEP] + [CLS] c [SEP] = 7 tokens.
  EXPECT_NE(r->body.find("bertkit_batch_size_count 1\n"), std::string::npos);
  EXPECT_NE(r->body.find("bertkit_tokens_total 7\n"), std::string::npos);
  EXPECT_NE(r->body.find("bertkit_queue_size 0\n"), std::string::npos);
}

// Status and the field the JSON error names, for each bad request.
TEST(Serve, ErrorMatrix) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  serving::ServerOptions o;
  o.max_client_batch_size = 3;
  o.max_input_length = 8;
  o.payload_limit = 1000;
  RunningServer s(st_dir(), o);
  struct Case {
    std::string path, body;
    int status;
    std::string names;
  };
  std::string long_text = "one two three four five six seven eight nine";  // 11 tokens with specials
  std::vector<Case> cases{
      {"/embed", "{not json", 422, "body"},
      {"/embed", "[1]", 422, "body"},
      {"/embed", "{}", 422, "inputs"},
      {"/embed", R"({"inputs": 5})", 422, "inputs"},
      {"/embed", R"({"inputs": ["a", 5]})", 422, "inputs[1]"},
      {"/embed", R"({"inputs": []})", 422, "inputs"},
      {"/embed", R"({"inputs": ""})", 422, "inputs"},
      {"/embed", R"({"inputs": "a", "normalize": "yes"})", 422, "normalize"},
      {"/embed", R"({"inputs": "a", "truncate": 1})", 422, "truncate"},
      {"/embed", R"({"inputs": ["a", "b", "c", "d"]})", 413, "max-client-batch-size"},
      {"/embed", json{{"inputs", long_text}}.dump(), 413, "inputs[0]"},
      {"/embed", json{{"inputs", std::string(2000, 'a')}}.dump(), 413, "payload"},
      {"/v1/embeddings", R"({"input": "a", "encoding_format": "base64"})", 422, "encoding_format"},
      {"/tokenize", R"({"inputs": null})", 422, "inputs"},
      {"/predict", R"({"inputs": "a"})", 400, "/predict"},
      {"/ner", R"({"inputs": "a"})", 400, "/ner"},
      {"/qa", R"({"question": "a", "context": "b"})", 400, "/qa"},
      {"/nope", "{}", 404, "/nope"},
  };
  for (const auto& c : cases) {
    auto r = post(s, c.path, c.body);
    ASSERT_TRUE(r) << c.path << " " << c.body;
    EXPECT_EQ(r->status, c.status) << c.path << " " << c.body << " -> " << r->body;
    json e = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(e.is_object()) << r->body;
    EXPECT_NE(e.value("error", "").find(c.names), std::string::npos) << c.body << " -> " << r->body;
    EXPECT_TRUE(e.contains("error_type"));
  }
  // truncate: the long text is cut to max_input_length instead.
  auto r = post(s, "/embed", json{{"inputs", long_text}, {"truncate", true}}.dump());
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(Serve, AutoTruncateMatchesTruncatedInput) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  serving::ServerOptions o;
  o.max_input_length = 5;
  o.auto_truncate = true;
  RunningServer s(st_dir(), o);
  // 5 tokens: [CLS] one two three [SEP]; the cut text embeds as "one two three".
  auto a = post(s, "/embed", R"({"inputs": "one two three four five"})");
  auto b = post(s, "/embed", R"({"inputs": "one two three"})");
  ASSERT_EQ(a->status, 200) << a->body;
  expect_close(json::parse(a->body)[0], json::parse(b->body)[0], 1e-6, "auto-truncate");
}

TEST(Serve, ApiKeyOnEveryRouteButHealth) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  serving::ServerOptions o;
  o.api_key = "s3cret";
  RunningServer s(st_dir(), o);
  auto c = s.client();
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(c.Get("/info")->status, 401);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  auto r = post(s, "/embed", R"({"inputs": "a"})");
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error_type"], "Unauthorized");
  EXPECT_EQ(post(s, "/embed", R"({"inputs": "a"})", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(post(s, "/embed", R"({"inputs": "a"})", {{"Authorization", "Bearer s3cret"}})->status, 200);
  EXPECT_EQ(c.Get("/info", {{"Authorization", "Bearer s3cret"}})->status, 200);
}

// 24 clients x 4 requests, each a different rotation of the fixture
// sentences: every answer is the fixture's, in the request's order.
TEST(Serve, ConcurrentClientsGetTheirOwnAnswersInOrder) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  auto fx = fixture("pipelines.json")["sentence_transformers"];
  const std::size_t n = fx["sentences"].size();
  RunningServer s(st_dir());
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 24; ++t)
    clients.emplace_back([&, t] {
      for (int k = 0; k < 4; ++k) {
        std::size_t shift = (t + k) % n, count = 1 + (t + k) % n;
        json inputs = json::array();
        for (std::size_t i = 0; i < count; ++i) inputs.push_back(fx["sentences"][(shift + i) % n]);
        auto r = post(s, "/embed", json{{"inputs", inputs}}.dump());
        if (!r || r->status != 200) {
          ++wrong;
          ADD_FAILURE() << "client " << t << " request " << k << ": "
                        << (r ? std::to_string(r->status) + " " + r->body : httplib::to_string(r.error()));
          continue;
        }
        json got = json::parse(r->body);
        bool same = got.size() == count;
        for (std::size_t i = 0; same && i < count; ++i)
          for (std::size_t d = 0; d < got[i].size(); ++d)
            same = same && std::abs(got[i][d].get<double>() - fx["embeddings"][(shift + i) % n][d].get<double>()) < 1e-5;
        if (!same) ADD_FAILURE() << "client " << t << " request " << k << ": wrong embeddings " << r->body;
        (same ? ok : wrong)++;
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 96);
  EXPECT_EQ(wrong, 0);
}

// With room for one request in flight, a crowd gets some 429s (JSON,
// "Overloaded") at once; every other answer is still right.
TEST(Serve, FullQueueAnswers429) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  serving::ServerOptions o;
  o.max_concurrent_requests = 1;
  RunningServer s(st_dir(), o);
  std::string text;
  for (int i = 0; i < 60; ++i) text += "word ";
  json body{{"inputs", json::array()}};
  for (int i = 0; i < 32; ++i) body["inputs"].push_back(text);
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t)
    clients.emplace_back([&] {
      for (int k = 0; k < 4; ++k) {
        auto r = post(s, "/embed", body.dump());
        if (r && r->status == 200 && json::parse(r->body).size() == 32) ++ok;
        else if (r && r->status == 429 && json::parse(r->body)["error_type"] == "Overloaded") ++busy;
        else ++other;
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_GT(ok, 0);
  EXPECT_GT(busy, 0);
  EXPECT_EQ(other, 0);
}

// A client that hangs up while its request waits leaves the server serving.
TEST(Serve, ClientThatHangsUpLeavesTheServerWorking) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  RunningServer s(st_dir());
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word ";
  json body{{"inputs", json::array()}, {"truncate", true}};
  for (int i = 0; i < 32; ++i) body["inputs"].push_back(text);
  for (int k = 0; k < 3; ++k) {
    httplib::Client c("127.0.0.1", s.server->port());
    c.set_read_timeout(0, 1000);  // 1 ms: gives up and closes the connection
    auto r = c.Post("/embed", body.dump(), "application/json");
    EXPECT_FALSE(r);
  }
  auto r = post(s, "/embed", R"({"inputs": "still here"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// `bertkit serve` under SIGTERM while requests are in flight: they are
// answered, the process exits 0.
TEST(Serve, SigtermDrainsInFlightRequestsAndExitsZero) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  std::string log = test::make_temp_dir("bertkit-serve") + "/stderr.txt";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    std::string bin = test::bertkit_binary(), dir = st_dir();
    execl(bin.c_str(), bin.c_str(), "serve", dir.c_str(), "--port", "0", (char*)nullptr);
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 600 && port == 0; ++i) {  // up to 60 s to load
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string text = test::path_exists(log) ? read_file(log) : "";
    auto at = text.find("http://127.0.0.1:");  // the whole line: stderr is written piece by piece
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) port = std::atoi(text.c_str() + at + 17);
  }
  ASSERT_GT(port, 0) << read_file(log);
  std::string text;
  for (int i = 0; i < 100; ++i) text += "word ";
  json body{{"inputs", json::array()}};
  for (int i = 0; i < 32; ++i) body["inputs"].push_back(text);
  std::atomic<int> answered{0}, failed{0};
  std::atomic<bool> sent{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      sent = true;
      auto r = c.Post("/embed", body.dump(), "application/json");
      (r && r->status == 200 && json::parse(r->body).size() == 32 ? answered : failed)++;
    });
  while (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Stop once requests are in the queue (bounded wait: 10 s).
  httplib::Client watcher("127.0.0.1", port);
  for (int i = 0; i < 1000; ++i) {
    auto m = watcher.Get("/metrics");
    if (m && m->body.find("bertkit_queue_size 0\n") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  for (auto& c : clients) c.join();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << read_file(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(log);
  EXPECT_EQ(answered + failed, 8);
  EXPECT_GT(answered, 0) << "no request in flight was answered";
  EXPECT_NE(read_file(log).find("stopped"), std::string::npos);
}
