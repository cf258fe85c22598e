#include "bertkit/core/json.h"

#include <cmath>
#include <limits>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"

namespace bertkit::json {

Json parse(const std::string& text, const std::string& where) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based byte index where parsing stopped.
    std::size_t pos = e.byte == 0 ? 0 : std::min<std::size_t>(e.byte - 1, text.size());
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string msg = e.what();
    // Keep nlohmann's explanation but drop its own "[json.exception...] parse error at ..." prefix.
    auto colon = msg.find(": ", msg.find("parse error"));
    std::string detail = colon == std::string::npos ? msg : msg.substr(colon + 2);
    throw InputError(where + ":" + std::to_string(line) + ":" + std::to_string(col) +
                     ": invalid JSON: " + detail);
  }
}

Json load_file(const std::string& path) { return parse(read_file(path), path); }

void save_file(const std::string& path, const Json& j) { write_file_atomic(path, j.dump(2) + "\n"); }

std::string type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

std::string describe(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

void convert_fail(const Json& j, const std::string& path, const std::string& expected) {
  throw InputError(path + ": expected " + expected + ", got " + describe(j));
}

void convert(const Json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) convert_fail(j, path, "true or false");
  out = j.get<bool>();
}

void convert(const Json& j, const std::string& path, int64_t& out) {
  if (j.is_number_integer() || j.is_number_unsigned()) {
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      convert_fail(j, path, "an integer that fits in 64 bits");
    out = j.get<int64_t>();
    return;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) {
      out = static_cast<int64_t>(d);
      return;
    }
  }
  convert_fail(j, path, "an integer");
}

void convert(const Json& j, const std::string& path, int& out) {
  int64_t v = 0;
  convert(j, path, v);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    convert_fail(j, path, "an integer that fits in 32 bits");
  out = static_cast<int>(v);
}

void convert(const Json& j, const std::string& path, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return;
  }
  int64_t v = 0;
  convert(j, path, v);
  if (v < 0) convert_fail(j, path, "a non-negative integer");
  out = static_cast<uint64_t>(v);
}

void convert(const Json& j, const std::string& path, double& out) {
  if (!j.is_number()) convert_fail(j, path, "a number");
  out = j.get<double>();
}

void convert(const Json& j, const std::string& path, float& out) {
  double d = 0;
  convert(j, path, d);
  out = static_cast<float>(d);
}

void convert(const Json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) convert_fail(j, path, "a string");
  out = j.get<std::string>();
}

void convert(const Json& j, const std::string& path, Json& out) { out = j; }

// ---------------------------------------------------------------------------
ObjectReader::ObjectReader(const Json& j, std::string path) : j_(&j), empty_(Json::object()), path_(std::move(path)) {
  if (j.is_null()) {
    j_ = &empty_;
  } else if (!j.is_object()) {
    convert_fail(j, path_.empty() ? std::string("(top level)") : path_, "an object");
  }
}

const Json* ObjectReader::find(const std::string& key) const {
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool ObjectReader::has(const std::string& key) const { return find(key) != nullptr; }

void ObjectReader::missing(const std::string& key) const {
  throw InputError(path_of(key) + ": required key missing");
}

std::string ObjectReader::choice(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& choices) {
  std::string v = get<std::string>(key, fallback);
  for (const auto& c : choices)
    if (c == v) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw InputError(path_of(key) + ": expected one of " + list + ", got \"" + v + "\"");
}

const Json* ObjectReader::raw(const std::string& key) {
  known_.insert(key);
  return find(key);
}

ObjectReader ObjectReader::object(const std::string& key) {
  known_.insert(key);
  const Json* v = find(key);
  if (!v) return ObjectReader(Json(), path_of(key));
  return ObjectReader(*v, path_of(key));
}

void ObjectReader::allow(const std::vector<std::string>& keys) {
  for (const auto& k : keys) known_.insert(k);
}

void ObjectReader::finish() const {
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string list;
    for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
    throw InputError((path_.empty() ? std::string("(top level)") : path_) + ": unknown key \"" + it.key() +
                     "\" (valid keys: " + (list.empty() ? std::string("none") : list) + ")");
  }
}

// ---------------------------------------------------------------------------
namespace {

Json infer_value(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (text == "null") return nullptr;
  if (!text.empty() && (text[0] == '[' || text[0] == '{' || text[0] == '-' || text[0] == '.' ||
                        (text[0] >= '0' && text[0] <= '9'))) {
    try {
      return Json::parse(text);
    } catch (const nlohmann::json::exception&) {
      // not JSON: a plain string (e.g. "1e-4x" or "[CLS]")
    }
  }
  return text;
}

Json convert_like(const Json& existing, const std::string& text, const std::string& assignment) {
  switch (existing.type()) {
    case Json::value_t::string: return text;
    case Json::value_t::boolean:
      if (text == "true") return true;
      if (text == "false") return false;
      throw InputError("--set " + assignment + ": expected true or false");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      Json v = infer_value(text);
      if (v.is_null()) return v;
      if (!v.is_number()) throw InputError("--set " + assignment + ": expected a number, got \"" + text + "\"");
      return v;
    }
    default: {
      Json v = infer_value(text);
      return v;
    }
  }
}

}  // namespace

void apply_override(Json& root, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set \"" + assignment + "\": expected KEY.PATH=VALUE, e.g. train.learning_rate=3e-5");
  std::string key = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  if (root.is_null()) root = Json::object();
  Json* node = &root;
  std::string walked;
  std::size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError("--set \"" + assignment + "\": empty key in \"" + key + "\"");
    if (!node->is_object())
      throw InputError("--set \"" + assignment + "\": " + (walked.empty() ? "(top level)" : walked) +
                       " is " + type_name(*node) + ", not an object");
    walked = join_path(walked, part);
    if (dot == std::string::npos) {
      auto it = node->find(part);
      (*node)[part] = (it == node->end() || it->is_null()) ? infer_value(text) : convert_like(*it, text, assignment);
      return;
    }
    Json& child = (*node)[part];
    if (child.is_null()) child = Json::object();
    node = &child;
    start = dot + 1;
  }
}

void apply_overrides(Json& root, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_override(root, a);
}

}  // namespace bertkit::json
