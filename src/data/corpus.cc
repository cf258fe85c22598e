#include "bertkit/data/corpus.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include <zlib.h>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"

namespace bertkit {

CorpusFormat parse_corpus_format(const std::string& s) {
  if (s == "bert") return CorpusFormat::Bert;
  if (s == "doc_per_line") return CorpusFormat::DocPerLine;
  throw InputError("corpus format \"" + s + "\": expected bert (sentence per line, blank line between documents) or doc_per_line");
}

void for_each_line(const std::string& path, const std::function<void(std::string_view)>& fn) {
  // gzopen reads plain files transparently, so one code path serves both.
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open for reading (does it exist and is it readable?)");
  gzbuffer(f, 1 << 18);
  std::string pending;
  std::vector<char> buf(1 << 18);
  while (true) {
    int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int errnum = 0;
      std::string msg = gzerror(f, &errnum);
      gzclose(f);
      throw InputError(path + ": cannot decompress: " + msg);
    }
    if (n == 0) break;
    std::size_t start = 0;
    for (int i = 0; i < n; ++i) {
      if (buf[i] != '\n') continue;
      pending.append(buf.data() + start, i - start);
      if (!pending.empty() && pending.back() == '\r') pending.pop_back();
      fn(pending);
      pending.clear();
      start = i + 1;
    }
    pending.append(buf.data() + start, n - start);
  }
  gzclose(f);
  if (!pending.empty()) {
    if (pending.back() == '\r') pending.pop_back();
    fn(pending);
  }
}

namespace {
std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}
}  // namespace

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '.' && c != '!' && c != '?') continue;
    std::size_t j = i + 1;
    while (j < text.size() && (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']')) ++j;
    if (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) continue;
    auto s = trim(text.substr(start, j - start));
    if (!s.empty()) out.emplace_back(s);
    start = j;
    i = j;
  }
  auto s = trim(text.substr(std::min(start, text.size())));
  if (!s.empty()) out.emplace_back(s);
  return out;
}

namespace {
// InputError "path:line: ... at byte N of the line" at the first byte of `line` that does not
// start a well-formed UTF-8 sequence. A corpus is text: bytes that are not
// UTF-8 would otherwise reach the tokenizer as [UNK]s or be dropped silently.
void check_utf8(std::string_view line, const std::string& path, std::size_t line_number) {
  for (std::size_t i = 0; i < line.size();) {
    if (const std::size_t n = utf8::sequence_length(line, i)) {
      i += n;
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(line[i]));
    throw InputError(path + ":" + std::to_string(line_number) + ": not valid UTF-8 at byte " + std::to_string(i + 1) +
                     " of the line (" + hex + "; expected UTF-8 text)");
  }
}
}  // namespace

std::vector<Document> read_corpus(const std::vector<std::string>& paths, CorpusFormat format) {
  std::vector<Document> docs;
  for (const auto& path : paths) {
    Document cur;
    std::size_t line_number = 0;
    for_each_line(path, [&](std::string_view raw) {
      check_utf8(raw, path, ++line_number);
      auto line = trim(raw);
      if (format == CorpusFormat::DocPerLine) {
        if (line.empty()) return;
        Document d;
        d.sentences = split_sentences(line);
        if (!d.sentences.empty()) docs.push_back(std::move(d));
        return;
      }
      if (line.empty()) {
        if (!cur.sentences.empty()) docs.push_back(std::move(cur));
        cur = Document{};
      } else {
        cur.sentences.emplace_back(line);
      }
    });
    // A file ends a document.
    if (!cur.sentences.empty()) docs.push_back(std::move(cur));
  }
  return docs;
}

std::vector<std::string> expand_corpus_paths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> inside;
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) inside.push_back(e.path().string());
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      throw InputError(p + ": no such file or directory (expected a text file, a .gz file or a folder of them)");
    }
  }
  if (files.empty()) throw InputError("no input files found");
  return files;
}

}  // namespace bertkit
