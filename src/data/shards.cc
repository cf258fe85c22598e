#include "bertkit/data/shards.h"

#include <cstring>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"

namespace bertkit {

namespace {
constexpr char kMagic[8] = {'B', 'K', 'S', 'H', 'A', 'R', 'D', '1'};
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;
constexpr std::size_t kEntryBytes = 8 + 4 + 4 + 4 + 4;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
T get_at(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

std::vector<int32_t> InstanceView::a() const {
  std::vector<int32_t> v(len_a);
  for (uint32_t i = 0; i < len_a; ++i) v[i] = id(i);
  return v;
}
std::vector<int32_t> InstanceView::b() const {
  std::vector<int32_t> v(len_b);
  for (uint32_t i = 0; i < len_b; ++i) v[i] = id(len_a + i);
  return v;
}

void write_shard(const std::string& path, const std::vector<Instance>& instances, uint32_t id_bytes) {
  if (id_bytes != 2 && id_bytes != 4) throw RuntimeError("write_shard: id_bytes must be 2 or 4");
  uint64_t num_tokens = 0;
  for (const auto& in : instances) num_tokens += in.tokens_a.size() + in.tokens_b.size();
  std::string out;
  out.reserve(kHeaderBytes + instances.size() * kEntryBytes + num_tokens * id_bytes);
  out.append(kMagic, 8);
  put<uint32_t>(out, id_bytes);
  put<uint32_t>(out, 0);
  put<uint64_t>(out, instances.size());
  put<uint64_t>(out, num_tokens);
  uint64_t offset = 0;
  for (const auto& in : instances) {
    put<uint64_t>(out, offset);
    put<uint32_t>(out, static_cast<uint32_t>(in.tokens_a.size()));
    put<uint32_t>(out, static_cast<uint32_t>(in.tokens_b.size()));
    put<int32_t>(out, in.next_label);
    put<uint32_t>(out, 0);
    offset += in.tokens_a.size() + in.tokens_b.size();
  }
  auto put_ids = [&](const std::vector<int32_t>& ids) {
    for (int32_t id : ids) {
      if (id < 0 || (id_bytes == 2 && id > 0xFFFF))
        throw RuntimeError(path + ": token id " + std::to_string(id) + " does not fit in " +
                           std::to_string(id_bytes) + " bytes");
      if (id_bytes == 2) put<uint16_t>(out, static_cast<uint16_t>(id));
      else put<int32_t>(out, id);
    }
  };
  for (const auto& in : instances) {
    put_ids(in.tokens_a);
    put_ids(in.tokens_b);
  }
  write_file_atomic(path, out);
}

namespace {
MappedFile map_shard(const std::string& path) {
  if (!file_exists(path)) throw InputError(path + ": cannot open shard (run `bertkit prepare` first?)");
  return MappedFile(path);
}
}  // namespace

ShardReader::ShardReader(const std::string& path) : path_(path), file_(map_shard(path)) {
  const std::size_t size = file_.size();
  auto fail = [&](const std::string& why) { throw InputError(path + ": not a valid bertkit shard: " + why); };
  if (size < kHeaderBytes) fail("file too short (" + std::to_string(size) + " bytes)");
  const unsigned char* p = file_.data();
  if (std::memcmp(p, kMagic, 8) != 0) fail("bad magic (expected BKSHARD1)");
  id_bytes_ = get_at<uint32_t>(p + 8);
  num_instances_ = get_at<uint64_t>(p + 16);
  num_tokens_ = get_at<uint64_t>(p + 24);
  if (id_bytes_ != 2 && id_bytes_ != 4) fail("id width " + std::to_string(id_bytes_) + " (expected 2 or 4)");
  // Sizes checked by division first, so a hostile header cannot overflow the product.
  const std::size_t body = size - kHeaderBytes;
  if (num_instances_ > body / kEntryBytes || num_tokens_ > body / id_bytes_ ||
      num_instances_ * kEntryBytes + num_tokens_ * id_bytes_ != body)
    fail("size " + std::to_string(size) + " bytes does not match the header's " + std::to_string(num_instances_) +
         " instances and " + std::to_string(num_tokens_) + " tokens");
  table_ = p + kHeaderBytes;
  ids_ = table_ + num_instances_ * kEntryBytes;
}

InstanceView ShardReader::get(int64_t i) const {
  if (i < 0 || static_cast<uint64_t>(i) >= num_instances_)
    throw RuntimeError(path_ + ": instance " + std::to_string(i) + " out of range (" + std::to_string(num_instances_) + ")");
  const unsigned char* e = table_ + static_cast<std::size_t>(i) * kEntryBytes;
  InstanceView v;
  uint64_t offset = get_at<uint64_t>(e);
  v.len_a = get_at<uint32_t>(e + 8);
  v.len_b = get_at<uint32_t>(e + 12);
  v.next_label = get_at<int32_t>(e + 16);
  // Without overflow: a hostile offset near 2^64 must not wrap back into range.
  const uint64_t len = uint64_t{v.len_a} + v.len_b;
  if (offset > num_tokens_ || len > num_tokens_ - offset)
    throw InputError(path_ + ": instance " + std::to_string(i) + " points past the end of the ids");
  v.id_bytes = id_bytes_;
  v.ids = ids_ + offset * id_bytes_;
  return v;
}

// ---------------------------------------------------------------------------
nlohmann::json ShardIndex::to_json() const {
  auto split = [](const Split& s) {
    return nlohmann::json{{"files", s.files}, {"instances", s.instances}, {"tokens", s.tokens}, {"documents", s.documents}};
  };
  return {{"format", "bertkit-shards"}, {"version", version}, {"vocab_size", vocab_size},
          {"id_bytes", id_bytes}, {"nsp", nsp}, {"max_seq_length", max_seq_length},
          {"static_masking", static_masking}, {"seed", seed},
          {"special_ids", {{"cls", cls_id}, {"sep", sep_id}, {"pad", pad_id}, {"mask", mask_id}}},
          {"train", split(train)}, {"eval", split(eval)}, {"summary", summary}};
}

ShardIndex ShardIndex::from_json(const nlohmann::json& j, const std::string& where) {
  json::ObjectReader r(j, "");
  ShardIndex x;
  std::string format = r.required<std::string>("format");
  if (format != "bertkit-shards") throw InputError(where + ": format \"" + format + "\" (expected bertkit-shards)");
  x.version = r.required<int64_t>("version");
  if (x.version != 1) throw InputError(where + ": shard version " + std::to_string(x.version) + " (this bertkit reads 1)");
  x.vocab_size = r.required<int64_t>("vocab_size");
  x.id_bytes = static_cast<uint32_t>(r.required<int64_t>("id_bytes"));
  x.nsp = r.required<bool>("nsp");
  x.max_seq_length = r.required<int64_t>("max_seq_length");
  x.static_masking = r.get<bool>("static_masking", false);
  x.seed = r.get<uint64_t>("seed", 12345);
  auto sp = r.object("special_ids");
  x.cls_id = sp.required<int>("cls");
  x.sep_id = sp.required<int>("sep");
  x.pad_id = sp.required<int>("pad");
  x.mask_id = sp.required<int>("mask");
  sp.finish();
  auto split = [&](const std::string& key, Split& s) {
    auto o = r.object(key);
    s.files = o.get<std::vector<std::string>>("files", {});
    s.instances = o.get<int64_t>("instances", 0);
    s.tokens = o.get<int64_t>("tokens", 0);
    s.documents = o.get<int64_t>("documents", 0);
    o.finish();
  };
  split("train", x.train);
  split("eval", x.eval);
  r.read("summary", x.summary);
  r.finish();
  return x;
}

ShardIndex ShardIndex::load(const std::string& dir) {
  std::string path = dir + "/index.json";
  if (!file_exists(path)) throw InputError(path + ": not found (is " + dir + " a folder made by `bertkit prepare`?)");
  try {
    return from_json(json::load_file(path), path);
  } catch (const InputError& e) {
    std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;
    throw InputError(path + ": " + msg);
  }
}

void ShardIndex::save(const std::string& dir) const { json::save_file(dir + "/index.json", to_json()); }

// ---------------------------------------------------------------------------
ShardedInstances::ShardedInstances(const std::string& dir, const ShardIndex::Split& split) {
  for (const auto& f : split.files) {
    shards_.push_back(std::make_unique<ShardReader>(dir + "/" + f));
    starts_.push_back(total_);
    total_ += shards_.back()->size();
  }
}

InstanceView ShardedInstances::get(int64_t i) const {
  if (i < 0 || i >= total_) throw RuntimeError("instance " + std::to_string(i) + " out of range (" + std::to_string(total_) + ")");
  auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  std::size_t s = static_cast<std::size_t>(it - starts_.begin()) - 1;
  return shards_[s]->get(i - starts_[s]);
}

}  // namespace bertkit
