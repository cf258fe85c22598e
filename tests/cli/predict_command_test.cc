// bertkit predict as a new user meets it (issue 14): transformers' defaults,
// errors that say what to pass, progress over a file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

using nlohmann::json;

json ner_fixture() { return json::parse(std::ifstream(shared_path("fixtures/pipelines/pipelines.json")))["ner"]; }

TEST(PredictCommand, TokenClassificationDefaultsToNoAggregationAsTransformers) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/ner");
  const json fx = ner_fixture();
  json got = json::parse(cli_stdout({"predict", shared_path("fixtures/pipelines/ner"), fx["texts"][0]}));
  const json& want = fx["outputs"]["none"][0];
  ASSERT_EQ(got.size(), want.size()) << got;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i]["entity"], want[i]["entity"]) << i;
    EXPECT_EQ(got[i]["index"], want[i]["index"]) << i;
    EXPECT_EQ(got[i]["start"], want[i]["start"]) << i;
    EXPECT_EQ(got[i]["end"], want[i]["end"]) << i;
  }
}

TEST(PredictCommand, QuestionAnsweringAsksForQuestionAndContext) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/qa");
  int rc = 0;
  std::string err = cli_stderr({"predict", shared_path("fixtures/pipelines/qa"), "Who is the CEO?"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("--question"), std::string::npos) << err;
  EXPECT_NE(err.find("--context"), std::string::npos) << err;
}

TEST(PredictCommand, ProgressOverAFileInPlainLinesWhenNotATerminal) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/fillmask");
  std::string dir = make_temp_dir("predict-progress");
  std::ofstream(dir + "/in.txt") << "the [MASK] sat.\na [MASK] day.\n[MASK] is here.\n";
  testing::internal::CaptureStdout();
  int rc = 0;
  std::string err = cli_stderr({"predict", shared_path("fixtures/pipelines/fillmask"), "-i", dir + "/in.txt",
                                "--format", "jsonl"},
                               &rc);
  std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(rc, 0) << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);  // results stay on stdout
  EXPECT_NE(err.find("predict: 3/3 inputs"), std::string::npos) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << "stderr is a file here: no carriage returns";
}

// evaluate shows its progress on stderr too: plain lines in a log file.
TEST(EvaluateCommand, ProgressInPlainLinesWhenNotATerminal) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/textcls");
  std::string dir = make_temp_dir("evaluate-progress");
  {
    std::ofstream tsv(dir + "/dev.tsv");
    tsv << "sentence\tlabel\n";
    const char* labels[] = {"negative", "neutral", "positive"};
    for (int i = 0; i < 20; ++i) tsv << "sentence number " << i << "\t" << labels[i % 3] << "\n";
  }
  testing::internal::CaptureStdout();
  int rc = 0;
  std::string err = cli_stderr({"evaluate", shared_path("fixtures/pipelines/textcls"), "--task", "classification",
                                "--data", dir + "/dev.tsv", "--batch-size", "2"},
                               &rc);
  json metrics = json::parse(testing::internal::GetCapturedStdout());  // stdout: the metrics alone
  ASSERT_EQ(rc, 0) << err;
  EXPECT_TRUE(metrics.contains("accuracy")) << metrics;
  EXPECT_EQ(err.find('\r'), std::string::npos) << "stderr is a file here: no carriage returns";
  // 10 batches of 2: one line per tenth, each ending its line, the last one 20/20.
  EXPECT_NE(err.find("evaluate: 2/20 examples"), std::string::npos) << err;
  EXPECT_NE(err.find("evaluate: 20/20 examples"), std::string::npos) << err;
  std::size_t lines = 0;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) lines += line.rfind("evaluate: ", 0) == 0;
  EXPECT_EQ(lines, 10u) << err;
}

}  // namespace
}  // namespace bertkit::test
