// Metrics against hand-worked values and the reference implementations'
// documented examples (sklearn, scipy, seqeval, the official SQuAD scripts).
#include <gtest/gtest.h>

#include <cmath>

#include "bertkit/core/error.h"
#include "bertkit/tasks/metrics.h"

using namespace bertkit;

TEST(Metrics, AccuracyAndBinaryF1) {
  EXPECT_DOUBLE_EQ(accuracy({0, 1, 1, 0}, {0, 1, 0, 0}), 0.75);
  // tp=2 fp=1 fn=1 -> P = R = F1 = 2/3
  PRF r = precision_recall_f1({1, 1, 0, 1, 0}, {1, 0, 0, 1, 1}, Average::Binary);
  EXPECT_NEAR(r.precision, 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.recall, 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.f1, 2.0 / 3, 1e-12);
  // No positive prediction: precision is 0 (zero_division=0), F1 0.
  PRF z = precision_recall_f1({0, 0}, {1, 0}, Average::Binary);
  EXPECT_EQ(z.precision, 0.0);
  EXPECT_EQ(z.f1, 0.0);
  EXPECT_THROW(precision_recall_f1({0, 1, 2}, {0, 1, 2}, Average::Binary), InputError);
}

TEST(Metrics, SklearnDocF1Averages) {
  // sklearn.metrics.f1_score docstring example.
  std::vector<int64_t> gold{0, 1, 2, 0, 1, 2}, pred{0, 2, 1, 0, 0, 1};
  EXPECT_NEAR(precision_recall_f1(pred, gold, Average::Macro).f1, 0.26666666666666666, 1e-12);
  EXPECT_NEAR(precision_recall_f1(pred, gold, Average::Micro).f1, 0.3333333333333333, 1e-12);
  EXPECT_NEAR(precision_recall_f1(pred, gold, Average::Weighted).f1, 0.26666666666666666, 1e-12);
  // precision_recall_fscore_support docstring: macro precision 0.2222..., recall 0.3333...
  std::vector<int64_t> g2{0, 1, 2, 0, 1, 2}, p2{0, 2, 1, 0, 0, 1};
  EXPECT_NEAR(precision_recall_f1(p2, g2, Average::Macro).precision, 0.2222222222222222, 1e-12);
  EXPECT_NEAR(precision_recall_f1(p2, g2, Average::Macro).recall, 0.3333333333333333, 1e-12);
}

TEST(Metrics, Matthews) {
  // sklearn docstring: [+1,+1,+1,-1] vs [+1,-1,+1,+1] -> -0.333...
  EXPECT_NEAR(matthews_corrcoef({1, -1, 1, 1}, {1, 1, 1, -1}), -1.0 / 3, 1e-12);
  EXPECT_NEAR(matthews_corrcoef({0, 1, 0, 1}, {0, 1, 0, 1}), 1.0, 1e-12);
  EXPECT_EQ(matthews_corrcoef({1, 1, 1}, {0, 1, 0}), 0.0);  // constant prediction: undefined -> 0
}

TEST(Metrics, PearsonSpearman) {
  // by hand: sxy=6, sxx=10, syy=6 -> 6/sqrt(60)
  EXPECT_NEAR(pearson({1, 2, 3, 4, 5}, {2, 4, 5, 4, 5}), 6 / std::sqrt(60.0), 1e-12);
  // scipy.stats.spearmanr docstring example (ties averaged).
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 0.8207826816681233, 1e-12);
}

static std::vector<std::tuple<std::string, int64_t, int64_t>> ents(const std::vector<std::string>& tags) {
  std::vector<std::tuple<std::string, int64_t, int64_t>> out;
  for (auto& e : get_entities(tags)) out.emplace_back(e.type, e.begin, e.end);
  return out;
}

TEST(Metrics, SeqevalEntities) {
  using V = std::vector<std::tuple<std::string, int64_t, int64_t>>;
  // seqeval's get_entities docstring
  EXPECT_EQ(ents({"B-PER", "I-PER", "O", "B-LOC"}), (V{{"PER", 0, 1}, {"LOC", 3, 3}}));
  // I- after O starts an entity (default, non-strict mode)
  EXPECT_EQ(ents({"O", "I-PER", "I-PER"}), (V{{"PER", 1, 2}}));
  // type change inside I- run splits
  EXPECT_EQ(ents({"B-PER", "I-LOC", "I-LOC"}), (V{{"PER", 0, 0}, {"LOC", 1, 2}}));
  // B- after I- of the same type starts a new entity
  EXPECT_EQ(ents({"I-PER", "B-PER", "I-PER"}), (V{{"PER", 0, 0}, {"PER", 1, 2}}));
  // IOBES
  EXPECT_EQ(ents({"S-PER", "B-LOC", "I-LOC", "E-LOC", "E-LOC"}), (V{{"PER", 0, 0}, {"LOC", 1, 3}, {"LOC", 4, 4}}));
  // entity at the end of the sentence
  EXPECT_EQ(ents({"O", "B-MISC"}), (V{{"MISC", 1, 1}}));
}

