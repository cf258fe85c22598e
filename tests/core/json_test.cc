// core/json.h: strict typed reads, key-path errors, --set overrides.
#include <filesystem>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "test_util.h"

using namespace bertkit;
using json::Json;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(Json, ParseErrorNamesFileLineColumn) {
  std::string msg = error_of([] { json::parse("{\n  \"a\": 1,\n  \"b\": ]\n}", "run.json"); });
  // The stray ']' is on line 3, column 8.
  EXPECT_NE(msg.find("run.json:3:8"), std::string::npos) << msg;
}

TEST(Json, WrongTypeNamesKeyPathAndValue) {
  Json j = Json::parse(R"({"train": {"learning_rate": "abc"}})");
  json::ObjectReader top(j, "");
  auto train = top.object("train");
  std::string msg = error_of([&] { train.get<double>("learning_rate", 1.0); });
  EXPECT_EQ(msg, "train.learning_rate: expected a number, got \"abc\"");
}

TEST(Json, IntegersRejectFractions) {
  Json j = Json::parse(R"({"steps": 1.5, "ok": 1e3})");
  json::ObjectReader r(j, "train");
  EXPECT_EQ(r.get<int64_t>("ok", 0), 1000);
  EXPECT_EQ(error_of([&] { r.get<int64_t>("steps", 0); }), "train.steps: expected an integer, got 1.5");
}

TEST(Json, UnknownKeyListsValidOnes) {
  Json j = Json::parse(R"({"batch_size": 8, "lr": 0.1})");
  json::ObjectReader r(j, "train");
  EXPECT_EQ(r.get<int64_t>("batch_size", 1), 8);
  r.get<double>("learning_rate", 0.0);
  EXPECT_EQ(error_of([&] { r.finish(); }),
            "train: unknown key \"lr\" (valid keys: batch_size, learning_rate)");
}

TEST(Json, RequiredAndDefaultsAndChoices) {
  Json j = Json::parse(R"({"a": {"b": [1, 2, "x"]}, "kind": "cosine"})");
  json::ObjectReader r(j, "");
  EXPECT_EQ(error_of([&] { r.required<std::string>("missing"); }), "missing: required key missing");
  EXPECT_EQ(r.get<std::string>("absent", "dflt"), "dflt");
  EXPECT_EQ(r.choice("kind", "linear", {"linear", "cosine"}), "cosine");
  EXPECT_EQ(error_of([&] { r.choice("kind", "linear", {"linear", "constant"}); }),
            "kind: expected one of linear, constant, got \"cosine\"");
  auto a = r.object("a");
  std::vector<int64_t> v;
  EXPECT_EQ(error_of([&] { a.read("b", v); }), "a.b[2]: expected an integer, got \"x\"");
}

TEST(Json, SetOverridesInferTypes) {
  Json j = Json::parse(R"({"train": {"learning_rate": 1e-4, "name": "x", "fp16": false}})");
  json::apply_override(j, "train.learning_rate=3e-5");
  json::apply_override(j, "train.name=123");       // existing string stays a string
  json::apply_override(j, "train.fp16=true");
  json::apply_override(j, "train.max_steps=100");  // new key: inferred integer
  json::apply_override(j, "model.hidden_act=gelu");  // new nested object
  json::apply_override(j, "eval.metrics=[\"f1\",\"accuracy\"]");
  EXPECT_DOUBLE_EQ(j["train"]["learning_rate"].get<double>(), 3e-5);
  EXPECT_TRUE(j["train"]["name"].is_string());
  EXPECT_EQ(j["train"]["name"], "123");
  EXPECT_EQ(j["train"]["fp16"], true);
  EXPECT_TRUE(j["train"]["max_steps"].is_number_integer());
  EXPECT_EQ(j["train"]["max_steps"], 100);
  EXPECT_EQ(j["model"]["hidden_act"], "gelu");
  EXPECT_EQ(j["eval"]["metrics"].size(), 2u);
  EXPECT_NE(error_of([&] { json::apply_override(j, "train.learning_rate=abc"); }).find("expected a number"),
            std::string::npos);
  EXPECT_NE(error_of([&] { json::apply_override(j, "noequals"); }).find("KEY.PATH=VALUE"), std::string::npos);
  EXPECT_NE(error_of([&] { json::apply_override(j, "train.name.x=1"); }).find("train.name is a string"),
            std::string::npos);
}

TEST(Json, LoadFileRoundTrip) {
  std::string dir = test::make_temp_dir();
  Json j = {{"a", 1}, {"b", {{"c", "d"}}}};
  json::save_file(dir + "/x.json", j);
  EXPECT_EQ(json::load_file(dir + "/x.json"), j);
  std::ofstream(dir + "/bad.json") << "{\"a\": 1,}";
  EXPECT_NE(error_of([&] { json::load_file(dir + "/bad.json"); }).find(dir + "/bad.json:1:"), std::string::npos);
  std::filesystem::remove_all(dir);
}
