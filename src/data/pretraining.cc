#include "bertkit/data/pretraining.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <numeric>
#include <thread>

#include "bertkit/core/error.h"
#include "bertkit/core/progress.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/parallel.h"
#include "bertkit/data/masking.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

namespace {
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); }
// Uniform integer in [lo, hi] (inclusive, like Python's randint).
int64_t randint(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return hi <= lo ? lo : lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

}  // namespace

void truncate_seq_pair(std::vector<int32_t>& a, std::vector<int32_t>& b, std::size_t max_num_tokens,
                       std::mt19937_64& rng) {
  while (a.size() + b.size() > max_num_tokens) {
    auto& trunc = a.size() > b.size() ? a : b;
    if (trunc.empty()) break;
    // Remove from the front or the back at random, to add more randomness and avoid biases.
    if (uniform01(rng) < 0.5) trunc.erase(trunc.begin());
    else trunc.pop_back();
  }
}

std::vector<Instance> create_nsp_instances(const std::vector<TokenizedDocument>& docs, std::size_t doc_index,
                                           int64_t max_seq_length, double short_seq_prob, std::mt19937_64& rng) {
  std::vector<Instance> out;
  const auto& document = docs[doc_index];
  // [CLS], [SEP], [SEP]
  const int64_t max_num_tokens = max_seq_length - 3;
  int64_t target_seq_length = max_num_tokens;
  if (uniform01(rng) < short_seq_prob) target_seq_length = randint(rng, 2, max_num_tokens);

  std::vector<const std::vector<int32_t>*> current_chunk;
  int64_t current_length = 0;
  int64_t i = 0;
  const int64_t n = static_cast<int64_t>(document.size());
  while (i < n) {
    const auto& segment = document[i];
    current_chunk.push_back(&segment);
    current_length += static_cast<int64_t>(segment.size());
    if (i == n - 1 || current_length >= target_seq_length) {
      if (!current_chunk.empty()) {
        // How many chunk sentences go to A.
        int64_t a_end = 1;
        if (current_chunk.size() >= 2) a_end = randint(rng, 1, static_cast<int64_t>(current_chunk.size()) - 1);
        Instance inst;
        for (int64_t j = 0; j < a_end; ++j)
          inst.tokens_a.insert(inst.tokens_a.end(), current_chunk[j]->begin(), current_chunk[j]->end());
        bool random_next = current_chunk.size() == 1 || uniform01(rng) < 0.5;
        if (random_next && docs.size() > 1) {
          int64_t target_b_length = target_seq_length - static_cast<int64_t>(inst.tokens_a.size());
          // Another document (10 tries, as the reference does; the last pick stands).
          std::size_t random_document_index = doc_index;
          for (int t = 0; t < 10; ++t) {
            random_document_index = static_cast<std::size_t>(randint(rng, 0, static_cast<int64_t>(docs.size()) - 1));
            if (random_document_index != doc_index) break;
          }
          const auto& random_document = docs[random_document_index];
          if (!random_document.empty()) {
            int64_t random_start = randint(rng, 0, static_cast<int64_t>(random_document.size()) - 1);
            for (std::size_t j = static_cast<std::size_t>(random_start); j < random_document.size(); ++j) {
              inst.tokens_b.insert(inst.tokens_b.end(), random_document[j].begin(), random_document[j].end());
              if (static_cast<int64_t>(inst.tokens_b.size()) >= target_b_length) break;
            }
          }
          inst.next_label = 1;
          // The sentences of the chunk not used for A are "put back".
          i -= static_cast<int64_t>(current_chunk.size()) - a_end;
        } else {
          inst.next_label = 0;
          for (std::size_t j = static_cast<std::size_t>(a_end); j < current_chunk.size(); ++j)
            inst.tokens_b.insert(inst.tokens_b.end(), current_chunk[j]->begin(), current_chunk[j]->end());
        }
        truncate_seq_pair(inst.tokens_a, inst.tokens_b, static_cast<std::size_t>(max_num_tokens), rng);
        if (!inst.tokens_a.empty() && !inst.tokens_b.empty()) out.push_back(std::move(inst));
      }
      current_chunk.clear();
      current_length = 0;
    }
    ++i;
  }
  return out;
}