TEST(Metrics, SeqevalDocExample) {
  // seqeval README: f1 0.5; report MISC 0/0/0 support 1, PER 1/1/1 support 1.
  std::vector<std::vector<std::string>> gold{{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
  std::vector<std::vector<std::string>> pred{{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
  SeqevalReport r = seqeval(gold, pred);
  EXPECT_DOUBLE_EQ(r.micro.f1, 0.5);
  EXPECT_DOUBLE_EQ(r.micro.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.micro.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.per_type.at("MISC").f1, 0.0);
  EXPECT_DOUBLE_EQ(r.per_type.at("PER").f1, 1.0);
  EXPECT_EQ(r.per_type.at("PER").support, 1);
  EXPECT_DOUBLE_EQ(r.macro.f1, 0.5);
  EXPECT_NEAR(r.accuracy, 8.0 / 10, 1e-12);
  // An entity spanning a sentence end does not join the next sentence.
  SeqevalReport r2 = seqeval({{"B-PER"}, {"I-PER"}}, {{"B-PER"}, {"I-PER"}});
  EXPECT_EQ(r2.per_type.at("PER").support, 2);
}

TEST(Metrics, SquadNormalisation) {
  EXPECT_EQ(squad_normalize("The  Quick, brown fox!"), "quick brown fox");
  EXPECT_EQ(squad_normalize("an apple a day"), "apple day");
  EXPECT_EQ(squad_normalize("Theory of an Anthem"), "theory of anthem");  // articles only as whole words
  EXPECT_EQ(squad_normalize("A-team"), "ateam");                          // punctuation goes first
  EXPECT_EQ(squad_normalize("Théâtre\u00a0ÉTÉ"), "théâtre été");          // Unicode lower + whitespace
  EXPECT_EQ(squad_normalize("the"), "");
  EXPECT_EQ(squad_normalize("«Paris»"), "«paris»");  // only ASCII punctuation is dropped
  EXPECT_DOUBLE_EQ(squad_exact("The Eiffel Tower.", "eiffel tower"), 1.0);
  // pred {cat,sat}, gold {cat,sat,on,mat}: P=1 R=.5
  EXPECT_NEAR(squad_f1("the cat sat", "cat sat on a mat"), 2 * 0.5 / 1.5, 1e-12);
  EXPECT_DOUBLE_EQ(squad_f1("dog", "cat"), 0.0);
  EXPECT_DOUBLE_EQ(squad_f1("", "", false), 0.0);
  EXPECT_DOUBLE_EQ(squad_f1("", "", true), 1.0);
  EXPECT_DOUBLE_EQ(squad_f1("a", "", true), 1.0);  // both normalise to nothing
}

TEST(Metrics, SquadV1MaxOverGold) {
  auto s = squad_evaluate({{"Denver Broncos", {"Broncos", "Denver Broncos"}, 0}, {"blue", {"red"}, 0}}, false);
  EXPECT_DOUBLE_EQ(s.exact, 50.0);
  EXPECT_DOUBLE_EQ(s.f1, 50.0);
}

TEST(Metrics, SquadV2Thresholds) {
  // Worked by hand following evaluate-v2.0.py's find_best_thresh.
  std::vector<SquadEvalItem> items{
      {"cat", {"cat"}, -1.0}, {"", {}, 2.0}, {"dog", {}, 0.5}, {"x", {"y"}, 1.0}};
  auto s = squad_evaluate(items, true);
  EXPECT_DOUBLE_EQ(s.exact, 50.0);
  EXPECT_EQ(s.has_ans_total, 2);
  EXPECT_EQ(s.no_ans_total, 2);
  EXPECT_DOUBLE_EQ(s.has_ans_exact, 50.0);
  EXPECT_DOUBLE_EQ(s.no_ans_exact, 50.0);
  EXPECT_DOUBLE_EQ(s.best_exact, 75.0);
  EXPECT_DOUBLE_EQ(s.best_exact_thresh, -1.0);
}
