#include "bertkit/tokenizers/trainer.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/parallel.h"

namespace bertkit {

namespace {

using PairKey = uint64_t;
inline PairKey key(int32_t a, int32_t b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
inline int32_t first(PairKey k) { return static_cast<int32_t>(k >> 32); }
inline int32_t second(PairKey k) { return static_cast<int32_t>(k & 0xFFFFFFFFu); }

struct Candidate {
  uint64_t count;
  PairKey pair;
  // Max-heap: highest count first, then the lowest pair (HF's Merge ordering).
  bool operator<(const Candidate& o) const {
    if (count != o.count) return count < o.count;
    return pair > o.pair;
  }
};

}  // namespace

WordPieceTrainResult train_wordpiece_from_counts(const std::vector<std::pair<std::string, uint64_t>>& counts,
                                                 const WordPieceTrainOptions& o) {
  WordPieceTrainResult result;
  std::vector<std::string>& vocab = result.vocab;
  std::unordered_map<std::string, int32_t> ids;
  auto add = [&](const std::string& t) {
    auto it = ids.find(t);
    if (it != ids.end()) return it->second;
    int32_t id = static_cast<int32_t>(vocab.size());
    vocab.push_back(t);
    ids.emplace(t, id);
    return id;
  };
  for (const auto& s : o.special_tokens) add(s);

  // 1. Alphabet: characters weighted by word counts, the limit_alphabet most frequent.
  std::unordered_map<char32_t, uint64_t> char_counts;
  for (const auto& [w, c] : counts) {
    for (std::size_t i = 0; i < w.size();) char_counts[utf8::next(w, i)] += c;
  }
  std::unordered_set<char32_t> forced;
  for (const auto& s : o.initial_alphabet) {
    std::size_t i = 0;
    if (!s.empty()) forced.insert(utf8::next(s, i));
  }
  std::vector<std::pair<char32_t, uint64_t>> chars(char_counts.begin(), char_counts.end());
  for (char32_t c : forced)
    if (!char_counts.count(c)) chars.emplace_back(c, UINT64_MAX);
  for (auto& [c, n] : chars)
    if (forced.count(c)) n = UINT64_MAX;
  if (o.limit_alphabet > 0 && chars.size() > o.limit_alphabet) {
    std::sort(chars.begin(), chars.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    chars.resize(std::max(o.limit_alphabet, forced.size()));
  }
  std::sort(chars.begin(), chars.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::unordered_set<char32_t> alphabet;
  for (const auto& [c, n] : chars) {
    alphabet.insert(c);
    std::string s;
    utf8::append(s, c);
    add(s);
  }

  // 2. Words as symbol ids: the first character alone, the others "##c".
  std::vector<std::vector<int32_t>> words;
  std::vector<uint64_t> wcounts;
  words.reserve(counts.size());
  {
    std::map<std::string, bool> continuation;  // sorted, for deterministic ids
    for (const auto& [w, c] : counts) {
      bool first_char = true;
      for (std::size_t i = 0; i < w.size();) {
        char32_t ch = utf8::next(w, i);
        if (!alphabet.count(ch)) continue;
        if (!first_char) {
          std::string s = o.prefix;
          utf8::append(s, ch);
          continuation[s] = true;
        }
        first_char = false;
      }
    }
    for (const auto& [s, unused] : continuation) add(s);
    for (const auto& [w, c] : counts) {
      std::vector<int32_t> syms;
      bool first_char = true;
      for (std::size_t i = 0; i < w.size();) {
        char32_t ch = utf8::next(w, i);
        if (!alphabet.count(ch)) continue;
        std::string s = first_char ? std::string() : o.prefix;
        utf8::append(s, ch);
        syms.push_back(ids.at(s));
        first_char = false;
      }
      if (!syms.empty()) {
        words.push_back(std::move(syms));
        wcounts.push_back(c);
      }
    }
  }

  // 3. Merges.
  std::unordered_map<PairKey, uint64_t> pair_counts;
  std::unordered_map<PairKey, std::unordered_set<uint32_t>> where;
  for (uint32_t wi = 0; wi < words.size(); ++wi) {
    const auto& s = words[wi];
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      PairKey k = key(s[i], s[i + 1]);
      pair_counts[k] += wcounts[wi];
      where[k].insert(wi);
    }
  }
  std::priority_queue<Candidate> heap;
  for (const auto& [k, c] : pair_counts) heap.push({c, k});
  while (vocab.size() < o.vocab_size && !heap.empty()) {
    Candidate top = heap.top();
    heap.pop();
    auto it = pair_counts.find(top.pair);
    uint64_t current = it == pair_counts.end() ? 0 : it->second;
    if (current != top.count) {  // stale entry
      if (current > 0) heap.push({current, top.pair});
      continue;
    }
    if (top.count < std::max<uint64_t>(o.min_frequency, 1)) break;
    const int32_t a = first(top.pair), b = second(top.pair);
    std::string part_b = vocab[static_cast<std::size_t>(b)];
    if (!o.prefix.empty() && part_b.compare(0, o.prefix.size(), o.prefix) == 0) part_b = part_b.substr(o.prefix.size());
    const int32_t merged = add(vocab[static_cast<std::size_t>(a)] + part_b);
    ++result.merges;
    std::unordered_set<uint32_t> affected = std::move(where[top.pair]);
    where.erase(top.pair);
    std::unordered_map<PairKey, uint64_t> changed;
    for (uint32_t wi : affected) {
      auto& s = words[wi];
      const uint64_t c = wcounts[wi];
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        PairKey k = key(s[i], s[i + 1]);
        pair_counts[k] -= c;
        changed[k];
      }
      std::vector<int32_t> next;
      next.reserve(s.size());
      for (std::size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          next.push_back(merged);
          i += 2;
        } else {
          next.push_back(s[i]);
          ++i;
        }
      }
      s = std::move(next);
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        PairKey k = key(s[i], s[i + 1]);
        pair_counts[k] += c;
        where[k].insert(wi);
        changed[k];
      }
    }
    for (const auto& [k, unused] : changed) {
      auto pc = pair_counts.find(k);
      if (pc == pair_counts.end()) continue;
      if (pc->second == 0) {
        pair_counts.erase(pc);
        where.erase(k);
      } else {
        heap.push({pc->second, k});
      }
    }
  }
  return result;
}

