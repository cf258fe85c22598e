// Task dataset readers on hand-written files and on ../shared data.
#include <gtest/gtest.h>

#include <fstream>

#include "bertkit/core/utf8.h"
#include "bertkit/core/error.h"
#include "bertkit/data/classification.h"
#include "bertkit/data/conll.h"
#include "bertkit/data/squad.h"
#include "test_util.h"

using namespace bertkit;

static std::string write_tmp(const std::string& name, const std::string& content) {
  static std::string dir = test::make_temp_dir("bertkit-datasets");
  std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

TEST(Datasets, CsvRfc4180) {
  Table t = parse_csv("a,b\r\n\"x, y\",\"he said \"\"hi\"\"\"\r\n\"multi\nline\",2\n,\n", true, "t.csv");
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"x, y", "he said \"hi\""}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"multi\nline", "2"}));
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"", ""}));
  EXPECT_EQ(t.lines[2], 5u);
  EXPECT_THROW(parse_csv("a\n\"open\n", true, "t.csv"), InputError);
  EXPECT_THROW(parse_csv("a\n\"x\"y\n", true, "t.csv"), InputError);
}

TEST(Datasets, TsvNoQuoting) {
  // GLUE TSV: quotes are literal (MRPC), BOM and CR stripped.
  Table t = parse_tsv("\xEF\xBB\xBFQuality\ts1\ts2\r\n1\t\"quoted\tx\r\n", true);
  EXPECT_EQ(t.header[0], "Quality");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][1], "\"quoted");
  EXPECT_EQ(t.rows[0][2], "x");
}

TEST(Datasets, ClassificationColumnsAndLabels) {
  auto p = write_tmp("pairs.tsv", "idx\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\tc\td\tnot_entailment\n");
  ClassificationReadOptions o;
  o.columns = {"s1", "s2", "label"};
  auto ex = read_classification(p, o);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_TRUE(ex[1].has_pair);
  EXPECT_EQ(ex[1].text_pair, "d");
  EXPECT_EQ(ex[1].labels, (std::vector<std::string>{"not_entailment"}));
  EXPECT_EQ(collect_labels(ex), (std::vector<std::string>{"entailment", "not_entailment"}));
  // indices, no header
  auto p2 = write_tmp("nohdr.csv", "10,\"x,y\"\n2,z\n");
  ClassificationReadOptions o2;
  o2.header = false;
  o2.columns = {"1", "", "0"};
  auto ex2 = read_classification(p2, o2);
  EXPECT_EQ(ex2[0].text, "x,y");
  EXPECT_EQ(collect_labels(ex2), (std::vector<std::string>{"2", "10"}));  // numeric order
  // missing column names the header
  ClassificationReadOptions bad = o;
  bad.columns.text = "sentence";
  try {
    read_classification(p, bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("s1, s2"), std::string::npos) << e.what();
  }
}

TEST(Datasets, JsonlMultiLabelAndRegression) {
  auto p = write_tmp("d.jsonl", "{\"text\":\"a\",\"labels\":[\"x\",\"y\"]}\n\n{\"text\":\"b\",\"labels\":[]}\n");
  ClassificationReadOptions o;
  o.columns = {"text", "", "labels"};
  auto ex = read_classification(p, o);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].labels, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(ex[1].labels.empty());
  auto p2 = write_tmp("r.jsonl", "{\"s\":\"a\",\"score\":3.5}\n{\"s\":\"b\",\"score\":1}\n");
  ClassificationReadOptions o2;
  o2.columns = {"s", "", "score"};
  auto ex2 = read_classification(p2, o2);
  EXPECT_DOUBLE_EQ(std::stod(ex2[0].labels[0]), 3.5);
  EXPECT_EQ(ex2[1].labels[0], "1");
  auto p3 = write_tmp("bad.jsonl", "{\"s\":\"a\"}\n{oops\n");
  EXPECT_THROW(read_classification(p3, o2), InputError);
  // multi-label from a TSV field with a separator
  auto p4 = write_tmp("ml.tsv", "sentence\tlabel\nhi\ta, b\n");
  ClassificationReadOptions o4;
  o4.label_separator = ",";
  EXPECT_EQ(read_classification(p4, o4)[0].labels, (std::vector<std::string>{"a", "b"}));
}

TEST(Datasets, ConllIob1DocstartAndColumns) {
  auto p = write_tmp("iob1.conll",
                     "-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n"
                     "call NN I-NP O\n\nPeter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\n\n"
                     "a DT O I-LOC\nb NN O B-LOC\n");
  auto s = read_conll(p);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].words, (std::vector<std::string>{"EU", "rejects", "German", "call"}));
  EXPECT_EQ(s[0].tags, (std::vector<std::string>{"B-ORG", "O", "B-MISC", "O"}));
  EXPECT_EQ(s[1].tags, (std::vector<std::string>{"B-PER", "I-PER"}));
  EXPECT_EQ(s[2].tags, (std::vector<std::string>{"B-LOC", "B-LOC"}));  // IOB1 B- between same-type entities
  EXPECT_EQ(s[0].line, 3u);
  ConllReadOptions keep;
  keep.scheme = TagScheme::IOB2;
  EXPECT_EQ(read_conll(p, keep)[0].tags[0], "I-ORG");
  // tab-separated, two columns, tag column chosen
  auto p2 = write_tmp("t.conll", "New\tNNP\tB-LOC\nYork\tNNP\tI-LOC\n");
  ConllReadOptions c;
  c.tag_column = 1;
  EXPECT_EQ(read_conll(p2, c)[0].tags, (std::vector<std::string>{"NNP", "NNP"}));
  EXPECT_EQ(read_conll(p2)[0].tags, (std::vector<std::string>{"B-LOC", "I-LOC"}));
  auto p3 = write_tmp("bad.conll", "word\n");
  EXPECT_THROW(read_conll(p3), InputError);
}

TEST(Datasets, SharedGlueConllWnutSquad) {
  BERTKIT_NEED_SHARED("data/glue/SST-2/dev.tsv");
  auto sst = read_classification(test::shared_path("data/glue/SST-2/dev.tsv"), {});
  ASSERT_EQ(sst.size(), 872u);
  int pos = 0;
  for (auto& e : sst) pos += e.labels[0] == "1";
  EXPECT_EQ(pos, 444);
  ClassificationReadOptions mrpc;
  mrpc.columns = {"#1 String", "#2 String", "Quality"};
  auto m = read_classification(test::shared_path("data/glue/MRPC/dev.tsv"), mrpc);
  EXPECT_EQ(m.size(), 408u);
  auto conll = read_conll(test::shared_path("data/conll2003/valid.txt"));
  EXPECT_EQ(conll.size(), 3250u);
  std::size_t tokens = 0;
  for (auto& s : conll) tokens += s.words.size();
  EXPECT_EQ(tokens, 51362u);
  EXPECT_EQ(collect_tags(conll).size(), 9u);
  auto wnut = read_conll(test::shared_path("data/wnut17/emerging.dev.conll"));
  EXPECT_EQ(wnut.size(), 1009u);
  auto sq = read_squad(test::shared_path("data/squad/dev-v1.1.part1.json"));
  auto sq2 = read_squad(test::shared_path("data/squad/dev-v1.1.part2.json"));
  EXPECT_EQ(sq.size(), 5696u);
  EXPECT_EQ(sq2.size(), 4874u);
  // answer_start counts code points: the answer text sits there.
  for (auto& e : sq)
    for (auto& a : e.answers) ASSERT_EQ(utf8::substr(e.context, a.start, a.start + utf8::count(a.text)), a.text) << e.id;
}
