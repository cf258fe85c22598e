// Strict, typed JSON helpers for configuration files (docs/architecture.md).
// No torch here: the core layer.
//
//   Json j = json::load_file("run.json");            // errors name file:line:column
//   json::ObjectReader r(j.at("train"), "train");     // an object at key path "train"
//   double lr = r.get("learning_rate", 5e-5);         // optional with default
//   int64_t steps = r.required<int64_t>("max_steps"); // required
//   r.finish();                                       // unknown keys -> InputError
//
// Every error is an InputError naming the key path and what was expected,
// e.g.  train.learning_rate: expected a number, got "abc"
//       train: unknown key "lr" (valid keys: batch_size, learning_rate, ...)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertkit::json {

using Json = nlohmann::json;

// Parse JSON text; `where` (usually the file name) is named in the error with
// line:column of the syntax error.
Json parse(const std::string& text, const std::string& where);
// Read and parse a file (InputError naming path:line:column).
Json load_file(const std::string& path);
// Write `j` atomically, pretty-printed (indent 2) with a trailing newline.
void save_file(const std::string& path, const Json& j);

// "a number", "a string", ... for error messages.
std::string type_name(const Json& j);
// A short rendering of a value for error messages ("abc" quoted, long values cut).
std::string describe(const Json& j);
// "train" + "lr" -> "train.lr"; "" + "lr" -> "lr".
std::string join_path(const std::string& prefix, const std::string& key);

// InputError "<path>: expected <expected>, got <describe(j)>".
[[noreturn]] void convert_fail(const Json& j, const std::string& path, const std::string& expected);

// Typed conversion of one value; `path` is named in errors. Integers accept
// only integral numbers (1.0 and 1e3 are fine, 1.5 is not); doubles accept any
// number; strings only strings; bools only true/false.
void convert(const Json& j, const std::string& path, bool& out);
void convert(const Json& j, const std::string& path, int& out);
void convert(const Json& j, const std::string& path, int64_t& out);
void convert(const Json& j, const std::string& path, uint64_t& out);
void convert(const Json& j, const std::string& path, double& out);
void convert(const Json& j, const std::string& path, float& out);
void convert(const Json& j, const std::string& path, std::string& out);
void convert(const Json& j, const std::string& path, Json& out);
template <class T>
void convert(const Json& j, const std::string& path, std::vector<T>& out);
template <class T>
void convert(const Json& j, const std::string& path, std::optional<T>& out);
template <class T>
void convert(const Json& j, const std::string& path, std::map<std::string, T>& out);

// Reads the fields of one JSON object, strictly. Every key asked for (whether
// present or not) is "known"; finish() rejects any other key, naming it and
// listing the known ones. `null` counts as absent for optional fields.
class ObjectReader {
 public:
  // InputError "<path>: expected an object, got ..." when `j` is not an object.
  // A null `j` is read as an empty object (a section left out).
  ObjectReader(const Json& j, std::string path);

  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const { return join_path(path_, key); }
  bool has(const std::string& key) const;

  // Required field: InputError "<path>.<key>: required key missing (expected T)".
  template <class T>
  T required(const std::string& key) {
    known_.insert(key);
    const Json* v = find(key);
    if (!v) missing(key);
    T out{};
    convert(*v, path_of(key), out);
    return out;
  }
  // Optional field with a default.
  template <class T>
  T get(const std::string& key, const T& fallback) {
    known_.insert(key);
    const Json* v = find(key);
    if (!v) return fallback;
    T out{};
    convert(*v, path_of(key), out);
    return out;
  }
  std::string get(const std::string& key, const char* fallback) { return get<std::string>(key, fallback); }
  // Optional field read into `out` (left untouched when absent).
  template <class T>
  void read(const std::string& key, T& out) {
    known_.insert(key);
    if (const Json* v = find(key)) convert(*v, path_of(key), out);
  }
  // A string field that must be one of `choices`.
  std::string choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& choices);
  // The raw value (nullptr when absent or null); the key becomes known.
  const Json* raw(const std::string& key);
  // A nested object (empty when absent); call finish() on it too.
  ObjectReader object(const std::string& key);
  // Mark keys as known without reading them (read by someone else).
  void allow(const std::vector<std::string>& keys);
  // InputError naming the first unknown key and listing the known keys.
  void finish() const;

 private:
  const Json* find(const std::string& key) const;
  [[noreturn]] void missing(const std::string& key) const;
  const Json* j_;
  Json empty_;
  std::string path_;
  std::set<std::string> known_;
};

// Apply one "--set a.b.c=value" override to `root`. The value's type is
// inferred: when the key already holds a value, the text is converted to that
// value's type (a string stays a string, "3" for a number becomes 3); for a new
// key, true/false/null, numbers, and JSON arrays/objects are parsed as JSON and
// anything else is a string. Intermediate objects are created as needed.
// InputError naming the assignment when it is malformed.
void apply_override(Json& root, const std::string& assignment);
void apply_overrides(Json& root, const std::vector<std::string>& assignments);

// ---------------------------------------------------------------------------
template <class T>
void convert(const Json& j, const std::string& path, std::vector<T>& out) {
  if (!j.is_array()) convert_fail(j, path, "an array");
  out.clear();
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    T v{};
    convert(j[i], path + "[" + std::to_string(i) + "]", v);
    out.push_back(std::move(v));
  }
}
template <class T>
void convert(const Json& j, const std::string& path, std::optional<T>& out) {
  if (j.is_null()) {
    out.reset();
    return;
  }
  T v{};
  convert(j, path, v);
  out = std::move(v);
}
template <class T>
void convert(const Json& j, const std::string& path, std::map<std::string, T>& out) {
  if (!j.is_object()) convert_fail(j, path, "an object");
  out.clear();
  for (auto it = j.begin(); it != j.end(); ++it) {
    T v{};
    convert(it.value(), join_path(path, it.key()), v);
    out.emplace(it.key(), std::move(v));
  }
}

}  // namespace bertkit::json
