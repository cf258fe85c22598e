// Text-classification datasets: GLUE TSV (header, no quoting), CSV (RFC 4180)
// and JSONL; columns chosen by name or 0-based index; single sentences or
// pairs; string or integer labels, regression values, multi-label lists.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bertkit {

enum class TableFormat { Auto, Tsv, Csv, Jsonl };
// "auto" | "tsv" | "csv" | "jsonl"; InputError otherwise.
TableFormat parse_table_format(const std::string& s);
// Auto -> by extension (.tsv/.txt: TSV, .csv: CSV, .jsonl/.json: JSONL).
TableFormat resolve_table_format(TableFormat f, const std::string& path);

// Rows of a delimited file with the 1-based line each row starts on.
struct Table {
  std::vector<std::string> header;               // empty when the file has none
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> lines;
};
// GLUE TSV: fields split on tabs, no quoting (quotes are literal), CR and a
// UTF-8 BOM stripped, blank lines skipped.
Table parse_tsv(std::string_view data, bool header);
// RFC 4180 CSV: fields may be quoted ("" escapes a quote, quoted fields may
// hold commas and newlines), CRLF or LF. InputError naming `where` and the line
// for an unterminated quote or text after a closing quote.
Table parse_csv(std::string_view data, bool header, const std::string& where = "<csv>");

struct ClassificationColumns {
  std::string text = "sentence";  // a column name, or a 0-based index written in digits
  std::string text_pair;          // empty: single sentences
  std::string label = "label";    // empty: unlabelled (prediction input)
};

struct ClassificationReadOptions {
  TableFormat format = TableFormat::Auto;
  ClassificationColumns columns;
  bool header = true;                 // TSV/CSV: the first row names the columns
  std::string label_separator;        // multi-label in TSV/CSV: split the label field on it
  bool skip_unlabelled = false;       // drop rows whose label is empty or "-1" (GLUE test files)
};

struct ClassificationExample {
  std::string text;
  std::string text_pair;
  bool has_pair = false;
  // One label (single-label / regression), any number (multi-label), or none (unlabelled).
  std::vector<std::string> labels;
  std::size_t line = 0;  // 1-based line in the file
};

// Read a dataset; InputError naming the file, line and column when a column
// is missing or a row is short.
std::vector<ClassificationExample> read_classification(const std::string& path,
                                                       const ClassificationReadOptions& options);

// The sorted distinct labels of `examples` (numerically when all are
// integers, else lexicographically): the label list a new head is built with.
std::vector<std::string> collect_labels(const std::vector<ClassificationExample>& examples);

}  // namespace bertkit
