#include "bertkit/tasks/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include <utf8proc.h>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"

namespace bertkit {

static void check_sizes(std::size_t a, std::size_t b, const char* what) {
  if (a != b)
    throw InputError(std::string(what) + ": " + std::to_string(a) + " predictions for " + std::to_string(b) +
                     " references");
}

double accuracy(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold) {
  check_sizes(pred.size(), gold.size(), "accuracy");
  if (gold.empty()) return 0;
  std::size_t ok = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) ok += pred[i] == gold[i];
  return double(ok) / double(gold.size());
}

Average parse_average(const std::string& s) {
  if (s == "binary") return Average::Binary;
  if (s == "micro") return Average::Micro;
  if (s == "macro") return Average::Macro;
  if (s == "weighted") return Average::Weighted;
  throw InputError("unknown F1 average '" + s + "': expected binary, micro, macro or weighted");
}

static double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }
static PRF prf_from_counts(double tp, double fp, double fn) {
  PRF r;
  r.precision = safe_div(tp, tp + fp);
  r.recall = safe_div(tp, tp + fn);
  r.f1 = safe_div(2 * tp, 2 * tp + fp + fn);
  return r;
}

PRF precision_recall_f1(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold, Average average,
                        int64_t pos_label) {
  check_sizes(pred.size(), gold.size(), "precision/recall/F1");
  std::set<int64_t> labels(gold.begin(), gold.end());
  labels.insert(pred.begin(), pred.end());
  auto counts = [&](int64_t l, double& tp, double& fp, double& fn) {
    tp = fp = fn = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) {
      if (pred[i] == l && gold[i] == l) ++tp;
      else if (pred[i] == l) ++fp;
      else if (gold[i] == l) ++fn;
    }
  };
  PRF out;
  out.support = static_cast<int64_t>(gold.size());
  if (average == Average::Binary) {
    if (labels.size() > 2)
      throw InputError("F1 average 'binary' needs two classes, the data has " + std::to_string(labels.size()) +
                       ": use micro, macro or weighted");
    double tp, fp, fn;
    counts(pos_label, tp, fp, fn);
    PRF r = prf_from_counts(tp, fp, fn);
    r.support = out.support;
    return r;
  }
  if (average == Average::Micro) {
    double TP = 0, FP = 0, FN = 0;
    for (int64_t l : labels) {
      double tp, fp, fn;
      counts(l, tp, fp, fn);
      TP += tp, FP += fp, FN += fn;
    }
    PRF r = prf_from_counts(TP, FP, FN);
    r.support = out.support;
    return r;
  }
  double wsum = 0;
  for (int64_t l : labels) {
    double tp, fp, fn;
    counts(l, tp, fp, fn);
    PRF r = prf_from_counts(tp, fp, fn);
    double w = average == Average::Macro ? 1.0 : tp + fn;
    out.precision += w * r.precision;
    out.recall += w * r.recall;
    out.f1 += w * r.f1;
    wsum += w;
  }
  out.precision = safe_div(out.precision, wsum);
  out.recall = safe_div(out.recall, wsum);
  out.f1 = safe_div(out.f1, wsum);
  return out;
}

double matthews_corrcoef(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold) {
  check_sizes(pred.size(), gold.size(), "matthews_corrcoef");
  std::set<int64_t> ls(gold.begin(), gold.end());
  ls.insert(pred.begin(), pred.end());
  std::vector<int64_t> labels(ls.begin(), ls.end());
  auto idx = [&](int64_t v) { return std::lower_bound(labels.begin(), labels.end(), v) - labels.begin(); };
  std::vector<double> t_sum(labels.size()), p_sum(labels.size());
  double correct = 0, n = double(gold.size());
  for (std::size_t i = 0; i < gold.size(); ++i) {
    t_sum[idx(gold[i])] += 1;
    p_sum[idx(pred[i])] += 1;
    correct += gold[i] == pred[i];
  }
  double tp = 0, pp = 0, tt = 0;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    tp += t_sum[k] * p_sum[k];
    pp += p_sum[k] * p_sum[k];
    tt += t_sum[k] * t_sum[k];
  }
  double cov_ytyp = correct * n - tp, cov_ypyp = n * n - pp, cov_ytyt = n * n - tt;
  if (cov_ypyp * cov_ytyt == 0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw InputError("pearson: " + std::to_string(x.size()) + " vs " + std::to_string(y.size()) + " values");
  if (x.size() < 2) return 0;
  double mx = std::accumulate(x.begin(), x.end(), 0.0) / x.size();
  double my = std::accumulate(y.begin(), y.end(), 0.0) / y.size();
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::nan("");
  return sxy / std::sqrt(sxx * syy);
}

