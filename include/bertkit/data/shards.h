// Tokenized pretraining shards, memory-mapped at training time.
//
// A prepared dataset is a folder:
//   index.json               summary + the list of shards per split (train, eval)
//   train-00000.bin, ...     binary shards
//   eval-00000.bin, ...
//
// A shard file (little-endian):
//   header   "BKSHARD1" | uint32 id_bytes (2 or 4) | uint32 reserved |
//            uint64 num_instances | uint64 num_tokens
//   table    num_instances x { uint64 offset (in ids) | uint32 len_a | uint32 len_b |
//                              int32 next_label (1 random next, 0 actual next, -1 no NSP) |
//                              uint32 reserved }
//   ids      num_tokens ids, uint16 when the vocabulary has <= 65536 entries, else uint32
// An instance is segment A (len_a ids) then segment B (len_b ids; 0 with NSP
// off), without [CLS]/[SEP]: the collator adds them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertkit/core/mapped_file.h"

namespace bertkit {

struct Instance {
  std::vector<int32_t> tokens_a;
  std::vector<int32_t> tokens_b;
  int32_t next_label = -1;  // 1: B is a random next sentence, 0: B actually follows A, -1: no NSP
};

// A view of one stored instance (ids widened on access).
struct InstanceView {
  const void* ids = nullptr;  // len_a + len_b ids of width id_bytes
  uint32_t id_bytes = 2;
  uint32_t len_a = 0, len_b = 0;
  int32_t next_label = -1;
  int32_t id(std::size_t i) const {
    return id_bytes == 2 ? static_cast<const uint16_t*>(ids)[i] : static_cast<const int32_t*>(ids)[i];
  }
  std::vector<int32_t> a() const;
  std::vector<int32_t> b() const;
};

// Write one shard file atomically.
void write_shard(const std::string& path, const std::vector<Instance>& instances, uint32_t id_bytes);

// A memory-mapped shard. InputError naming the path for a malformed file.
class ShardReader {
 public:
  explicit ShardReader(const std::string& path);
  int64_t size() const { return static_cast<int64_t>(num_instances_); }
  uint64_t num_tokens() const { return num_tokens_; }
  uint32_t id_bytes() const { return id_bytes_; }
  InstanceView get(int64_t i) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile file_;
  uint32_t id_bytes_ = 2;
  uint64_t num_instances_ = 0, num_tokens_ = 0;
  const unsigned char* table_ = nullptr;
  const unsigned char* ids_ = nullptr;
};

// What index.json records about a prepared dataset.
struct ShardIndex {
  int64_t version = 1;
  int64_t vocab_size = 0;
  uint32_t id_bytes = 2;
  bool nsp = true;
  int64_t max_seq_length = 128;
  bool static_masking = false;  // masks fixed per instance (dupe_factor copies), else drawn per step
  uint64_t seed = 12345;
  // Special token ids of the tokenizer used.
  int32_t cls_id = -1, sep_id = -1, pad_id = -1, mask_id = -1;
  struct Split {
    std::vector<std::string> files;  // relative to the folder
    int64_t instances = 0;
    int64_t tokens = 0;
    int64_t documents = 0;
  };
  Split train, eval;
  nlohmann::json summary = nlohmann::json::object();  // prepare's statistics

  nlohmann::json to_json() const;
  static ShardIndex from_json(const nlohmann::json& j, const std::string& where);
  static ShardIndex load(const std::string& dir);  // dir/index.json
  void save(const std::string& dir) const;         // atomic
};

// The instances of one split across its shards, indexable 0..size()-1.
class ShardedInstances {
 public:
  ShardedInstances(const std::string& dir, const ShardIndex::Split& split);
  int64_t size() const { return total_; }
  InstanceView get(int64_t i) const;

 private:
  std::vector<std::unique_ptr<ShardReader>> shards_;
  std::vector<int64_t> starts_;  // cumulative instance counts
  int64_t total_ = 0;
};

}  // namespace bertkit
