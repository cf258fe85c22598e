#include "bertkit/core/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"

namespace bertkit {

namespace {

constexpr uint64_t kMaxHeaderSize = 100ull << 20;  // as the reference implementation

struct DTypeEntry {
  StDType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {StDType::F32, "F32", 4}, {StDType::F16, "F16", 2}, {StDType::BF16, "BF16", 2}, {StDType::F64, "F64", 8},
    {StDType::I64, "I64", 8}, {StDType::I32, "I32", 4}, {StDType::I16, "I16", 2},   {StDType::I8, "I8", 1},
    {StDType::U8, "U8", 1},   {StDType::BOOL, "BOOL", 1},
};

std::string tensor_where(const std::string& where, const std::string& name) {
  return where + ": tensor '" + name + "'";
}

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

StDType parse_st_dtype(const std::string& s, const std::string& where) {
  for (const auto& e : kDTypes)
    if (s == e.name) return e.dtype;
  throw InputError((where.empty() ? std::string() : where + ": ") + "unknown safetensors dtype '" + s +
                   "' (expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
}

const char* st_dtype_name(StDType d) {
  for (const auto& e : kDTypes)
    if (e.dtype == d) return e.name;
  return "?";
}

size_t st_dtype_size(StDType d) {
  for (const auto& e : kDTypes)
    if (e.dtype == d) return e.size;
  return 0;
}

int64_t StTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::vector<StTensorInfo> parse_safetensors_header(const std::string& header_json, uint64_t buffer_size,
                                                   const std::string& where,
                                                   std::map<std::string, std::string>* metadata) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header_json);
  } catch (const std::exception& e) {
    throw InputError(where + ": the safetensors header is not valid JSON (" + e.what() +
                     "); the file is corrupt or not a safetensors file");
  }
  if (!j.is_object()) throw InputError(where + ": the safetensors header must be a JSON object");

  std::vector<StTensorInfo> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw InputError(where + ": __metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw InputError(where + ": __metadata__ key '" + m.key() + "' must be a string");
        if (metadata) (*metadata)[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tw = tensor_where(where, name);
    if (!v.is_object()) throw InputError(tw + ": entry must be an object {dtype, shape, data_offsets}");
    for (auto f = v.begin(); f != v.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        throw InputError(tw + ": unexpected field '" + f.key() + "' (expected dtype, shape, data_offsets)");
    if (!v.contains("dtype") || !v["dtype"].is_string()) throw InputError(tw + ": missing or non-string 'dtype'");
    if (!v.contains("shape") || !v["shape"].is_array()) throw InputError(tw + ": missing or non-array 'shape'");
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      throw InputError(tw + ": 'data_offsets' must be an array [begin, end]");
    StTensorInfo info;
    info.name = name;
    info.dtype = parse_st_dtype(v["dtype"].get<std::string>(), tw);
    // numel with overflow checks (a hostile shape must not wrap around).
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0))
        throw InputError(tw + ": shape entries must be non-negative integers, got " + d.dump());
      uint64_t s = d.get<uint64_t>();
      if (s > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw InputError(tw + ": shape entry " + d.dump() + " is too large");
      if (s != 0 && numel > std::numeric_limits<uint64_t>::max() / s)
        throw InputError(tw + ": shape " + v["shape"].dump() + " overflows");
      numel *= s;
      info.shape.push_back(static_cast<int64_t>(s));
    }
    for (const auto& o : v["data_offsets"])
      if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<int64_t>() >= 0))
        throw InputError(tw + ": data_offsets must be non-negative integers, got " + v["data_offsets"].dump());
    info.begin = v["data_offsets"][0].get<uint64_t>();
    info.end = v["data_offsets"][1].get<uint64_t>();
    if (info.begin > info.end)
      throw InputError(tw + ": data_offsets " + v["data_offsets"].dump() + " has begin > end");
    if (info.end > buffer_size)
      throw InputError(tw + ": data_offsets " + v["data_offsets"].dump() + " reach past the end of the data (" +
                       std::to_string(buffer_size) + " bytes): the file is truncated or corrupt");
    size_t es = st_dtype_size(info.dtype);
    if (numel > std::numeric_limits<uint64_t>::max() / es || numel * es != info.nbytes())
      throw InputError(tw + ": dtype " + st_dtype_name(info.dtype) + " x shape " + v["shape"].dump() + " needs " +
                       std::to_string(numel * es) + " bytes (" + std::to_string(numel) + " x " + std::to_string(es) +
                       "), but data_offsets " +
                       v["data_offsets"].dump() + " span " + std::to_string(info.nbytes()) + " bytes");
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const StTensorInfo& a, const StTensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < out.size(); ++i) {
    const auto& a = out[i - 1];
    const auto& b = out[i];
    // Empty tensors occupy no bytes and overlap nothing.
    if (b.nbytes() > 0 && a.nbytes() > 0 && b.begin < a.end)
      throw InputError(where + ": tensors '" + a.name + "' [" + std::to_string(a.begin) + ", " +
                       std::to_string(a.end) + ") and '" + b.name + "' [" + std::to_string(b.begin) + ", " +
                       std::to_string(b.end) + ") overlap");
  }
  return out;
}

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path), file_(path) {
  const uint64_t size = file_.size();
  if (size < 8)
    throw InputError(path + ": truncated safetensors file (" + std::to_string(size) +
                     " bytes, less than the 8-byte header length)");
  const unsigned char* bytes = file_.data();
  uint64_t n = read_u64_le(bytes);
  if (n > size - 8)
    throw InputError(path + ": safetensors header length " + std::to_string(n) + " is longer than the file (" +
                     std::to_string(size) + " bytes): truncated or not a safetensors file");
  if (n > kMaxHeaderSize)
    throw InputError(path + ": safetensors header length " + std::to_string(n) + " exceeds 100 MiB");
  if (n < 2 || bytes[8] != '{')
    throw InputError(path + ": the safetensors header does not start with '{': not a safetensors file");
  std::string header(reinterpret_cast<const char*>(bytes + 8), n);
  buffer_ = bytes + 8 + n;
  tensors_ = parse_safetensors_header(header, size - 8 - n, path, &metadata_);
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& t : tensors_) out.push_back(t.name);
  return out;
}

