#include "bertkit/data/classification.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"

namespace bertkit {

TableFormat parse_table_format(const std::string& s) {
  if (s == "auto") return TableFormat::Auto;
  if (s == "tsv") return TableFormat::Tsv;
  if (s == "csv") return TableFormat::Csv;
  if (s == "jsonl") return TableFormat::Jsonl;
  throw InputError("unknown data format '" + s + "': expected auto, tsv, csv or jsonl");
}

static bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

TableFormat resolve_table_format(TableFormat f, const std::string& path) {
  if (f != TableFormat::Auto) return f;
  std::string p = path;
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ends_with(p, ".csv")) return TableFormat::Csv;
  if (ends_with(p, ".jsonl") || ends_with(p, ".json") || ends_with(p, ".ndjson")) return TableFormat::Jsonl;
  if (ends_with(p, ".tsv") || ends_with(p, ".txt")) return TableFormat::Tsv;
  throw InputError(path + ": cannot tell the format from the extension: set data.format to tsv, csv or jsonl");
}

static std::string_view strip_bom(std::string_view d) {
  if (d.size() >= 3 && (unsigned char)d[0] == 0xEF && (unsigned char)d[1] == 0xBB && (unsigned char)d[2] == 0xBF)
    d.remove_prefix(3);
  return d;
}

Table parse_tsv(std::string_view data, bool header) {
  data = strip_bom(data);
  Table t;
  std::size_t pos = 0, line = 0;
  bool first = true;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    std::string_view l = data.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    std::vector<std::string> fields;
    std::size_t s = 0;
    while (true) {
      std::size_t tab = l.find('\t', s);
      if (tab == std::string_view::npos) {
        fields.emplace_back(l.substr(s));
        break;
      }
      fields.emplace_back(l.substr(s, tab - s));
      s = tab + 1;
    }
    if (first && header) {
      t.header = std::move(fields);
    } else {
      t.rows.push_back(std::move(fields));
      t.lines.push_back(line);
    }
    first = false;
  }
  return t;
}

