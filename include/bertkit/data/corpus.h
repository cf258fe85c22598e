// Raw text corpora for pretraining: files of documents, plain or gzip.
//   bert:          one sentence per line, a blank line between documents
//                  (the format of BERT's create_pretraining_data.py)
//   doc_per_line:  one document per line; sentences split at . ! ? followed by a space
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bertkit {

enum class CorpusFormat { Bert, DocPerLine };
CorpusFormat parse_corpus_format(const std::string& s);  // "bert" | "doc_per_line"; InputError otherwise

struct Document {
  std::vector<std::string> sentences;
};

// Call `fn` for each line of a plain or gzip file (detected by its magic
// bytes, not its name), without the line terminator ("\n" or "\r\n").
// InputError naming the path when it cannot be read or the gzip is corrupt.
void for_each_line(const std::string& path, const std::function<void(std::string_view)>& fn);

// Split a paragraph into sentences at '.', '!' or '?' (plus closing quotes or
// brackets) followed by whitespace. Used for doc_per_line input.
std::vector<std::string> split_sentences(std::string_view text);

// Read every document of `paths` in order. Empty documents are dropped.
// InputError "file:line: not valid UTF-8 at byte N of the line" for a line
// that is not UTF-8.
std::vector<Document> read_corpus(const std::vector<std::string>& paths, CorpusFormat format);

// Expand files and directories (every regular file inside, sorted) into a
// sorted list of files; InputError for a path that does not exist.
std::vector<std::string> expand_corpus_paths(const std::vector<std::string>& paths);

}  // namespace bertkit
