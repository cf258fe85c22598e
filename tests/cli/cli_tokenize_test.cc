// `bertkit tokenize` / `bertkit tokenizer` through the real binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bertkit/tokenizers/tokenizer.h"
#include "test_util.h"

using namespace bertkit;

namespace {
std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
// $BERTKIT_BINARY, else the bertkit beside this build's tests/ folder
// (build/tests/test_text -> build/bertkit).
std::string binary() {
  std::string b = test::bertkit_binary();
  if (b.find('/') != std::string::npos && test::path_exists(b)) return b;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto guess = self.parent_path().parent_path() / "bertkit";
    if (std::filesystem::exists(guess)) return guess.string();
  }
  return b;
}
// test_cli depends on the bertkit target (tests/CMakeLists.txt): a missing binary is a failure.
#define NEED_BINARY() ASSERT_TRUE(test::path_exists(binary())) << "bertkit binary not found: " << binary()
}  // namespace

TEST(CliTokenize, FixtureOutputIsByteIdentical) {
  NEED_BINARY();
  BERTKIT_NEED_SHARED("fixtures/tokenizer/expected-cased.jsonl");
  std::string dir = test::make_temp_dir("bertkit-cli-tok");
  std::string cmd = binary() + " tokenize --tokenizer " +
                    test::shared_path("data/bert-vocab/bert-base-cased-vocab.txt") +
                    " --no-lowercase --max-length 512 --threads 2 --input " +
                    test::shared_path("fixtures/tokenizer/input.jsonl") + " --output " + dir + "/out.jsonl";
  std::string log;
  ASSERT_EQ(test::run_command(cmd, &log), 0) << log;
  EXPECT_TRUE(slurp(dir + "/out.jsonl") == slurp(test::shared_path("fixtures/tokenizer/expected-cased.jsonl")))
      << "output differs from the HF fixture";
}

// --output-format ids: each line the ids HF's tokenizer gave (the fixture's
// "ids"), space-separated, one line per input, in input order.
TEST(CliTokenize, IdsOnlyOutputIsHfIds) {
  NEED_BINARY();
  BERTKIT_NEED_SHARED("fixtures/tokenizer/expected-uncased.jsonl");
  std::string dir = test::make_temp_dir("bertkit-cli-ids");
  for (const char* threads : {"1", "2"}) {
    std::string cmd = binary() + " tokenize --tokenizer " +
                      test::shared_path("data/bert-vocab/bert-base-uncased-vocab.txt") +
                      " --lowercase --max-length 512 --output-format ids --threads " + threads + " --input " +
                      test::shared_path("fixtures/tokenizer/input.jsonl") + " --output " + dir + "/ids.txt";
    std::string log;
    ASSERT_EQ(test::run_command(cmd, &log), 0) << log;
    std::istringstream got(slurp(dir + "/ids.txt"));
    std::istringstream want(slurp(test::shared_path("fixtures/tokenizer/expected-uncased.jsonl")));
    std::size_t lines = 0;
    for (std::string w; std::getline(want, w); ++lines) {
      // The fixture line's "ids":[a,b,...] as "a b ...".
      const std::size_t from = w.find("\"ids\":[") + 7, to = w.find(']', from);
      std::string expected = w.substr(from, to - from);
      for (auto& c : expected) c = c == ',' ? ' ' : c;
      std::string g;
      ASSERT_TRUE(std::getline(got, g)) << "missing line " << lines + 1;
      ASSERT_EQ(g, expected) << "line " << lines + 1 << " (threads " << threads << ")";
    }
    EXPECT_EQ(lines, 1515u);
    std::string extra;
    EXPECT_FALSE(std::getline(got, extra)) << "extra line: " << extra;
  }
}

TEST(CliTokenize, IdsOnlyRefusesFieldsItCannotHold) {
  NEED_BINARY();
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  std::string log;
  int rc = test::run_command(binary() + " tokenize -t " + test::shared_path("data/bert-vocab/bert-base-uncased-vocab.txt") +
                                 " --output-format ids --decode hello",
                             &log);
  EXPECT_EQ(rc, 2) << log;
  EXPECT_NE(log.find("--decode"), std::string::npos) << log;
}

TEST(CliTokenize, BadJsonlNamesFileAndLine) {
  NEED_BINARY();
  BERTKIT_NEED_SHARED("fixtures/pipelines/ner/tokenizer.json");
  std::string dir = test::make_temp_dir("bertkit-cli-bad");
  std::ofstream(dir + "/in.jsonl") << "{\"text\": \"fine\"}\n\n{\"text\": 3}\n";
  std::string log;
  int rc = test::run_command(binary() + " tokenize -t " + test::shared_path("fixtures/pipelines/ner") +
                                 " -i " + dir + "/in.jsonl",
                             &log);
  EXPECT_EQ(rc, 2) << log;
  EXPECT_NE(log.find(dir + "/in.jsonl:3"), std::string::npos) << log;
}