static std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    double avg = (double(i) + double(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(average_ranks(x), average_ranks(y));
}

// ---- seqeval ----
bool Entity::operator<(const Entity& o) const {
  return std::tie(type, begin, end) < std::tie(o.type, o.begin, o.end);
}
bool Entity::operator==(const Entity& o) const { return type == o.type && begin == o.begin && end == o.end; }

static void split_tag(const std::string& chunk, char& tag, std::string& type) {
  tag = chunk.empty() ? 'O' : chunk[0];
  // type_ = chunk[1:].split('-', maxsplit=1)[-1] or '_'
  std::string rest = chunk.size() > 1 ? chunk.substr(1) : "";
  auto dash = rest.find('-');
  type = dash == std::string::npos ? rest : rest.substr(dash + 1);
  if (type.empty()) type = "_";
}

static bool end_of_chunk(char pt, char t, const std::string& ptype, const std::string& type) {
  if (pt == 'E' || pt == 'S') return true;
  if ((pt == 'B' || pt == 'I') && (t == 'B' || t == 'S' || t == 'O')) return true;
  if (pt != 'O' && pt != '.' && ptype != type) return true;
  return false;
}
static bool start_of_chunk(char pt, char t, const std::string& ptype, const std::string& type) {
  if (t == 'B' || t == 'S') return true;
  if ((pt == 'E' || pt == 'S' || pt == 'O') && (t == 'E' || t == 'I')) return true;
  if (t != 'O' && t != '.' && ptype != type) return true;
  return false;
}

std::vector<Entity> get_entities(const std::vector<std::string>& tags) {
  std::vector<Entity> chunks;
  char prev_tag = 'O';
  std::string prev_type;
  int64_t begin = 0;
  for (std::size_t i = 0; i <= tags.size(); ++i) {
    char tag;
    std::string type;
    split_tag(i < tags.size() ? tags[i] : std::string("O"), tag, type);
    if (end_of_chunk(prev_tag, tag, prev_type, type)) chunks.push_back(Entity{prev_type, begin, int64_t(i) - 1});
    if (start_of_chunk(prev_tag, tag, prev_type, type)) begin = static_cast<int64_t>(i);
    prev_tag = tag;
    prev_type = type;
  }
  return chunks;
}

SeqevalReport seqeval(const std::vector<std::vector<std::string>>& gold,
                      const std::vector<std::vector<std::string>>& pred) {
  check_sizes(pred.size(), gold.size(), "seqeval (sentences)");
  std::map<std::string, std::set<std::pair<std::size_t, Entity>>> true_e, pred_e;
  std::size_t tokens = 0, tok_ok = 0;
  for (std::size_t s = 0; s < gold.size(); ++s) {
    if (gold[s].size() != pred[s].size())
      throw InputError("seqeval: sentence " + std::to_string(s) + " has " + std::to_string(pred[s].size()) +
                       " predicted tags for " + std::to_string(gold[s].size()) + " gold tags");
    for (auto& e : get_entities(gold[s])) true_e[e.type].insert({s, e});
    for (auto& e : get_entities(pred[s])) pred_e[e.type].insert({s, e});
    for (std::size_t i = 0; i < gold[s].size(); ++i) tok_ok += gold[s][i] == pred[s][i];
    tokens += gold[s].size();
  }
  std::set<std::string> types;
  for (auto& [t, _] : true_e) types.insert(t);
  for (auto& [t, _] : pred_e) types.insert(t);
  SeqevalReport r;
  r.accuracy = tokens ? double(tok_ok) / double(tokens) : 0.0;
  double TP = 0, NP = 0, NT = 0, wsum = 0;
  for (auto& t : types) {
    const auto& te = true_e[t];
    const auto& pe = pred_e[t];
    double tp = 0;
    for (auto& e : pe) tp += te.count(e);
    PRF p;
    p.precision = safe_div(tp, double(pe.size()));
    p.recall = safe_div(tp, double(te.size()));
    p.f1 = safe_div(2 * p.precision * p.recall, p.precision + p.recall);
    p.support = static_cast<int64_t>(te.size());
    r.per_type[t] = p;
    TP += tp, NP += pe.size(), NT += te.size();
    r.macro.precision += p.precision, r.macro.recall += p.recall, r.macro.f1 += p.f1;
    r.weighted.precision += p.support * p.precision, r.weighted.recall += p.support * p.recall,
        r.weighted.f1 += p.support * p.f1;
    wsum += p.support;
  }
  r.micro.precision = safe_div(TP, NP);
  r.micro.recall = safe_div(TP, NT);
  r.micro.f1 = safe_div(2 * r.micro.precision * r.micro.recall, r.micro.precision + r.micro.recall);
  r.micro.support = r.macro.support = r.weighted.support = static_cast<int64_t>(NT);
  double nt = double(types.size());
  r.macro.precision = safe_div(r.macro.precision, nt), r.macro.recall = safe_div(r.macro.recall, nt),
  r.macro.f1 = safe_div(r.macro.f1, nt);
  r.weighted.precision = safe_div(r.weighted.precision, wsum), r.weighted.recall = safe_div(r.weighted.recall, wsum),
  r.weighted.f1 = safe_div(r.weighted.f1, wsum);
  return r;
}

// ---- SQuAD ----
// Python's str.isspace() set (what str.split() splits on).
static bool py_space(char32_t c) {
  if ((c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
      (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000)
    return true;
  return false;
}
// Python's \w: letters, numbers, underscore.
static bool py_word(char32_t c) {
  if (c == '_') return true;
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  switch (cat) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}
static bool ascii_punct(char32_t c) {
  return c < 128 && std::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string squad_normalize(const std::string& s) {
  std::u32string t;
  for (char32_t c : utf8::decode(s)) {
    c = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
    if (!ascii_punct(c)) t.push_back(c);
  }
  // \b(a|an|the)\b -> ' '
  std::u32string u;
  for (std::size_t i = 0; i < t.size();) {
    bool boundary_before = i == 0 || !py_word(t[i - 1]);
    std::size_t len = 0;
    if (boundary_before) {
      for (const char32_t* w : {U"a", U"an", U"the"}) {
        std::u32string_view wv(w);
        if (t.compare(i, wv.size(), wv) == 0 && (i + wv.size() == t.size() || !py_word(t[i + wv.size()]))) {
          len = wv.size();
          break;
        }
      }
    }
    if (len) {
      u.push_back(U' ');
      i += len;
    } else {
      u.push_back(t[i++]);
    }
  }
  // ' '.join(text.split())
  std::u32string out;
  bool pending = false;
  for (char32_t c : u) {
    if (py_space(c)) {
      pending = !out.empty();
    } else {
      if (pending) out.push_back(U' ');
      pending = false;
      out.push_back(c);
    }
  }
  return utf8::encode(out);
}

static std::vector<std::string> split_spaces(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

double squad_exact(const std::string& pred, const std::string& gold) {
  return squad_normalize(pred) == squad_normalize(gold) ? 1.0 : 0.0;
}

double squad_f1(const std::string& pred, const std::string& gold, bool v2) {
  auto p = split_spaces(squad_normalize(pred));
  auto g = split_spaces(squad_normalize(gold));
  if (v2 && (p.empty() || g.empty())) return p == g ? 1.0 : 0.0;
  std::map<std::string, int> cg;
  for (auto& w : g) ++cg[w];
  double same = 0;
  for (auto& w : p) {
    auto it = cg.find(w);
    if (it != cg.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  double prec = same / p.size(), rec = same / g.size();
  return 2 * prec * rec / (prec + rec);
}

SquadScores squad_evaluate(const std::vector<SquadEvalItem>& items, bool v2) {
  SquadScores s;
  s.v2 = v2;
  s.total = static_cast<int64_t>(items.size());
  if (items.empty()) return s;
  std::vector<double> ex(items.size()), f1(items.size());
  std::vector<bool> has_ans(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::vector<std::string> gold;
    for (auto& g : items[i].gold)
      if (!v2 || !squad_normalize(g).empty()) gold.push_back(g);
    has_ans[i] = !gold.empty();
    if (gold.empty()) {
      if (!v2) {
        ex[i] = f1[i] = 0;  // v1.1 has an answer for every question
        continue;
      }
      gold.push_back("");
    }
    for (auto& g : gold) {
      ex[i] = std::max(ex[i], squad_exact(items[i].prediction, g));
      f1[i] = std::max(f1[i], squad_f1(items[i].prediction, g, v2));
    }
  }
  double n = double(items.size());
  s.exact = 100.0 * std::accumulate(ex.begin(), ex.end(), 0.0) / n;
  s.f1 = 100.0 * std::accumulate(f1.begin(), f1.end(), 0.0) / n;
  if (!v2) return s;
  double he = 0, hf = 0, ne = 0, nf = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (has_ans[i]) {
      he += ex[i], hf += f1[i], ++s.has_ans_total;
    } else {
      ne += ex[i], nf += f1[i], ++s.no_ans_total;
    }
  }
  if (s.has_ans_total) s.has_ans_exact = 100.0 * he / s.has_ans_total, s.has_ans_f1 = 100.0 * hf / s.has_ans_total;
  if (s.no_ans_total) s.no_ans_exact = 100.0 * ne / s.no_ans_total, s.no_ans_f1 = 100.0 * nf / s.no_ans_total;
  // find_best_thresh with na_prob = null_score_diff.
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return items[a].null_score_diff < items[b].null_score_diff; });
  auto best = [&](const std::vector<double>& scores, double& best_pct, double& thresh) {
    double cur = double(s.no_ans_total), best_score = cur;
    thresh = 0.0;
    for (std::size_t i : order) {
      double diff = has_ans[i] ? scores[i] : (items[i].prediction.empty() ? 0.0 : -1.0);
      cur += diff;
      if (cur > best_score) {
        best_score = cur;
        thresh = items[i].null_score_diff;
      }
    }
    best_pct = 100.0 * best_score / n;
  };
  best(ex, s.best_exact, s.best_exact_thresh);
  best(f1, s.best_f1, s.best_f1_thresh);
  return s;
}

}  // namespace bertkit