std::vector<Instance> create_packed_instances(const std::vector<TokenizedDocument>& docs, int64_t max_seq_length,
                                              int32_t sep_id) {
  std::vector<Instance> out;
  const std::size_t len = static_cast<std::size_t>(max_seq_length - 2);  // [CLS] ... [SEP]
  Instance cur;
  cur.next_label = -1;
  bool first_doc = true;
  auto push = [&](int32_t id) {
    cur.tokens_a.push_back(id);
    if (cur.tokens_a.size() == len) {
      out.push_back(std::move(cur));
      cur = Instance{};
      cur.next_label = -1;
    }
  };
  for (const auto& doc : docs) {
    if (doc.empty()) continue;
    if (!first_doc && !cur.tokens_a.empty()) push(sep_id);  // document boundary
    first_doc = false;
    for (const auto& sentence : doc)
      for (int32_t id : sentence) push(id);
  }
  if (!cur.tokens_a.empty()) out.push_back(std::move(cur));
  return out;
}

nlohmann::json PrepareSummary::to_json() const {
  return {{"documents", documents}, {"sentences", sentences}, {"tokens", tokens},
          {"train_documents", train_documents}, {"eval_documents", eval_documents},
          {"train_instances", train_instances}, {"eval_instances", eval_instances},
          {"instances", train_instances + eval_instances}, {"seconds", seconds}};
}

