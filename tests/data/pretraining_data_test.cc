// Corpus reading, NSP/packed instance construction, shards, the collator, prepare.
#include <filesystem>
#include <fstream>
#include <random>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/data/collator.h"
#include "bertkit/data/corpus.h"
#include "bertkit/data/pretraining.h"
#include "bertkit/data/shards.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;

namespace {
// Document d, sentence s holds ids d*10000 + s*100 + k (k < length): every id
// says where it came from.
std::vector<TokenizedDocument> synthetic_docs(int n_docs, std::mt19937_64& rng) {
  std::vector<TokenizedDocument> docs(n_docs);
  for (int d = 0; d < n_docs; ++d) {
    int n_sent = 1 + static_cast<int>(rng() % 12);
    for (int s = 0; s < n_sent; ++s) {
      int len = 3 + static_cast<int>(rng() % 20);
      std::vector<int32_t> sent;
      for (int k = 0; k < len; ++k) sent.push_back(d * 10000 + s * 100 + k);
      docs[d].push_back(sent);
    }
  }
  return docs;
}
int doc_of(int32_t id) { return id / 10000; }
int pos_of(int32_t id) { return id % 10000; }  // s*100 + k: increases along a document
}  // namespace

TEST(Corpus, BertFormatDocumentsAndGzipMatchPlain) {
  std::string dir = test::make_temp_dir();
  const std::string text = "First sentence.\r\nSecond one.\n\n\nOther doc line.\n  \nThird doc\n";
  std::ofstream(dir + "/a.txt", std::ios::binary) << text;
  ASSERT_EQ(test::run_command("gzip -c " + dir + "/a.txt > " + dir + "/b.gz"), 0);
  for (const char* f : {"/a.txt", "/b.gz"}) {
    auto docs = read_corpus({dir + f}, CorpusFormat::Bert);
    ASSERT_EQ(docs.size(), 3u) << f;
    EXPECT_EQ(docs[0].sentences, (std::vector<std::string>{"First sentence.", "Second one."}));
    EXPECT_EQ(docs[1].sentences, (std::vector<std::string>{"Other doc line."}));
    EXPECT_EQ(docs[2].sentences, (std::vector<std::string>{"Third doc"}));
  }
  auto files = expand_corpus_paths({dir});
  EXPECT_EQ(files.size(), 2u);
  EXPECT_THROW(expand_corpus_paths({dir + "/missing"}), InputError);
  fs::remove_all(dir);
}

TEST(Corpus, InvalidUtf8IsAnInputErrorNamingFileLineAndByte) {
  std::string dir = test::make_temp_dir();
  // Line 3: "caf" then a Latin-1 e-acute (0xE9), which is not UTF-8 on its own.
  // Lines 1-2 hold well-formed multi-byte text (e-acute, a CJK character, an emoji).
  std::ofstream(dir + "/a.txt", std::ios::binary) << "caf\xC3\xA9 ok.\n\xE4\xB8\xAD \xF0\x9F\x98\x80\ncaf\xE9 bad\n";
  ASSERT_EQ(test::run_command("gzip -c " + dir + "/a.txt > " + dir + "/b.gz"), 0);
  for (const std::string f : {"/a.txt", "/b.gz"}) {
    for (auto format : {CorpusFormat::Bert, CorpusFormat::DocPerLine}) {
      try {
        read_corpus({dir + f}, format);
        ADD_FAILURE() << f << ": invalid UTF-8 was read without an error";
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(dir + f + ":3: not valid UTF-8 at byte 4 of the line (0xe9"), std::string::npos)
            << e.what();
      }
    }
  }
  // Strictness as Python's decode: an overlong '/' (C0 AF) and a UTF-16 surrogate (ED A0 80) are not UTF-8.
  std::ofstream(dir + "/c.txt", std::ios::binary) << "fine\n\xC0\xAF\n";
  std::ofstream(dir + "/d.txt", std::ios::binary) << "x\xED\xA0\x80\n";
  EXPECT_THROW(read_corpus({dir + "/c.txt"}, CorpusFormat::Bert), InputError);
  EXPECT_THROW(read_corpus({dir + "/d.txt"}, CorpusFormat::Bert), InputError);
  std::ofstream(dir + "/e.txt", std::ios::binary) << "caf\xC3\xA9 \xE4\xB8\xAD.\n";
  auto docs = read_corpus({dir + "/e.txt"}, CorpusFormat::Bert);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].sentences[0], "caf\xC3\xA9 \xE4\xB8\xAD.");
  fs::remove_all(dir);
}

