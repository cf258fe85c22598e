#include "bertkit/data/conll.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"

namespace bertkit {

TagScheme parse_tag_scheme(const std::string& s) {
  if (s == "auto") return TagScheme::Auto;
  if (s == "iob1") return TagScheme::IOB1;
  if (s == "iob2") return TagScheme::IOB2;
  throw InputError("unknown tag scheme '" + s + "': expected auto, iob1 or iob2");
}

static std::string tag_type(const std::string& t) {
  if (t.size() > 2 && t[1] == '-') return t.substr(2);
  return t == "O" ? "" : t;
}
// 'B'/'I'/... for prefixed tags; 'O' for O and for tags without a prefix
// (left as they are: not an IOB scheme).
static char tag_prefix(const std::string& t) {
  if (t.size() > 2 && t[1] == '-') return t[0];
  return 'O';
}

std::vector<std::string> iob1_to_iob2(const std::vector<std::string>& tags) {
  std::vector<std::string> out = tags;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (tag_prefix(tags[i]) != 'I') continue;
    const std::string type = tag_type(tags[i]);
    bool continues = i > 0 && tag_prefix(tags[i - 1]) != 'O' && tag_type(tags[i - 1]) == type;
    if (!continues) out[i] = "B-" + type;
  }
  return out;
}

bool looks_like_iob1(const std::vector<TaggedSentence>& sentences) {
  bool i_starts = false;
  for (auto& s : sentences) {
    for (std::size_t i = 0; i < s.tags.size(); ++i) {
      char p = tag_prefix(s.tags[i]);
      bool prev_same = i > 0 && tag_prefix(s.tags[i - 1]) != 'O' && tag_type(s.tags[i - 1]) == tag_type(s.tags[i]);
      if (p == 'B' && !prev_same) return false;  // IOB2 B- at an entity start
      if (p == 'I' && !prev_same) i_starts = true;
    }
  }
  return i_starts;
}

std::vector<TaggedSentence> read_conll(const std::string& path, const ConllReadOptions& o) {
  const std::string data = read_file(path);
  std::vector<TaggedSentence> out;
  TaggedSentence cur;
  std::size_t pos = 0, line = 0;
  auto flush = [&] {
    if (!cur.words.empty()) out.push_back(std::move(cur));
    cur = TaggedSentence();
  };
  while (pos <= data.size()) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    std::string l = data.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    if (line == 1 && l.size() >= 3 && (unsigned char)l[0] == 0xEF && (unsigned char)l[1] == 0xBB) l = l.substr(3);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    std::vector<std::string> fields;
    if (l.find('\t') != std::string::npos) {
      std::size_t s = 0;
      while (true) {
        std::size_t t = l.find('\t', s);
        fields.push_back(l.substr(s, t == std::string::npos ? std::string::npos : t - s));
        if (t == std::string::npos) break;
        s = t + 1;
      }
      while (!fields.empty() && fields.back().find_first_not_of(' ') == std::string::npos) fields.pop_back();
    } else {
      std::istringstream is(l);
      std::string f;
      while (is >> f) fields.push_back(f);
    }
    if (fields.empty()) {
      flush();
      if (nl >= data.size()) break;
      continue;
    }
    if (fields[0] == "-DOCSTART-") {
      flush();
      continue;
    }
    if (cur.words.empty()) cur.line = line;
    const std::string where = path + ":" + std::to_string(line);
    if (o.labelled) {
      if (fields.size() < 2)
        throw InputError(where + ": expected 'token [columns...] tag' (tab- or space-separated), got one field");
      int tc = o.tag_column < 0 ? static_cast<int>(fields.size()) - 1 : o.tag_column;
      if (tc >= static_cast<int>(fields.size()) || tc == 0)
        throw InputError(where + ": tag column " + std::to_string(tc) + " out of range (the line has " +
                         std::to_string(fields.size()) + " fields)");
      cur.words.push_back(fields[0]);
      cur.tags.push_back(fields[tc]);
    } else {
      cur.words.push_back(fields[0]);
    }
    if (nl >= data.size()) break;
  }
  flush();
  if (o.labelled) {
    bool convert = o.scheme == TagScheme::IOB1 || (o.scheme == TagScheme::Auto && looks_like_iob1(out));
    if (convert)
      for (auto& s : out) s.tags = iob1_to_iob2(s.tags);
  }
  return out;
}