const StTensorInfo& SafetensorsReader::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw InputError(path_ + ": no tensor named '" + name + "'");
  return tensors_[it->second];
}

const void* SafetensorsReader::data(const std::string& name) const { return buffer_ + info(name).begin; }

void write_safetensors(const std::string& path, const std::vector<StTensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const StTensorView*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = m;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& t = *order[i];
    if (i > 0 && t.name == order[i - 1]->name)
      throw RuntimeError(path + ": tensor name '" + t.name + "' given twice");
    if (t.name == "__metadata__") throw RuntimeError(path + ": '__metadata__' cannot be a tensor name");
    uint64_t numel = 1;
    for (int64_t s : t.shape) {
      if (s < 0) throw RuntimeError(path + ": tensor '" + t.name + "' has a negative dimension");
      numel *= static_cast<uint64_t>(s);
    }
    if (numel * st_dtype_size(t.dtype) != t.nbytes)
      throw RuntimeError(path + ": tensor '" + t.name + "': " + std::to_string(t.nbytes) + " bytes given, " +
                         std::to_string(numel * st_dtype_size(t.dtype)) + " expected from dtype x shape");
    nlohmann::ordered_json e;
    e["dtype"] = st_dtype_name(t.dtype);
    e["shape"] = t.shape;
    e["data_offsets"] = {offset, offset + t.nbytes};
    header[t.name] = e;
    offset += t.nbytes;
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  write_atomic(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw RuntimeError(tmp + ": cannot open for writing");
    unsigned char len[8];
    errno = 0;
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto* t : order)
      if (t->nbytes) out.write(static_cast<const char*>(t->data), static_cast<std::streamsize>(t->nbytes));
    out.flush();
    if (!out) throw RuntimeError(tmp + ": write failed (" + (errno ? std::string(std::strerror(errno)) + ": " : "") + "disk full?)");
  });
}

}  // namespace bertkit