Table parse_csv(std::string_view data, bool header, const std::string& where) {
  data = strip_bom(data);
  Table t;
  std::size_t i = 0, line = 1;
  bool first = true;
  const std::size_t n = data.size();
  while (i < n) {
    std::size_t row_line = line;
    std::vector<std::string> fields;
    std::string field;
    bool row_done = false;
    // Skip a fully blank line.
    if (data[i] == '\n' || (data[i] == '\r' && i + 1 < n && data[i + 1] == '\n')) {
      i += data[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    while (!row_done) {
      field.clear();
      if (i < n && data[i] == '"') {
        ++i;
        std::size_t quote_line = line;
        while (true) {
          if (i >= n)
            throw InputError(where + ":" + std::to_string(quote_line) + ": unterminated quoted field (RFC 4180: close it with \")");
          char c = data[i];
          if (c == '"') {
            if (i + 1 < n && data[i + 1] == '"') {
              field.push_back('"');
              i += 2;
            } else {
              ++i;
              break;
            }
          } else {
            if (c == '\n') ++line;
            field.push_back(c);
            ++i;
          }
        }
        if (i < n && data[i] != ',' && data[i] != '\n' && !(data[i] == '\r' && i + 1 < n && data[i + 1] == '\n') &&
            !(data[i] == '\r' && i + 1 == n))
          throw InputError(where + ":" + std::to_string(line) +
                           ": text after a closing quote (expected a comma or the end of the line)");
      } else {
        while (i < n && data[i] != ',' && data[i] != '\n') {
          if (data[i] == '\r' && (i + 1 == n || data[i + 1] == '\n')) break;
          field.push_back(data[i]);
          ++i;
        }
      }
      fields.push_back(field);
      if (i >= n) {
        row_done = true;
      } else if (data[i] == ',') {
        ++i;
      } else {
        if (data[i] == '\r') ++i;
        if (i < n && data[i] == '\n') ++i;
        ++line;
        row_done = true;
      }
    }
    if (first && header) {
      t.header = std::move(fields);
    } else {
      t.rows.push_back(std::move(fields));
      t.lines.push_back(row_line);
    }
    first = false;
  }
  return t;
}

static bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Column spec -> index in the table (name looked up in the header first).
static int column_index(const Table& t, const std::string& spec, const std::string& path, const std::string& key) {
  if (spec.empty()) return -1;
  for (std::size_t i = 0; i < t.header.size(); ++i)
    if (t.header[i] == spec) return static_cast<int>(i);
  if (all_digits(spec)) return std::stoi(spec);
  std::string names;
  for (auto& h : t.header) names += (names.empty() ? "" : ", ") + h;
  throw InputError(path + ": no column '" + spec + "' (data." + key + "); the header has: " +
                   (names.empty() ? "(no header: give a 0-based index)" : names));
}

static bool is_unlabelled(const std::string& s) { return s.empty() || s == "-1"; }

static std::vector<std::string> split_labels(const std::string& field, const std::string& sep) {
  if (sep.empty()) return {field};
  std::vector<std::string> out;
  std::size_t s = 0;
  while (true) {
    std::size_t p = field.find(sep, s);
    std::string part = field.substr(s, p == std::string::npos ? std::string::npos : p - s);
    // trim spaces
    auto b = part.find_first_not_of(' ');
    auto e = part.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
    if (p == std::string::npos) break;
    s = p + sep.size();
  }
  return out;
}

static std::string json_scalar(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return std::to_string(v.get<long long>());
  if (v.is_number_float()) {
    std::string s = v.dump();
    return s;
  }
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  throw InputError(where + ": expected a string or a number, got " + std::string(v.type_name()));
}

std::vector<ClassificationExample> read_classification(const std::string& path,
                                                       const ClassificationReadOptions& o) {
  const TableFormat fmt = resolve_table_format(o.format, path);
  const std::string data = read_file(path);
  std::vector<ClassificationExample> out;
  const auto& c = o.columns;
  if (fmt == TableFormat::Jsonl) {
    std::size_t pos = 0, line = 0;
    std::string_view d = strip_bom(data);
    while (pos < d.size()) {
      std::size_t nl = d.find('\n', pos);
      if (nl == std::string_view::npos) nl = d.size();
      std::string_view l = d.substr(pos, nl - pos);
      pos = nl + 1;
      ++line;
      if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const std::string where = path + ":" + std::to_string(line);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(l);
      } catch (const nlohmann::json::parse_error& e) {
        throw InputError(where + ": not valid JSON (" + e.what() + ")");
      }
      if (!j.is_object()) throw InputError(where + ": expected a JSON object per line");
      auto get = [&](const std::string& key, const std::string& what) -> const nlohmann::json* {
        if (key.empty()) return nullptr;
        auto it = j.find(key);
        if (it == j.end()) throw InputError(where + ": no key '" + key + "' (data." + what + ")");
        return &*it;
      };
      ClassificationExample ex;
      ex.line = line;
      ex.text = json_scalar(*get(c.text, "text_column"), where + ": key '" + c.text + "'");
      if (const auto* p = get(c.text_pair, "text_pair_column")) {
        ex.text_pair = json_scalar(*p, where + ": key '" + c.text_pair + "'");
        ex.has_pair = true;
      }
      if (!c.label.empty()) {
        auto it = j.find(c.label);
        if (it != j.end() && !it->is_null()) {
          if (it->is_array()) {
            for (auto& v : *it) ex.labels.push_back(json_scalar(v, where + ": key '" + c.label + "'"));
          } else {
            std::string s = json_scalar(*it, where + ": key '" + c.label + "'");
            ex.labels = split_labels(s, o.label_separator);
            if (o.skip_unlabelled && is_unlabelled(s)) continue;
          }
        } else if (o.skip_unlabelled) {
          continue;
        } else {
          throw InputError(where + ": no key '" + c.label + "' (data.label_column)");
        }
      }
      out.push_back(std::move(ex));
    }
    return out;
  }
  Table t = fmt == TableFormat::Tsv ? parse_tsv(data, o.header) : parse_csv(data, o.header, path);
  const int ti = column_index(t, c.text, path, "text_column");
  const int pi = column_index(t, c.text_pair, path, "text_pair_column");
  int li = -1;
  if (!c.label.empty()) {
    // A label column absent from the header (GLUE test files) means unlabelled data.
    bool in_header = std::find(t.header.begin(), t.header.end(), c.label) != t.header.end();
    if (in_header || all_digits(c.label) || !o.skip_unlabelled) li = column_index(t, c.label, path, "label_column");
  }
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    const std::string where = path + ":" + std::to_string(t.lines[r]);
    auto field = [&](int idx, const std::string& name) -> const std::string& {
      if (idx >= static_cast<int>(row.size()))
        throw InputError(where + ": the row has " + std::to_string(row.size()) + " fields, column '" + name +
                         "' is field " + std::to_string(idx) + (fmt == TableFormat::Tsv ? " (TSV: tab-separated, no quoting)" : ""));
      return row[idx];
    };
    ClassificationExample ex;
    ex.line = t.lines[r];
    ex.text = field(ti, c.text);
    if (pi >= 0) {
      ex.text_pair = field(pi, c.text_pair);
      ex.has_pair = true;
    }
    if (li >= 0) {
      const std::string& s = field(li, c.label);
      if (o.skip_unlabelled && is_unlabelled(s)) continue;
      ex.labels = split_labels(s, o.label_separator);
    }
    out.push_back(std::move(ex));
  }
  return out;
}

static bool is_integer(const std::string& s) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  return i < s.size() && std::all_of(s.begin() + i, s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string> collect_labels(const std::vector<ClassificationExample>& examples) {
  std::set<std::string> seen;
  for (auto& e : examples)
    for (auto& l : e.labels) seen.insert(l);
  std::vector<std::string> out(seen.begin(), seen.end());
  bool ints = !out.empty() && std::all_of(out.begin(), out.end(), is_integer);
  if (ints)
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  return out;
}

}  // namespace bertkit