TEST(Corpus, DocPerLineSplitsSentences) {
  auto s = split_sentences("He said \"Stop!\" Then he left. Mr. Smith stayed?  Yes");
  EXPECT_EQ(s, (std::vector<std::string>{"He said \"Stop!\"", "Then he left.", "Mr.", "Smith stayed?", "Yes"}));
  std::string dir = test::make_temp_dir();
  std::ofstream(dir + "/d.txt") << "One. Two.\n\nThree!\n";
  auto docs = read_corpus({dir + "/d.txt"}, CorpusFormat::DocPerLine);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].sentences.size(), 2u);
  fs::remove_all(dir);
}

TEST(Instances, TruncateSeqPairTrimsTheLongerSegment) {
  std::mt19937_64 rng(1);
  std::vector<int32_t> a(10), b(4);
  for (int i = 0; i < 10; ++i) a[i] = i;
  for (int i = 0; i < 4; ++i) b[i] = 100 + i;
  truncate_seq_pair(a, b, 8, rng);
  EXPECT_EQ(a.size(), 4u);  // 10 -> 4 (then both are 4)
  EXPECT_EQ(b.size(), 4u);
  // What is left of a is a contiguous run of the original.
  for (std::size_t i = 1; i < a.size(); ++i) EXPECT_EQ(a[i], a[i - 1] + 1);
  std::vector<int32_t> c(3), d(3);
  truncate_seq_pair(c, d, 10, rng);  // already short enough
  EXPECT_EQ(c.size() + d.size(), 6u);
}

TEST(Instances, NspPairsFollowCreatePretrainingData) {
  std::mt19937_64 data_rng(11);
  auto docs = synthetic_docs(60, data_rng);
  const int64_t max_seq = 48;
  int64_t random_next = 0, actual_next = 0, short_targets = 0;
  for (int rep = 0; rep < 5; ++rep) {
    for (std::size_t d = 0; d < docs.size(); ++d) {
      std::mt19937_64 rng(rep * 1000 + d);
      for (const auto& in : create_nsp_instances(docs, d, max_seq, 0.1, rng)) {
        ASSERT_FALSE(in.tokens_a.empty());
        ASSERT_FALSE(in.tokens_b.empty());
        EXPECT_LE(static_cast<int64_t>(in.tokens_a.size() + in.tokens_b.size()), max_seq - 3);
        if (static_cast<int64_t>(in.tokens_a.size() + in.tokens_b.size()) < (max_seq - 3) / 2) ++short_targets;
        // A: tokens of this document, in document order.
        for (std::size_t i = 0; i < in.tokens_a.size(); ++i) {
          EXPECT_EQ(doc_of(in.tokens_a[i]), static_cast<int>(d));
          if (i) EXPECT_LT(pos_of(in.tokens_a[i - 1]), pos_of(in.tokens_a[i]));
        }
        if (in.next_label == 0) {
          ++actual_next;
          // B: the same document, after A.
          for (auto id : in.tokens_b) EXPECT_EQ(doc_of(id), static_cast<int>(d));
          EXPECT_LT(pos_of(in.tokens_a.back()), pos_of(in.tokens_b.front()));
        } else {
          ASSERT_EQ(in.next_label, 1);
          ++random_next;
          // B: another document.
          for (auto id : in.tokens_b) EXPECT_NE(doc_of(id), static_cast<int>(d));
        }
      }
    }
  }
  const double frac = static_cast<double>(random_next) / (random_next + actual_next);
  // 50% of multi-sentence chunks plus every single-sentence chunk: a bit above one half.
  EXPECT_GT(frac, 0.45);
  EXPECT_LT(frac, 0.7);
  EXPECT_GT(short_targets, 0);  // short_seq_prob made some short instances
}

