// Metrics computed as the field's reference implementations compute them:
// scikit-learn (accuracy, precision/recall/F1, Matthews), scipy (Pearson,
// Spearman), seqeval (entity-level P/R/F1, default mode) and the official
// SQuAD v1.1 / v2.0 evaluation scripts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bertkit {

// ---- classification (labels are class ids) ----
double accuracy(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold);

struct PRF {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};
enum class Average { Binary, Micro, Macro, Weighted };
Average parse_average(const std::string& s);  // binary|micro|macro|weighted
// sklearn.metrics.precision_recall_fscore_support (zero_division=0). Binary:
// the scores of `pos_label`. Macro/weighted average over the labels present
// in gold or pred.
PRF precision_recall_f1(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold, Average average,
                        int64_t pos_label = 1);
// sklearn.metrics.matthews_corrcoef (multiclass generalisation; 0 when undefined).
double matthews_corrcoef(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold);

// ---- regression ----
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman rank correlation (ties get their average rank, as scipy does).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// ---- seqeval ----
struct Entity {
  std::string type;
  int64_t begin = 0, end = 0;  // inclusive token indices, as seqeval reports them
  bool operator<(const Entity& o) const;
  bool operator==(const Entity& o) const;
};
// seqeval.metrics.sequence_labeling.get_entities for one sentence (default
// mode: IOB2/IOBES prefixes; an I- after O or after another type starts an
// entity; the first character is the prefix, the type follows the first '-').
std::vector<Entity> get_entities(const std::vector<std::string>& tags);

struct SeqevalReport {
  std::map<std::string, PRF> per_type;
  PRF micro, macro, weighted;
  double accuracy = 0;  // token-level
};
// seqeval's classification_report / f1_score (average micro is "overall").
SeqevalReport seqeval(const std::vector<std::vector<std::string>>& gold,
                      const std::vector<std::vector<std::string>>& pred);

// ---- SQuAD ----
// The official normalize_answer: lowercase, drop ASCII punctuation, drop the
// words a/an/the, collapse whitespace.
std::string squad_normalize(const std::string& s);
double squad_exact(const std::string& pred, const std::string& gold);  // 0 or 1
// v1.1 token F1 (0 when nothing is shared); `v2` also scores 1 when both are empty.
double squad_f1(const std::string& pred, const std::string& gold, bool v2 = false);

struct SquadScores {
  double exact = 0, f1 = 0;  // percentages
  int64_t total = 0;
  // v2 only
  double has_ans_exact = 0, has_ans_f1 = 0, no_ans_exact = 0, no_ans_f1 = 0;
  int64_t has_ans_total = 0, no_ans_total = 0;
  double best_exact = 0, best_exact_thresh = 0, best_f1 = 0, best_f1_thresh = 0;
  bool v2 = false;
};
struct SquadEvalItem {
  std::string prediction;               // "" = no answer
  std::vector<std::string> gold;        // empty: unanswerable
  double null_score_diff = 0;           // v2: for the best thresholds (na_prob)
};
// v1.1: max EM/F1 over the gold answers. v2 (evaluate-v2.0.py): "" counts as
// the gold of an unanswerable question; HasAns/NoAns splits and, from
// null_score_diff, the best thresholds.
SquadScores squad_evaluate(const std::vector<SquadEvalItem>& items, bool v2);

}  // namespace bertkit
