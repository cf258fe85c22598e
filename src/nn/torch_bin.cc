#include "bertkit/nn/torch_bin.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <variant>
#include <vector>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/mapped_file.h"

namespace bertkit {

namespace {

// A pickle value: only the kinds torch.save's state dicts contain. Values are
// owned by the machine's arena and refer to each other by plain pointers: a
// hostile pickle can build cycles (APPEND a list into itself through the memo)
// or nest deeply, and neither may leak nor recurse when the values are freed.
struct PValue;
using PPtr = PValue*;
struct PValue {
  enum Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Tensor, Mark, Storage } kind = None;
  int64_t i = 0;
  double f = 0;
  std::string s;                              // Str; Global "module.name"
  std::vector<PPtr> items;                    // Tuple, List
  std::vector<std::pair<PPtr, PPtr>> dict;    // Dict (insertion order)
  torch::Tensor tensor;                       // Tensor, Storage
};

// The only globals a state dict needs (torch.save of model.state_dict(), any
// PyTorch version since 1.6). Nothing is ever called: REDUCE below rebuilds
// tensors from these names; any other global is refused where it appears.
bool allowed_global(const std::string& name) {
  static const std::set<std::string> names = {
      "collections.OrderedDict",           "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor_v2",   "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
      "torch.LongStorage",  "torch.IntStorage",  "torch.ShortStorage",    "torch.CharStorage",
      "torch.ByteStorage",  "torch.BoolStorage"};
  return names.count(name) > 0;
}

// A tensor rebuilt from a storage may repeat elements (stride 0) but not
// without limit: a few bytes of pickle must not ask for gigabytes.
constexpr int64_t kMaxBroadcastElements = int64_t{1} << 24;

torch::Dtype storage_dtype(const std::string& global, const std::string& where) {
  static const std::map<std::string, torch::Dtype> types = {
      {"torch.FloatStorage", torch::kFloat32}, {"torch.HalfStorage", torch::kFloat16},
      {"torch.BFloat16Storage", torch::kBFloat16}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};
  auto it = types.find(global);
  if (it == types.end()) throw InputError(where + ": unsupported storage type " + global);
  return it->second;
}

class Machine {
 public:
  Machine(const std::string& where, caffe2::serialize::PyTorchStreamReader& zip) : where_(where), zip_(zip) {}

