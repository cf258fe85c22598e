// WordPieceModel: the vocabulary as an open-addressing hash table (FNV-1a over
// the token bytes) and greedy longest-match-first splitting of one word.
#include "bertkit/tokenizers/wordpiece.h"

#include <algorithm>
#include <cstring>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"

namespace bertkit {

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t fnv(const char* s, std::size_t n) {
  uint64_t h = kFnvOffset;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(s[i])) * kFnvPrime;
  return h;
}
inline uint64_t mix(uint64_t h) {
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

}  // namespace

void WordPieceModel::Table::build(const std::vector<std::pair<std::string_view, int32_t>>& entries) {
  std::size_t cap = 16;
  while (cap < entries.size() * 2 + 1) cap <<= 1;
  slots.assign(cap, Slot{});
  mask = cap - 1;
  for (const auto& [key, id] : entries) {
    uint64_t h = fnv(key.data(), key.size());
    uint64_t i = mix(h) & mask;
    for (;; i = (i + 1) & mask) {
      Slot& s = slots[i];
      if (s.id < 0) {
        s = Slot{h, key.data(), static_cast<uint32_t>(key.size()), id};
        break;
      }
      if (s.hash == h && s.len == key.size() && std::memcmp(s.data, key.data(), key.size()) == 0) {
        s.id = id;  // a later duplicate wins, as in HF's vocabulary map
        break;
      }
    }
  }
}

int32_t WordPieceModel::Table::find(uint64_t h, const char* data, std::size_t len) const {
  for (uint64_t i = mix(h) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.id < 0) return -1;
    if (s.hash == h && s.len == len && std::memcmp(s.data, data, len) == 0) return s.id;
  }
}

WordPieceModel::WordPieceModel(std::vector<std::string> vocab, std::string unk_token, std::string prefix,
                               std::size_t max_input_chars_per_word)
    : vocab_(std::move(vocab)),
      unk_token_(std::move(unk_token)),
      prefix_(std::move(prefix)),
      max_chars_(max_input_chars_per_word) {
  std::vector<std::pair<std::string_view, int32_t>> initial, continuing;
  initial.reserve(vocab_.size());
  for (std::size_t i = 0; i < vocab_.size(); ++i) {
    const std::string& t = vocab_[i];
    initial.emplace_back(t, static_cast<int32_t>(i));
    max_token_bytes_ = std::max(max_token_bytes_, t.size());
    if (!prefix_.empty() && t.size() > prefix_.size() && t.compare(0, prefix_.size(), prefix_) == 0)
      continuing.emplace_back(std::string_view(t).substr(prefix_.size()), static_cast<int32_t>(i));
  }
  initial_.build(initial);
  continuing_.build(continuing);
  unk_id_ = token_to_id(unk_token_);
}

int32_t WordPieceModel::token_to_id(std::string_view token) const {
  if (initial_.slots.empty()) return -1;
  return initial_.find(fnv(token.data(), token.size()), token.data(), token.size());
}

const std::string& WordPieceModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size())
    throw InputError("token id " + std::to_string(id) + " is outside the vocabulary (size " +
                     std::to_string(vocab_.size()) + ")");
  return vocab_[static_cast<std::size_t>(id)];
}

bool WordPieceModel::is_continuation(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size() || prefix_.empty()) return false;
  const std::string& t = vocab_[static_cast<std::size_t>(id)];
  return t.size() > prefix_.size() && t.compare(0, prefix_.size(), prefix_) == 0;
}

void WordPieceModel::tokenize_word(std::string_view word, std::size_t chars, std::vector<Piece>& out) const {
  const std::size_t n = word.size();
  if (n == 0) return;
  if (chars > max_chars_) {
    out.push_back({0, static_cast<uint32_t>(n), unk_id_});
    return;
  }
  const std::size_t mark = out.size();
  // (end, hash of word[start, end)) for each character boundary, longest last.
  thread_local std::vector<std::pair<uint32_t, uint64_t>> ends;
  std::size_t start = 0;
  while (start < n) {
    const Table& table = start == 0 ? initial_ : continuing_;
    const std::size_t limit = std::min(n, start + max_token_bytes_);
    ends.clear();
    uint64_t h = kFnvOffset;
    for (std::size_t i = start; i < limit; ++i) {
      h = (h ^ static_cast<unsigned char>(word[i])) * kFnvPrime;
      if (i + 1 == n || !utf8::is_continuation_byte(word[i + 1])) ends.emplace_back(static_cast<uint32_t>(i + 1), h);
    }
    int32_t found = -1;
    std::size_t end = start;
    for (std::size_t k = ends.size(); k-- > 0;) {
      found = table.find(ends[k].second, word.data() + start, ends[k].first - start);
      if (found >= 0) {
        end = ends[k].first;
        break;
      }
    }
    if (found < 0) {
      out.resize(mark);
      out.push_back({0, static_cast<uint32_t>(n), unk_id_});
      return;
    }
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(end), found});
    start = end;
  }
}

}  // namespace bertkit