TEST(CliTokenizer, TrainWordPieceThenTokenize) {
  NEED_BINARY();
  BERTKIT_NEED_SHARED("data/sentencepiece/botchan.txt");
  std::string dir = test::make_temp_dir("bertkit-cli-train");
  std::string log;
  ASSERT_EQ(test::run_command(binary() + " tokenizer train --type wordpiece --vocab-size 1200 -i " +
                                  test::shared_path("data/sentencepiece/botchan.txt") + " -o " + dir + "/wp",
                              &log),
            0)
      << log;
  auto tok = load_tokenizer(dir + "/wp");
  EXPECT_EQ(tok->vocab_size(), 1200u);
  EXPECT_EQ(tok->special_tokens().cls, 2);
  EXPECT_EQ(tok->encode("The cat").tokens.front(), "[CLS]");
  ASSERT_EQ(test::run_command(binary() + " tokenizer train --type sentencepiece --model-type bpe "
                                  "--vocab-size 800 --threads 1 -i " +
                                  test::shared_path("data/sentencepiece/botchan.txt") + " -o " + dir + "/sp",
                              &log),
            0)
      << log;
  auto sp = load_tokenizer(dir + "/sp");
  EXPECT_EQ(sp->vocab_size(), 800u);
  EXPECT_EQ(sp->special_tokens().mask, 4);
}

namespace {
// Every file under `dir` (relative name -> bytes).
std::map<std::string, std::string> folder_bytes(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir).string()] = slurp(e.path().string());
  return out;
}
}  // namespace

// `tokenizer train -o DIR` into a folder that holds files: refused (exit 2,
// naming the folder and the file that would be overwritten) with nothing on
// disk changed, as `prepare` and `train` refuse a non-empty output; with
// --overwrite the tokenizer files are replaced, the others kept, and a
// tokenizer of the other type does not stay behind to be loaded instead.
TEST(CliTokenizer, TrainRefusesANonEmptyOutputUnlessOverwrite) {
  NEED_BINARY();
  BERTKIT_NEED_SHARED("data/sentencepiece/botchan.txt");
  const std::string dir = test::make_temp_dir("bertkit-cli-train-out");
  const std::string corpus = test::shared_path("data/sentencepiece/botchan.txt");
  const std::string out = dir + "/tok";
  const std::string wordpiece = binary() + " tokenizer train --type wordpiece --vocab-size 300 -i " + corpus + " -o " + out;
  std::string log;
  ASSERT_EQ(test::run_command(wordpiece, &log), 0) << log;
  std::ofstream(out + "/README.md") << "my notes\n";
  const auto before = folder_bytes(out);
  ASSERT_EQ(before.count("vocab.txt"), 1u);

  EXPECT_EQ(test::run_command(wordpiece, &log), 2) << log;
  EXPECT_NE(log.find("--output " + out + " already holds vocab.txt, which training would overwrite"), std::string::npos)
      << log;
  EXPECT_NE(log.find("--overwrite"), std::string::npos) << log;
  EXPECT_EQ(folder_bytes(out), before);

  // A folder of other files only: refused too, naming what it holds.
  const std::string other = dir + "/other";
  std::filesystem::create_directories(other);
  std::ofstream(other + "/notes.txt") << "keep\n";
  EXPECT_EQ(test::run_command(binary() + " tokenizer train --type sentencepiece --vocab-size 300 -i " + corpus +
                                  " -o " + other,
                              &log),
            2)
      << log;
  EXPECT_NE(log.find("--output " + other + " is not empty (it holds notes.txt)"), std::string::npos) << log;
  EXPECT_EQ(folder_bytes(other), (std::map<std::string, std::string>{{"notes.txt", "keep\n"}}));

  // --overwrite: a SentencePiece model replaces the WordPiece tokenizer; README.md stays.
  ASSERT_EQ(test::run_command(binary() + " tokenizer train --type sentencepiece --model-type bpe --vocab-size 300 "
                                  "--threads 1 --overwrite -i " + corpus + " -o " + out,
                              &log),
            0)
      << log;
  const auto after = folder_bytes(out);
  EXPECT_EQ(after.at("README.md"), "my notes\n");
  EXPECT_EQ(after.count("spiece.model"), 1u);
  EXPECT_EQ(after.count("vocab.txt"), 0u);
  EXPECT_EQ(after.count("tokenizer.json"), 0u);
  auto tok = load_tokenizer(out);
  EXPECT_EQ(tok->vocab_size(), 300u);
  EXPECT_EQ(tok->special_tokens().mask, 4);  // ALBERT's layout: a SentencePiece model, not the old vocab.txt
  std::filesystem::remove_all(dir);
}