  PPtr make(PValue::Kind k) {
    arena_.push_back(std::make_unique<PValue>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }

  PPtr run(const uint8_t* p, size_t n) {
    p_ = p;
    end_ = p + n;
    while (true) {
      uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                       // PROTO
        case 0x95: bytes(8); break;                   // FRAME
        case '.': return pop();                       // STOP
        case '(': push(make(PValue::Mark)); break;    // MARK
        case 'N': push(make(PValue::None)); break;
        case 0x88: case 0x89: {                       // NEWTRUE / NEWFALSE
          auto v = make(PValue::Bool);
          v->i = op == 0x88;
          push(v);
          break;
        }
        case 'J': push_int(static_cast<int32_t>(le(4))); break;  // BININT
        case 'K': push_int(le(1)); break;                         // BININT1
        case 'M': push_int(le(2)); break;                         // BININT2
        case 0x8a: {                                              // LONG1
          size_t len = u8();
          if (len > 8) fail("integer too large");
          uint64_t v = le(len);
          if (len > 0 && len < 8 && (v >> (8 * len - 1)) & 1) v |= ~0ull << (8 * len);  // sign-extend
          push_int(static_cast<int64_t>(v));
          break;
        }
        case 'G': {                                               // BINFLOAT (big-endian)
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | u8();
          auto v = make(PValue::Float);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case 'X': push_str(le(4)); break;                          // BINUNICODE
        case 0x8c: push_str(u8()); break;                          // SHORT_BINUNICODE
        case 'B': push_str(le(4)); break;                          // BINBYTES
        case 'C': push_str(u8()); break;                           // SHORT_BINBYTES
        case ')': push(make(PValue::Tuple)); break;                // EMPTY_TUPLE
        case 0x85: case 0x86: case 0x87: {                         // TUPLE1..3
          size_t k = op - 0x84;
          auto t = make(PValue::Tuple);
          t->items.resize(k);
          for (size_t i = k; i-- > 0;) t->items[i] = pop();
          push(t);
          break;
        }
        case 't': {                                                // TUPLE
          auto t = make(PValue::Tuple);
          t->items = pop_to_mark();
          push(t);
          break;
        }
        case ']': push(make(PValue::List)); break;                 // EMPTY_LIST
        case 'a': {                                                // APPEND
          auto v = pop();
          top(PValue::List)->items.push_back(v);
          break;
        }
        case 'e': {                                                // APPENDS
          auto vs = pop_to_mark();
          auto l = top(PValue::List);
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case '}': push(make(PValue::Dict)); break;                 // EMPTY_DICT
        case 's': {                                                // SETITEM
          auto v = pop();
          auto k = pop();
          top(PValue::Dict)->dict.emplace_back(k, v);
          break;
        }
        case 'u': {                                                // SETITEMS
          auto vs = pop_to_mark();
          if (vs.size() % 2) fail("SETITEMS with an odd number of items");
          auto d = top(PValue::Dict);
          for (size_t i = 0; i < vs.size(); i += 2) d->dict.emplace_back(vs[i], vs[i + 1]);
          break;
        }
        case 'c': {                                                // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(global(module + "." + name));
          break;
        }
        case 0x93: {                                               // STACK_GLOBAL
          auto name = pop(), module = pop();
          if (name->kind != PValue::Str || module->kind != PValue::Str) fail("STACK_GLOBAL without two strings");
          push(global(module->s + "." + name->s));
          break;
        }
        case 'q': memo_[u8()] = peek(); break;                     // BINPUT
        case 'r': memo_[le(4)] = peek(); break;                    // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = peek(); break;            // MEMOIZE
        case 'h': push(memo_get(u8())); break;                     // BINGET
        case 'j': push(memo_get(le(4))); break;                    // LONG_BINGET
        case 'Q': push(persistent_load(pop())); break;             // BINPERSID
        case 'R': {                                                // REDUCE
          auto args = pop();
          auto fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': pop(); break;  // BUILD: object state (an OrderedDict's _metadata) is not needed
        default:
          fail("unsupported pickle opcode 0x" + hex(op) + " (not a torch.save state dict?)");
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) { throw InputError(where_ + ": " + msg); }
  PPtr global(const std::string& name) {
    if (!allowed_global(name))
      fail("the pickle refers to " + name + ", which a state dict never needs; refusing to load it "
           "(only tensors, storages and OrderedDict are accepted; nothing in the file is executed)");
    auto g = make(PValue::Global);
    g->s = name;
    return g;
  }
  static std::string hex(uint8_t b) {
    const char* d = "0123456789abcdef";
    return {d[b >> 4], d[b & 15]};
  }
  uint8_t u8() {
    if (p_ >= end_) fail("truncated pickle");
    return *p_++;
  }
  const uint8_t* bytes(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) fail("truncated pickle");
    const uint8_t* b = p_;
    p_ += n;
    return b;
  }
  uint64_t le(size_t n) {
    const uint8_t* b = bytes(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | b[i];
    return v;
  }
  std::string line() {
    std::string s;
    for (uint8_t c; (c = u8()) != '\n';) s.push_back(static_cast<char>(c));
    return s;
  }
  void push(PPtr v) { stack_.push_back(v); }
  void push_int(int64_t i) {
    auto v = make(PValue::Int);
    v->i = i;
    push(v);
  }
  void push_str(size_t n) {
    auto v = make(PValue::Str);
    const uint8_t* b = bytes(n);
    v->s.assign(reinterpret_cast<const char*>(b), n);
    push(v);
  }
  PPtr pop() {
    if (stack_.empty()) fail("pickle stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PPtr peek() {
    if (stack_.empty()) fail("pickle stack underflow");
    return stack_.back();
  }
  PPtr top(PValue::Kind k) {
    auto v = peek();
    if (v->kind != k) fail("unexpected pickle structure");
    return v;
  }
  std::vector<PPtr> pop_to_mark() {
    std::vector<PPtr> out;
    while (true) {
      auto v = pop();
      if (v->kind == PValue::Mark) break;
      out.push_back(v);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }
  PPtr memo_get(uint64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail("pickle memo key " + std::to_string(k) + " missing");
    return it->second;
  }
  int64_t as_int(const PPtr& v) {
    if (v->kind != PValue::Int) fail("expected an integer in a tensor record");
    return v->i;
  }
  std::vector<int64_t> as_ints(const PPtr& v) {
    if (v->kind != PValue::Tuple && v->kind != PValue::List) fail("expected a tuple of integers");
    std::vector<int64_t> out;
    for (const auto& x : v->items) out.push_back(as_int(x));
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel) -> the archive's data/<key>.
  PPtr persistent_load(const PPtr& pid) {
    if (pid->kind != PValue::Tuple || pid->items.size() < 5 || pid->items[0]->s != "storage" ||
        pid->items[2]->kind != PValue::Str)
      fail("unsupported persistent id");
    const std::string key = pid->items[2]->s;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    if (pid->items[1]->kind != PValue::Global) fail("storage without a type");
    torch::Dtype dtype = storage_dtype(pid->items[1]->s, where_);
    const std::string record = "data/" + key;
    if (!zip_.hasRecord(record)) fail("storage record " + record + " missing from the archive");
    auto [ptr, size] = zip_.getRecord(record);
    const int64_t elem = static_cast<int64_t>(c10::elementSize(dtype));
    auto t = torch::empty({static_cast<int64_t>(size) / elem}, torch::TensorOptions().dtype(dtype));
    if (size % elem) fail("storage " + key + " has " + std::to_string(size) + " bytes, not a multiple of its element size");
    if (size) std::memcpy(t.data_ptr(), ptr.get(), size);
    auto v = make(PValue::Storage);
    v->tensor = t;
    storages_[key] = v;
    return v;
  }

  PPtr reduce(const PPtr& fn, const PPtr& args) {
    if (fn->kind != PValue::Global || args->kind != PValue::Tuple) fail("unsupported REDUCE");
    const std::string& name = fn->s;
    if (name == "collections.OrderedDict") return make(PValue::Dict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (args->items.size() < 4 || args->items[0]->kind != PValue::Storage) fail("malformed _rebuild_tensor_v2");
      const auto& storage = args->items[0]->tensor;
      int64_t offset = as_int(args->items[1]);
      auto size = as_ints(args->items[2]), stride = as_ints(args->items[3]);
      if (size.size() != stride.size()) fail("tensor size and stride disagree");
      // Bounds: the furthest element must lie inside the storage, and the
      // copy may not be much larger than the storage (checked without overflow).
      int64_t last = offset, numel = 1;
      bool empty = false, overflow = false;
      for (size_t i = 0; i < size.size(); ++i) {
        if (size[i] < 0 || stride[i] < 0) fail("negative tensor size or stride");
        if (size[i] == 0) empty = true;
      }
      for (size_t i = 0; i < size.size() && !empty; ++i) {
        int64_t reach = 0;
        overflow |= __builtin_mul_overflow(size[i] - 1, stride[i], &reach);
        overflow |= __builtin_add_overflow(last, reach, &last);
        overflow |= __builtin_mul_overflow(numel, size[i], &numel);
      }
      if (offset < 0 || (!empty && (overflow || last >= storage.numel()))) fail("tensor reaches past its storage");
      if (!empty && numel > storage.numel() && numel > kMaxBroadcastElements)
        fail("tensor of " + std::to_string(numel) + " elements repeats a storage of " +
             std::to_string(storage.numel()) + " (at most " + std::to_string(kMaxBroadcastElements) + " allowed)");
      auto v = make(PValue::Tensor);
      v->tensor = empty ? torch::empty(size, storage.options())
                        : storage.as_strided(size, stride, offset).clone(torch::MemoryFormat::Contiguous);
      return v;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (args->items.empty() || args->items[0]->kind != PValue::Tensor) fail("malformed _rebuild_parameter");
      return args->items[0];
    }
    fail("unsupported object " + name + " in the pickle");
  }

  std::string where_;
  caffe2::serialize::PyTorchStreamReader& zip_;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  std::vector<PPtr> stack_;
  std::map<uint64_t, PPtr> memo_;
  std::map<std::string, PPtr> storages_;
  std::vector<std::unique_ptr<PValue>> arena_;  // every value; freed flat, whatever points where
};

// The zip's central directory, read before LibTorch's reader, which allocates
// each record's claimed uncompressed size before extracting it: no record may
// claim more bytes than the whole file holds (torch.save stores records
// uncompressed), so a 1 KB file cannot ask for 100 GB. Returns quietly when
// the directory cannot be found: the reader then reports the file as corrupt.
void check_zip_record_sizes(const std::string& path) {
  MappedFile file(path);
  const unsigned char* d = file.data();
  const uint64_t n = file.size();
  auto le = [&](uint64_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | d[at + i];
    return v;
  };
  if (n < 22) return;
  uint64_t eocd = n - 22;  // end of central directory: signature PK\5\6, comment up to 64 KiB
  while (le(eocd, 4) != 0x06054b50) {
    if (eocd == 0 || n - eocd > 22 + 0xffff) return;
    --eocd;
  }
  uint64_t entries = le(eocd + 10, 2), cd = le(eocd + 16, 4);
  if ((entries == 0xffff || cd == 0xffffffff) && eocd >= 20 && le(eocd - 20, 4) == 0x07064b50) {  // zip64
    uint64_t z = le(eocd - 20 + 8, 8);
    if (n < 56 || z > n - 56 || le(z, 4) != 0x06064b50) return;
    entries = le(z + 32, 8);
    cd = le(z + 48, 8);
  }
  for (uint64_t i = 0; i < entries; ++i) {
    if (n < 46 || cd > n - 46 || le(cd, 4) != 0x02014b50) return;
    uint64_t size = le(cd + 24, 4);
    const uint64_t name_len = le(cd + 28, 2), extra_len = le(cd + 30, 2), comment_len = le(cd + 32, 2);
    if (46 + name_len + extra_len > n - cd) return;
    const std::string name(reinterpret_cast<const char*>(d + cd + 46), name_len);
    if (size == 0xffffffff)  // zip64 extra field (id 1): the 64-bit uncompressed size comes first
      for (uint64_t e = cd + 46 + name_len; e + 4 <= cd + 46 + name_len + extra_len;) {
        const uint64_t id = le(e, 2), len = le(e + 2, 2);
        if (id == 1 && len >= 8 && e + 12 <= n) size = le(e + 4, 8);
        e += 4 + len;
      }
    if (size > n)
      throw InputError(path + ": the archive's record " + name + " claims " + std::to_string(size) +
                       " bytes, more than the whole file (" + std::to_string(n) + " bytes): corrupt, or not torch.save's");
    cd += 46 + name_len + extra_len + comment_len;
  }
}

}  // namespace

std::map<std::string, torch::Tensor> read_torch_state_dict(const std::string& path) {
  if (file_exists(path)) check_zip_record_sizes(path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const std::exception& e) {
    throw InputError(path + ": not a zip-format torch.save file (legacy pre-1.6 format or corrupt)");
  }
  if (!zip->hasRecord("data.pkl")) throw InputError(path + ": no data.pkl in the archive (not a torch.save file)");
  auto [ptr, size] = zip->getRecord("data.pkl");
  Machine m(path, *zip);
  auto root = m.run(static_cast<const uint8_t*>(ptr.get()), size);
  if (root->kind != PValue::Dict) throw InputError(path + ": the pickle is not a state dict");
  std::map<std::string, torch::Tensor> out;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != PValue::Str || v->kind != PValue::Tensor)
      throw InputError(path + ": the state dict must map names to tensors");
    out[k->s] = v->tensor;
  }
  return out;
}

}  // namespace bertkit
