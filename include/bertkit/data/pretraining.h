// Building pretraining instances from a corpus (what `bertkit prepare` runs).
//
// NSP on: instances as BERT's create_pretraining_data.py builds them: sentences
// of a document are gathered into a chunk up to a target length (max_seq_length
// - 3, or with probability short_seq_prob a random length in [2, that]); the
// chunk is split at a random sentence boundary into A and B; with probability
// 0.5 (always when the chunk is a single sentence) B is replaced by sentences
// of another, random document (next_label 1) and the unused sentences are put
// back; the pair is truncated to max_seq_length - 3 by removing tokens from the
// longer segment, at its front or back at random.
// NSP off: documents are concatenated, separated by [SEP], and cut into
// full-length segments of max_seq_length - 2 ids (RoBERTa's FULL-SENTENCES).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bertkit/data/corpus.h"
#include "bertkit/data/shards.h"

namespace bertkit {

class Tokenizer;

using TokenizedDocument = std::vector<std::vector<int32_t>>;  // sentences of ids

// Instances of document `doc_index` (NSP on). `docs` are all documents of the
// split (random next sentences come from them). Deterministic for `rng`.
std::vector<Instance> create_nsp_instances(const std::vector<TokenizedDocument>& docs, std::size_t doc_index,
                                           int64_t max_seq_length, double short_seq_prob, std::mt19937_64& rng);

// Truncate a pair to max_num_tokens in total, one token at a time from the
// longer segment, from its front or back at random (create_pretraining_data's truncate_seq_pair).
void truncate_seq_pair(std::vector<int32_t>& a, std::vector<int32_t>& b, std::size_t max_num_tokens, std::mt19937_64& rng);

// Packed full-length instances (NSP off), documents separated by `sep_id`.
std::vector<Instance> create_packed_instances(const std::vector<TokenizedDocument>& docs, int64_t max_seq_length,
                                              int32_t sep_id);

struct PrepareOptions {
  std::vector<std::string> inputs;  // files, .gz files or folders
  std::string output_dir;
  CorpusFormat format = CorpusFormat::Bert;
  int64_t max_seq_length = 128;
  double short_seq_prob = 0.1;
  bool nsp = true;
  int64_t dupe_factor = 1;          // instances are built this many times (different splits / random nexts)
  bool static_masking = false;      // fix each instance's mask at prepare time (by its id) instead of per step
  uint64_t seed = 12345;
  double eval_fraction = 0.0;       // documents held out for evaluation (fraction) ...
  int64_t eval_documents = 0;       // ... or a count (takes precedence when > 0)
  int64_t instances_per_shard = 200000;
  unsigned threads = 0;             // 0: all hardware threads
  bool progress = true;             // a progress line on stderr
  int64_t max_documents = 0;        // 0: all (for quick runs)
};

struct PrepareSummary {
  int64_t documents = 0, sentences = 0, tokens = 0;
  int64_t train_documents = 0, eval_documents = 0;
  int64_t train_instances = 0, eval_instances = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Read, tokenize (multi-threaded), build instances and write shards + index.json.
// Deterministic for options.seed whatever the thread count.
PrepareSummary prepare_pretraining_data(const PrepareOptions& options, const Tokenizer& tokenizer);

}  // namespace bertkit
