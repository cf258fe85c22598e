#include "bertkit/data/masking.h"

#include <algorithm>
#include <cmath>

#include "bertkit/core/error.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

void MaskingOptions::validate(const std::string& where) const {
  auto prob = [&](double p, const std::string& key) {
    if (!(p >= 0.0 && p <= 1.0))
      throw InputError(where + "." + key + ": expected a probability in [0, 1], got " + std::to_string(p));
  };
  prob(mlm_probability, "mlm_probability");
  prob(mask_token_probability, "mask_token_probability");
  prob(random_token_probability, "random_token_probability");
  if (mask_token_probability + random_token_probability > 1.0 + 1e-12)
    throw InputError(where + ": mask_token_probability + random_token_probability must be <= 1 (the rest keep the token), got " +
                     std::to_string(mask_token_probability + random_token_probability));
  if (max_predictions_per_seq < 0)
    throw InputError(where + ".max_predictions_per_seq: expected >= 0 (0: no cap), got " + std::to_string(max_predictions_per_seq));
}

MaskingVocab MaskingVocab::from_tokenizer(const Tokenizer& tokenizer) {
  MaskingVocab v;
  const auto& sp = tokenizer.special_tokens();
  v.mask_id = sp.mask;
  if (v.mask_id < 0) throw InputError("the tokenizer has no mask token (" + sp.mask_token + "): MLM pretraining needs one");
  v.vocab_size = static_cast<int64_t>(tokenizer.vocab_size());
  v.is_special.assign(v.vocab_size, 0);
  v.is_continuation.assign(v.vocab_size, 0);
  for (int32_t id : {sp.pad, sp.unk, sp.cls, sp.sep, sp.mask})
    if (id >= 0 && id < v.vocab_size && id != sp.unk) v.is_special[id] = 1;
  for (int64_t id = 0; id < v.vocab_size; ++id)
    v.is_continuation[id] = tokenizer.is_continuation(static_cast<int32_t>(id)) ? 1 : 0;
  return v;
}

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) {
  auto sm = [](uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  };
  return sm(sm(sm(a) ^ b) ^ c);
}

namespace {
// Uniform double in [0, 1) from the engine, identical on every platform
// (std::uniform_real_distribution is implementation-defined).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); }
uint64_t below(std::mt19937_64& rng, uint64_t n) { return n == 0 ? 0 : rng() % n; }
}  // namespace

int64_t mask_sequence(std::vector<int32_t>& ids, std::vector<int64_t>& labels, std::size_t length,
                      const MaskingVocab& vocab, const MaskingOptions& options, std::mt19937_64& rng) {
  length = std::min(length, ids.size());
  labels.assign(ids.size(), -100);
  // Candidate groups: each a word (whole-word masking) or a single token.
  std::vector<std::vector<std::size_t>> groups;
  std::size_t maskable = 0;
  auto special = [&](int32_t id) { return id >= 0 && id < vocab.vocab_size && vocab.is_special[id]; };
  auto continues = [&](int32_t id) { return id >= 0 && id < vocab.vocab_size && vocab.is_continuation[id]; };
  for (std::size_t i = 0; i < length; ++i) {
    int32_t id = ids[i];
    if (special(id)) continue;
    ++maskable;
    if (options.whole_word_masking && !groups.empty() && continues(id) && groups.back().back() + 1 == i)
      groups.back().push_back(i);
    else
      groups.push_back({i});
  }
  if (maskable == 0 || options.mlm_probability <= 0.0) return 0;
  int64_t target = std::max<int64_t>(1, std::llround(static_cast<double>(maskable) * options.mlm_probability));
  if (options.max_predictions_per_seq > 0) target = std::min(target, options.max_predictions_per_seq);
  // Fisher-Yates with our own index draw, so the order is the same everywhere.
  for (std::size_t i = groups.size(); i > 1; --i) std::swap(groups[i - 1], groups[below(rng, i)]);
  int64_t predicted = 0;
  for (const auto& g : groups) {
    if (predicted >= target) break;
    // Skip a word that would overshoot the budget (as create_pretraining_data does).
    if (predicted + static_cast<int64_t>(g.size()) > target) continue;
    for (std::size_t pos : g) {
      labels[pos] = ids[pos];
      double r = uniform01(rng);
      if (r < options.mask_token_probability) {
        ids[pos] = vocab.mask_id;
      } else if (r < options.mask_token_probability + options.random_token_probability) {
        ids[pos] = static_cast<int32_t>(below(rng, static_cast<uint64_t>(vocab.vocab_size)));
      }
      ++predicted;
    }
  }
  return predicted;
}

}  // namespace bertkit