WordPieceTrainResult train_wordpiece(const WordPieceTrainOptions& o) {
  if (o.inputs.empty()) throw InputError("wordpiece training: no input files");
  if (o.vocab_size < o.special_tokens.size())
    throw InputError("wordpiece training: vocab_size " + std::to_string(o.vocab_size) + " is smaller than the " +
                     std::to_string(o.special_tokens.size()) + " special tokens");
  std::vector<std::string> files;
  for (const auto& f : o.inputs) {
    if (dir_exists(f)) throw InputError(f + ": is a directory; give text files");
    if (!file_exists(f)) throw InputError(f + ": no such training file");
    files.push_back(f);
  }
  WordPieceConfig cfg;
  cfg.normalizer = o.normalizer;
  WordPieceTokenizer pre({"[UNK]"}, cfg);

  const unsigned threads = resolve_threads(o.threads);
  std::unordered_map<std::string, uint64_t> total;
  uint64_t occurrences = 0;
  for (const auto& f : files) {
    std::string text = read_file(f);
    // Line starts, split into one range per thread.
    std::vector<std::size_t> cuts = {0};
    for (unsigned t = 1; t < threads; ++t) {
      std::size_t p = text.size() * t / threads;
      std::size_t nl = text.find('\n', p);
      cuts.push_back(nl == std::string::npos ? text.size() : nl + 1);
    }
    cuts.push_back(text.size());
    std::vector<std::unordered_map<std::string, uint64_t>> local(threads);
    parallel_for(threads, threads, [&](std::size_t t) {
      std::vector<std::string> words;
      std::size_t pos = cuts[t];
      const std::size_t stop = std::max(cuts[t], cuts[t + 1]);
      while (pos < stop) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos || nl > stop) nl = stop;
        words.clear();
        pre.pre_tokenize(std::string_view(text).substr(pos, nl - pos), words);
        for (auto& w : words) ++local[t][w];
        pos = nl + 1;
      }
    });
    for (auto& m : local)
      for (auto& [w, c] : m) {
        total[w] += c;
        occurrences += c;
      }
  }
  std::vector<std::pair<std::string, uint64_t>> counts(total.begin(), total.end());
  std::sort(counts.begin(), counts.end());
  WordPieceTrainResult r = train_wordpiece_from_counts(counts, o);
  r.words = counts.size();
  r.word_occurrences = occurrences;
  return r;
}

}  // namespace bertkit