PrepareSummary prepare_pretraining_data(const PrepareOptions& o, const Tokenizer& tokenizer) {
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (o.max_seq_length < 8) throw InputError("max_seq_length: expected >= 8, got " + std::to_string(o.max_seq_length));
  if (o.dupe_factor < 1) throw InputError("dupe_factor: expected >= 1, got " + std::to_string(o.dupe_factor));
  if (!(o.short_seq_prob >= 0 && o.short_seq_prob <= 1)) throw InputError("short_seq_prob: expected a probability in [0, 1]");
  if (!(o.eval_fraction >= 0 && o.eval_fraction < 1)) throw InputError("eval_fraction: expected a value in [0, 1)");
  if (o.instances_per_shard < 1) throw InputError("instances_per_shard: expected >= 1");
  const auto& sp = tokenizer.special_tokens();
  if (sp.cls < 0 || sp.sep < 0 || sp.pad < 0 || sp.mask < 0)
    throw InputError("the tokenizer lacks one of [CLS], [SEP], [PAD], [MASK]: pretraining needs all four");

  // 1. Read.
  auto files = expand_corpus_paths(o.inputs);
  std::vector<Document> docs = read_corpus(files, o.format);
  if (o.max_documents > 0 && static_cast<int64_t>(docs.size()) > o.max_documents) docs.resize(o.max_documents);
  if (docs.empty()) throw InputError("no documents found in the input (empty files?)");
  PrepareSummary s;
  s.documents = static_cast<int64_t>(docs.size());
  if (o.progress) std::cerr << "prepare: read " << docs.size() << " documents from " << files.size() << " file(s)\n";

  // 2. Tokenize, multi-threaded, one document per work item.
  std::vector<TokenizedDocument> tokenized(docs.size());
  std::atomic<int64_t> done{0};
  std::mutex progress_mutex;
  ProgressLine progress("prepare: tokenized", static_cast<int64_t>(docs.size()), "documents");
  EncodeOptions enc;
  enc.add_special_tokens = false;
  parallel_for(docs.size(), o.threads, [&](std::size_t d) {
    auto& out = tokenized[d];
    for (const auto& sentence : docs[d].sentences) {
      auto e = tokenizer.encode(sentence, std::nullopt, enc);
      if (!e.ids.empty()) out.push_back(std::move(e.ids));
    }
    int64_t k = ++done;
    if (o.progress && (k % 500 == 0 || k == static_cast<int64_t>(docs.size()))) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress.update(k);
    }
  });
  for (const auto& d : docs) s.sentences += static_cast<int64_t>(d.sentences.size());
  docs.clear();
  docs.shrink_to_fit();
  for (const auto& d : tokenized)
    for (const auto& sentence : d) s.tokens += static_cast<int64_t>(sentence.size());

  // 3. Hold out documents for evaluation (a seeded choice).
  std::vector<std::size_t> order(tokenized.size());
  std::iota(order.begin(), order.end(), 0);
  {
    std::mt19937_64 rng(mix_seed(o.seed, 0xE7A1));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  }
  int64_t n_eval = o.eval_documents > 0 ? o.eval_documents
                                        : static_cast<int64_t>(std::llround(o.eval_fraction * static_cast<double>(order.size())));
  n_eval = std::min<int64_t>(n_eval, static_cast<int64_t>(order.size()) - 1);
  std::vector<std::size_t> eval_ids(order.begin(), order.begin() + n_eval);
  std::vector<std::size_t> train_ids(order.begin() + n_eval, order.end());
  std::sort(eval_ids.begin(), eval_ids.end());
  std::sort(train_ids.begin(), train_ids.end());
  auto take = [&](const std::vector<std::size_t>& ids) {
    std::vector<TokenizedDocument> out;
    out.reserve(ids.size());
    for (auto i : ids) out.push_back(std::move(tokenized[i]));
    return out;
  };
  std::vector<TokenizedDocument> eval_docs = take(eval_ids), train_docs = take(train_ids);
  s.train_documents = static_cast<int64_t>(train_docs.size());
  s.eval_documents = static_cast<int64_t>(eval_docs.size());

  // 4. Instances, per split; deterministic per (seed, split, dupe, document).
  auto build = [&](const std::vector<TokenizedDocument>& split_docs, uint64_t split_tag) {
    std::vector<Instance> all;
    for (int64_t dupe = 0; dupe < o.dupe_factor; ++dupe) {
      if (o.nsp) {
        std::vector<std::vector<Instance>> per_doc(split_docs.size());
        parallel_for(split_docs.size(), o.threads, [&](std::size_t d) {
          std::mt19937_64 rng(mix_seed(o.seed, split_tag * 1000003ull + static_cast<uint64_t>(dupe), d));
          per_doc[d] = create_nsp_instances(split_docs, d, o.max_seq_length, o.short_seq_prob, rng);
        });
        for (auto& v : per_doc)
          for (auto& inst : v) all.push_back(std::move(inst));
      } else {
        // Each copy packs the documents in a different (seeded) order.
        std::vector<std::size_t> perm(split_docs.size());
        std::iota(perm.begin(), perm.end(), 0);
        if (dupe > 0) {
          std::mt19937_64 rng(mix_seed(o.seed, split_tag * 1000003ull + static_cast<uint64_t>(dupe), 0xD0C));
          for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
        }
        std::vector<TokenizedDocument> ordered;
        ordered.reserve(perm.size());
        for (auto p : perm) ordered.push_back(split_docs[p]);
        auto v = create_packed_instances(ordered, o.max_seq_length, sp.sep);
        for (auto& inst : v) all.push_back(std::move(inst));
      }
    }
    // Shuffle instances (as create_pretraining_data does) so a shard is a random sample.
    std::mt19937_64 rng(mix_seed(o.seed, split_tag, 0x5EED));
    for (std::size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng() % i]);
    return all;
  };

  ShardIndex index;
  index.vocab_size = static_cast<int64_t>(tokenizer.vocab_size());
  index.id_bytes = index.vocab_size <= 65536 ? 2 : 4;
  index.nsp = o.nsp;
  index.max_seq_length = o.max_seq_length;
  index.static_masking = o.static_masking;
  index.seed = o.seed;
  index.cls_id = sp.cls;
  index.sep_id = sp.sep;
  index.pad_id = sp.pad;
  index.mask_id = sp.mask;
  make_dirs(o.output_dir);
  auto write_split = [&](const std::string& name, const std::vector<Instance>& instances, ShardIndex::Split& split) {
    split.instances = static_cast<int64_t>(instances.size());
    for (std::size_t start = 0, k = 0; start < instances.size(); start += o.instances_per_shard, ++k) {
      std::size_t end = std::min(instances.size(), start + static_cast<std::size_t>(o.instances_per_shard));
      std::vector<Instance> part(instances.begin() + start, instances.begin() + end);
      for (const auto& in : part) split.tokens += static_cast<int64_t>(in.tokens_a.size() + in.tokens_b.size());
      char file[64];
      std::snprintf(file, sizeof(file), "%s-%05zu.bin", name.c_str(), k);
      write_shard(o.output_dir + "/" + file, part, index.id_bytes);
      split.files.push_back(file);
    }
  };
  {
    auto train = build(train_docs, 1);
    if (train.empty()) throw InputError("the corpus produced no training instances (documents too short?)");
    write_split("train", train, index.train);
  }
  if (!eval_docs.empty()) write_split("eval", build(eval_docs, 2), index.eval);
  index.train.documents = s.train_documents;
  index.eval.documents = s.eval_documents;
  s.train_instances = index.train.instances;
  s.eval_instances = index.eval.instances;
  s.seconds = elapsed();
  index.summary = s.to_json();
  index.summary["inputs"] = files;
  index.summary["short_seq_prob"] = o.short_seq_prob;
  index.summary["dupe_factor"] = o.dupe_factor;
  index.save(o.output_dir);
  return s;
}

}  // namespace bertkit
