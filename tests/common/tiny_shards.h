// The pretraining shards the in-process trainer tests train on (trainer_test,
// faults_test): the first 150 documents of Alice in Wonderland
// (data/corpus/gutenberg/pg11.txt in ../shared), seq 32, 10 documents held out
// for eval, tokenized with bert-base-uncased's vocabulary. Prepared once per
// process. Callers check the data first with BERTKIT_NEED_SHARED on kTinyVocab
// and kTinyCorpus.
// Needs bertkit_train (test suites that link it add tiny_shards.cc).
#pragma once

#include <string>

namespace bertkit::test {

// The vocabulary the shards are tokenized with (relative to ../shared).
inline constexpr const char* kTinyVocab = "data/bert-vocab/bert-base-uncased-vocab.txt";
inline constexpr const char* kTinyCorpus = "data/corpus/gutenberg/pg11.txt";
// The shards' folder (a temporary directory).
const std::string& tiny_pretraining_shards();

}  // namespace bertkit::test