TEST(Instances, PackedStreamsAreFullLengthAndLoseNothing) {
  std::mt19937_64 data_rng(12);
  auto docs = synthetic_docs(30, data_rng);
  const int32_t sep = 999999;
  auto inst = create_packed_instances(docs, 34, sep);
  std::vector<int32_t> stream, expect;
  for (std::size_t i = 0; i < inst.size(); ++i) {
    EXPECT_EQ(inst[i].next_label, -1);
    EXPECT_TRUE(inst[i].tokens_b.empty());
    if (i + 1 < inst.size()) EXPECT_EQ(inst[i].tokens_a.size(), 32u);
    stream.insert(stream.end(), inst[i].tokens_a.begin(), inst[i].tokens_a.end());
  }
  for (std::size_t d = 0; d < docs.size(); ++d) {
    if (d) expect.push_back(sep);
    for (const auto& s : docs[d]) expect.insert(expect.end(), s.begin(), s.end());
  }
  EXPECT_EQ(stream, expect);
}

TEST(Shards, RoundTripUint16AndUint32) {
  std::string dir = test::make_temp_dir();
  std::vector<Instance> in(3);
  in[0] = {{1, 2, 3}, {4, 5}, 1};
  in[1] = {{65535, 0}, {}, -1};
  in[2] = {{7}, {8, 9, 10}, 0};
  write_shard(dir + "/s16.bin", in, 2);
  auto in32 = in;
  in32[1].tokens_a = {70000, 0};
  write_shard(dir + "/s32.bin", in32, 4);
  for (auto [file, bytes] : {std::make_pair("/s16.bin", 2u), std::make_pair("/s32.bin", 4u)}) {
    const auto& expect = bytes == 2 ? in : in32;
    ShardReader r(dir + file);
    ASSERT_EQ(r.size(), 3);
    EXPECT_EQ(r.id_bytes(), bytes);
    EXPECT_EQ(r.num_tokens(), 11u);  // 3+2 + 2 + 1+3
    for (int i = 0; i < 3; ++i) {
      auto v = r.get(i);
      EXPECT_EQ(v.a(), expect[i].tokens_a) << file << " " << i;
      EXPECT_EQ(v.b(), expect[i].tokens_b);
      EXPECT_EQ(v.next_label, expect[i].next_label);
    }
    if (bytes == 2) EXPECT_EQ(r.get(1).a()[0], 65535);
  }
  // uint16 cannot hold 70000: refused, not wrapped.
  EXPECT_THROW(write_shard(dir + "/bad.bin", in32, 2), RuntimeError);
  // A truncated file is rejected with its name.
  std::string bytes = read_file(dir + "/s16.bin");
  write_file_atomic(dir + "/cut.bin", bytes.substr(0, bytes.size() - 1));
  try {
    ShardReader r(dir + "/cut.bin");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.bin"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(Collator, LayoutSegmentsPaddingAndLabels) {
  MaskingVocab v;
  v.mask_id = 103;
  v.vocab_size = 200;
  v.is_special.assign(200, 0);
  v.is_continuation.assign(200, 0);
  v.is_special[0] = v.is_special[101] = v.is_special[102] = v.is_special[103] = 1;
  CollatorOptions o;
  o.masking.mlm_probability = 0.0;  // layout only
  o.pad_to_multiple_of = 4;
  PretrainingCollator c(v, 101, 102, 0, o);
  std::vector<Instance> in = {{{10, 11}, {12}, 1}, {{20, 21, 22, 23}, {24, 25}, 0}};
  std::string dir = test::make_temp_dir();
  write_shard(dir + "/s.bin", in, 2);
  ShardReader r(dir + "/s.bin");
  Batch b = c.collate({r.get(0), r.get(1)}, {1, 2});
  // [CLS] 10 11 [SEP] 12 [SEP] -> 6; [CLS] 20..23 [SEP] 24 25 [SEP] -> 9; T = 12 (multiple of 4)
  ASSERT_EQ(b.input_ids.sizes(), (torch::IntArrayRef{2, 12}));
  std::vector<int64_t> row0(b.input_ids[0].data_ptr<int64_t>(), b.input_ids[0].data_ptr<int64_t>() + 12);
  EXPECT_EQ(row0, (std::vector<int64_t>{101, 10, 11, 102, 12, 102, 0, 0, 0, 0, 0, 0}));
  std::vector<int64_t> types1(b.token_type_ids[1].data_ptr<int64_t>(), b.token_type_ids[1].data_ptr<int64_t>() + 12);
  EXPECT_EQ(types1, (std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(b.attention_mask.sum(1)[0].item<int64_t>(), 6);
  EXPECT_EQ(b.attention_mask.sum(1)[1].item<int64_t>(), 9);
  EXPECT_EQ(b.next_sentence_label[0].item<int64_t>(), 1);
  EXPECT_EQ(b.next_sentence_label[1].item<int64_t>(), 0);
  // With masking on, labels are set only on real, non-special positions.
  o.masking.mlm_probability = 0.5;
  PretrainingCollator c2(v, 101, 102, 0, o);
  Batch m = c2.collate({r.get(0), r.get(1)}, {5, 6});
  auto predicted = m.labels.ne(-100);
  EXPECT_EQ(predicted.logical_and(m.attention_mask.eq(0)).sum().item<int64_t>(), 0);
  EXPECT_EQ(predicted.sum().item<int64_t>(), 2 + 3);  // round(3 x 0.5) = 2 (half away from zero), 6 x 0.5 = 3
  fs::remove_all(dir);
}

TEST(Prepare, DeterministicSplitsAndSummary) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  auto tok = load_tokenizer(test::shared_path("data/bert-vocab/bert-base-uncased-vocab.txt"));
  std::string dir = test::make_temp_dir();
  PrepareOptions o;
  o.inputs = {test::shared_path("data/corpus/gutenberg/pg11.txt")};
  o.max_seq_length = 64;
  o.eval_fraction = 0.1;
  o.progress = false;
  o.instances_per_shard = 500;
  o.output_dir = dir + "/a";
  o.threads = 1;
  auto s1 = prepare_pretraining_data(o, *tok);
  o.output_dir = dir + "/b";
  o.threads = 3;  // a different thread count gives the same bytes
  auto s2 = prepare_pretraining_data(o, *tok);
  EXPECT_EQ(s1.train_instances, s2.train_instances);
  EXPECT_GT(s1.train_instances, 1000);
  EXPECT_GT(s1.eval_instances, 0);
  EXPECT_EQ(s1.train_documents + s1.eval_documents, s1.documents);
  auto idx = ShardIndex::load(dir + "/a");
  EXPECT_EQ(idx.id_bytes, 2u);  // 30522 ids fit in uint16
  EXPECT_GT(idx.train.files.size(), 1u);
  for (const auto& f : idx.train.files) EXPECT_EQ(read_file(dir + "/a/" + f), read_file(dir + "/b/" + f)) << f;
  ShardedInstances train(dir + "/a", idx.train);
  EXPECT_EQ(train.size(), s1.train_instances);
  // Every instance decodes to text of the book (no [UNK] storms, no specials inside).
  auto v = train.get(train.size() - 1);
  for (auto id : v.a()) {
    EXPECT_NE(id, tok->special_tokens().cls);
    EXPECT_NE(id, tok->special_tokens().pad);
  }
  // Another seed: a different eval split.
  o.seed = 999;
  o.output_dir = dir + "/c";
  auto s3 = prepare_pretraining_data(o, *tok);
  EXPECT_NE(read_file(dir + "/a/eval-00000.bin"), read_file(dir + "/c/eval-00000.bin"));
  (void)s3;
  fs::remove_all(dir);
}