std::vector<std::string> collect_tags(const std::vector<TaggedSentence>& sentences) {
  std::set<std::string> seen;
  for (auto& s : sentences)
    for (auto& t : s.tags) seen.insert(t);
  std::vector<std::string> out;
  if (seen.count("O")) out.push_back("O");
  for (auto& t : seen)
    if (t != "O") out.push_back(t);
  return out;
}

std::vector<NerFeature> make_ner_features(const Tokenizer& tok, const std::vector<std::string>& words,
                                          const std::vector<int32_t>& label_ids, const NerFeatureOptions& o,
                                          std::size_t sentence_index, const std::vector<int32_t>& b_to_i) {
  BERTKIT_CHECK_INPUT(o.max_seq_length >= 3, "max_seq_length must be at least 3 for NER windows");
  BERTKIT_CHECK_INPUT(label_ids.empty() || label_ids.size() == words.size(),
                      "NER: " + std::to_string(label_ids.size()) + " labels for " + std::to_string(words.size()) + " words");
  EncodeOptions eo;
  eo.add_special_tokens = false;
  Encoding enc = tok.encode_words(words, eo);
  const auto& sp = tok.special_tokens();
  const std::size_t cap = o.max_seq_length - 2;
  const std::size_t n = enc.ids.size();
  // Window boundaries at word starts.
  std::vector<std::pair<std::size_t, std::size_t>> windows;
  std::size_t start = 0;
  while (start < n) {
    std::size_t end = std::min(n, start + cap);
    if (end < n) {
      // back off to the start of the word that straddles the boundary
      std::size_t e = end;
      while (e > start && enc.word_ids[e] == enc.word_ids[e - 1]) --e;
      if (e > start) end = e;  // else: one word longer than a window, split it
    }
    windows.emplace_back(start, end);
    start = end;
  }
  if (windows.empty()) windows.emplace_back(0, 0);
  std::vector<NerFeature> out;
  for (auto [s, e] : windows) {
    NerFeature f;
    f.sentence = sentence_index;
    f.input_ids.push_back(sp.cls);
    f.labels.push_back(-100);
    f.word_index.push_back(-1);
    f.first_of_word.push_back(0);
    for (std::size_t i = s; i < e; ++i) {
      int32_t w = enc.word_ids[i];
      bool first = w >= 0 && (i == 0 || enc.word_ids[i - 1] != w);
      f.input_ids.push_back(enc.ids[i]);
      f.word_index.push_back(w);
      f.first_of_word.push_back(first ? 1 : 0);
      int32_t lab = -100;
      if (!label_ids.empty() && w >= 0) {
        if (first)
          lab = label_ids[w];
        else if (o.label_all_tokens)
          lab = b_to_i.empty() ? label_ids[w] : b_to_i[label_ids[w]];
      }
      f.labels.push_back(lab);
    }
    f.input_ids.push_back(sp.sep);
    f.labels.push_back(-100);
    f.word_index.push_back(-1);
    f.first_of_word.push_back(0);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<int32_t> word_predictions(const std::vector<const NerFeature*>& windows,
                                      const std::vector<std::vector<int32_t>>& preds, std::size_t num_words,
                                      int32_t fallback) {
  std::vector<int32_t> out(num_words, fallback);
  std::vector<uint8_t> set(num_words, 0);
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const auto& f = *windows[k];
    for (std::size_t i = 0; i < f.input_ids.size() && i < preds[k].size(); ++i) {
      int32_t w = f.word_index[i];
      if (w < 0 || w >= static_cast<int32_t>(num_words) || set[w]) continue;
      if (!f.first_of_word[i]) continue;
      out[w] = preds[k][i];
      set[w] = 1;
    }
  }
  return out;
}

}  // namespace bertkit
