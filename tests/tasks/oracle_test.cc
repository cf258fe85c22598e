// Oracle tests: gold labels / positions fed through the whole path
// (tokenise, align or window, "predict" the gold, post-process, score) must
// give perfect scores, proving alignment, windows and offsets lose nothing.
#include <gtest/gtest.h>

#include <iostream>

#include "bertkit/core/utf8.h"
#include "bertkit/data/conll.h"
#include "bertkit/data/squad.h"
#include "bertkit/tasks/metrics.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "test_util.h"

using namespace bertkit;

TEST(Oracle, ConllValidGoldThroughWindowsGivesF1One) {
  BERTKIT_NEED_SHARED("data/conll2003/valid.txt");
  auto tok = load_tokenizer(test::shared_path("data/bert-vocab/bert-base-cased-vocab.txt"));
  auto sents = read_conll(test::shared_path("data/conll2003/valid.txt"));
  auto labels = collect_tags(sents);
  std::map<std::string, int32_t> ids;
  for (std::size_t i = 0; i < labels.size(); ++i) ids[labels[i]] = static_cast<int32_t>(i);
  const int32_t wrong = ids.at("B-MISC");
  for (std::size_t max_len : {128u, 24u}) {  // 24 forces many sentences into several windows
    NerFeatureOptions o;
    o.max_seq_length = max_len;
    std::vector<std::vector<std::string>> gold, pred;
    std::size_t multi = 0;
    for (std::size_t s = 0; s < sents.size(); ++s) {
      std::vector<int32_t> lab;
      for (auto& t : sents[s].tags) lab.push_back(ids.at(t));
      auto feats = make_ner_features(*tok, sents[s].words, lab, o, s);
      multi += feats.size() > 1;
      std::vector<const NerFeature*> wins;
      std::vector<std::vector<int32_t>> tp;
      for (auto& f : feats) {
        ASSERT_LE(f.input_ids.size(), max_len);
        wins.push_back(&f);
        // the "model" predicts the gold label where one is scored, garbage elsewhere
        std::vector<int32_t> p;
        for (auto l : f.labels) p.push_back(l == -100 ? wrong : l);
        tp.push_back(p);
      }
      auto wp = word_predictions(wins, tp, sents[s].words.size(), ids.at("O"));
      std::vector<std::string> tags;
      for (auto i : wp) tags.push_back(labels[i]);
      gold.push_back(sents[s].tags);
      pred.push_back(tags);
    }
    SeqevalReport r = seqeval(gold, pred);
    EXPECT_DOUBLE_EQ(r.micro.f1, 1.0) << "max_seq_length " << max_len;
    std::cout << "[oracle conll2003 valid] max_seq_length " << max_len << ": " << sents.size() << " sentences, " << multi
              << " split into several windows, entity F1 " << r.micro.f1 << "\n";
    if (max_len == 24) EXPECT_GT(multi, 100u);
  }
}

TEST(Oracle, SquadDevGoldPositionsGiveEmF1Hundred) {
  BERTKIT_NEED_SHARED("data/squad/dev-v1.1.part1.json");
  auto tok = load_tokenizer(test::shared_path("data/bert-vocab/bert-base-uncased-vocab.txt"));
  auto ex = read_squad(test::shared_path("data/squad/dev-v1.1.part1.json"));
  auto ex2 = read_squad(test::shared_path("data/squad/dev-v1.1.part2.json"));
  ex.insert(ex.end(), ex2.begin(), ex2.end());
  QaFeatureOptions fo;  // 384 / 128 / 64
  QaPostprocessOptions po;  // n_best 20, max_answer_length 30
  std::vector<SquadEvalItem> items;
  std::size_t off_boundary = 0, too_long = 0, multi_window = 0;
  for (std::size_t x = 0; x < ex.size(); ++x) {
    const auto& e = ex[x];
    const SquadAnswer& a = e.answers.at(0);
    const std::size_t as = a.start, ae = a.start + utf8::count(a.text);
    // Is the first gold answer on token boundaries of the context, and how long is it?
    Encoding full = tok->encode(e.context, std::nullopt, EncodeOptions{false});
    int64_t ts = -1, te = -1;
    for (std::size_t i = 0; i < full.ids.size(); ++i) {
      if (full.offsets[i].first == as && ts < 0) ts = static_cast<int64_t>(i);
      if (full.offsets[i].second == ae) te = static_cast<int64_t>(i);
    }
    if (ts < 0 || te < 0 || te < ts) {
      ++off_boundary;
      continue;
    }
    if (te - ts + 1 > static_cast<int64_t>(po.max_answer_length)) {
      ++too_long;
      continue;
    }
    auto feats = make_qa_features(*tok, e.question, e.context, a, fo, x);
    multi_window += feats.size() > 1;
    std::vector<const QaFeature*> fs;
    std::vector<std::vector<float>> sl, el;
    bool any = false;
    for (auto& f : feats) {
      ASSERT_LE(f.input_ids.size(), fo.max_seq_length);
      std::vector<float> s(f.input_ids.size(), 0.f), en(f.input_ids.size(), 0.f);
      s[f.start_position] = 10.f;  // [CLS] (0) when the window lacks the answer
      en[f.end_position] = 10.f;
      any = any || f.has_answer;
      fs.push_back(&f);
      sl.push_back(s);
      el.push_back(en);
    }
    ASSERT_TRUE(any) << e.id << ": no window holds the answer";
    QaPrediction p = postprocess_qa(e.context, fs, sl, el, po);
    EXPECT_EQ(p.text, a.text) << e.id;
    EXPECT_EQ(p.start, as) << e.id;
    SquadEvalItem it;
    it.prediction = p.text;
    for (auto& g : e.answers) it.gold.push_back(g.text);
    items.push_back(it);
  }
  SquadScores sc = squad_evaluate(items, false);
  EXPECT_DOUBLE_EQ(sc.exact, 100.0);
  EXPECT_DOUBLE_EQ(sc.f1, 100.0);
  std::cout << "[oracle squad dev] " << ex.size() << " questions: " << items.size() << " scored (EM " << sc.exact << ", F1 "
            << sc.f1 << "), " << off_boundary << " first answers not on token boundaries, " << too_long
            << " longer than max_answer_length 30; " << multi_window << " scored questions spanned several windows\n";
  EXPECT_GT(items.size(), ex.size() * 9 / 10);
}
