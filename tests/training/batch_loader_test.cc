// The training data order (HF's group_by_length regrouping, hand-derived) and
// the prefetching loader: the same batches, in the same order, whatever the
// worker count, from any start position.
#include <algorithm>
#include <chrono>
#include <thread>

#include "bertkit/core/error.h"
#include "bertkit/data/masking.h"
#include "bertkit/training/batch_loader.h"
#include "test_util.h"

using namespace bertkit;

namespace {

// Example i has length lengths[i]; a batch carries its indices, their
// lengths and the collate seed, so the test can see what was made.
class FakeDataset : public Dataset {
 public:
  explicit FakeDataset(std::vector<int64_t> lengths, int64_t fail_at = -1)
      : lengths_(std::move(lengths)), fail_at_(fail_at) {}
  int64_t size() const override { return static_cast<int64_t>(lengths_.size()); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t seed) const override {
    // Uneven work, so that workers finish out of order.
    std::this_thread::sleep_for(std::chrono::microseconds(200 * (indices.empty() ? 0 : indices[0] % 3)));
    Batch b;
    int64_t longest = 1;
    for (int64_t i : indices) {
      if (i == fail_at_) throw InputError("example " + std::to_string(i) + " is broken");
      longest = std::max(longest, lengths_[i]);
    }
    b.input_ids = torch::tensor(indices, torch::kInt64).unsqueeze(1).expand({-1, longest}).contiguous();
    b.attention_mask = torch::zeros({static_cast<int64_t>(indices.size()), longest}, torch::kInt64);
    for (std::size_t r = 0; r < indices.size(); ++r) b.attention_mask[r].narrow(0, 0, lengths_[indices[r]]).fill_(1);
    b.labels = torch::tensor({static_cast<int64_t>(seed & 0x7fffffff)}, torch::kInt64);
    return b;
  }

 private:
  std::vector<int64_t> lengths_;
  int64_t fail_at_;
};

std::vector<int64_t> rows(const Batch& b) {
  auto t = b.input_ids.select(1, 0).contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

}  // namespace

TEST(SplitByTokens, LongestFirstToThePartWithFewestTokens) {
  const std::vector<int64_t> batch = {10, 11, 12, 13, 14, 15};
  const std::vector<int64_t> lengths = {5, 9, 2, 7, 3, 4};
  // Longest first: 11 (9) -> rank 0; 13 (7) -> 1; 10 (5) -> 1 (7 < 9); 15 (4) -> 0 (9 < 12);
  // 14 (3) -> 1 (12 < 13), now full; 12 (2) -> 0. Tokens 9 + 2 + 4 = 15 and 5 + 7 + 3 = 15.
  const auto split = split_by_tokens(batch, lengths, 2);
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(split[0], (std::vector<int64_t>{11, 12, 15}));
  EXPECT_EQ(split[1], (std::vector<int64_t>{10, 13, 14}));
}

TEST(SplitByTokens, EqualLengthsAlternateAndOneProcessKeepsTheBatch) {
  EXPECT_EQ(split_by_tokens({4, 5, 6, 7}, {8, 8, 8, 8}, 2), (std::vector<std::vector<int64_t>>{{4, 6}, {5, 7}}));
  EXPECT_EQ(split_by_tokens({4, 5, 6}, {1, 3, 2}, 1), (std::vector<std::vector<int64_t>>{{4, 5, 6}}));
  EXPECT_THROW(split_by_tokens({4, 5, 6}, {1, 3, 2}, 2), RuntimeError);
}

// Two ranks of batch 4 take exactly the examples of one process's batch of 8,
// split so that their token counts differ by at most the longest example (63
// here).
TEST(BatchSampler, RanksShareEachGlobalBatchWithEvenTokens) {
  std::vector<int64_t> lengths;
  for (int64_t i = 0; i < 48; ++i) lengths.push_back(1 + (i * 37) % 64);
  FakeDataset data(lengths);
  BatchSamplerOptions one;
  one.batch_size = 8;
  BatchSampler whole(data, one);
  std::vector<BatchSampler> ranks;
  for (int r = 0; r < 2; ++r) {
    BatchSamplerOptions o = one;
    o.batch_size = 4;
    o.world_size = 2;
    o.rank = r;
    ranks.emplace_back(data, o);
  }
  auto tokens = [&](const std::vector<int64_t>& idx) {
    int64_t t = 0;
    for (int64_t i : idx) t += lengths[i];
    return t;
  };
  for (int64_t m = 0; m < whole.micro_batches_per_epoch(); ++m) {
    const DataPosition p{0, m};
    auto a = ranks[0].indices(p), b = ranks[1].indices(p), all = whole.indices(p);
    ASSERT_EQ(a.size(), 4u);
    ASSERT_EQ(b.size(), 4u);
    std::vector<int64_t> joined = a;
    joined.insert(joined.end(), b.begin(), b.end());
    std::sort(joined.begin(), joined.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(joined, all) << "micro-batch " << m;
    EXPECT_LE(std::abs(tokens(a) - tokens(b)), 63) << "micro-batch " << m;
  }
}

TEST(GroupByLength, MegabatchesSortedLongestFirstAsHf) {
  const std::vector<int64_t> perm = {5, 2, 9, 0, 11, 7, 3, 8, 1, 10, 4, 6};
  const std::vector<int64_t> lengths = {4, 9, 3, 7, 2, 5, 8, 5, 1, 6, 3, 5};
  // 12 examples, 1 per step: megabatches of min(12 / 4, 50) = 3 examples.
  //   [5 2 9] lengths 5 3 6 -> [9 5 2];  [0 11 7] 4 5 5 -> [11 7 0] (tie keeps order)
  //   [3 8 1] 7 1 9 -> [1 3 8];          [10 4 6] 3 2 8 -> [6 10 4]
  // The longest head (1, length 9) swaps places with the first example (9).
  EXPECT_EQ(group_by_length(perm, lengths, 1), (std::vector<int64_t>{1, 5, 2, 11, 7, 0, 9, 3, 8, 6, 10, 4}));
  // 2 per step: min(12 / 8, 50) = 1 step = 2 examples per megabatch.
  //   [5 2] -> [5 2]; [9 0] -> [9 0]; [11 7] -> [11 7]; [3 8] -> [3 8]; [1 10] -> [1 10]; [4 6] -> [6 4]
  //   heads 5 6 5 7 9 8: the longest is 1 (megabatch 4), swapped with 5.
  EXPECT_EQ(group_by_length(perm, lengths, 2), (std::vector<int64_t>{1, 2, 9, 0, 11, 7, 3, 8, 5, 10, 6, 4}));
}

TEST(BatchSampler, GroupedOrderIsTheSeededPermutationRegrouped) {
  std::vector<int64_t> lengths;
  for (int64_t i = 0; i < 40; ++i) lengths.push_back(1 + (i * 7) % 13);
  FakeDataset data(lengths);
  BatchSamplerOptions o;
  o.seed = 7;
  o.batch_size = 2;
  o.examples_per_step = 2;
  BatchSampler plain(data, o);
  o.group_by_length = true;
  BatchSampler grouped(data, o);
  for (int64_t epoch : {0, 1}) {
    auto order = plain.epoch_order(epoch);
    EXPECT_EQ(grouped.epoch_order(epoch), group_by_length(order, lengths, 2));
    // 40 examples, 2 per step: megabatches of min(40 / 8, 50) x 2 = 10, longest first.
    auto g = grouped.epoch_order(epoch);
    EXPECT_EQ(lengths[g[0]], 13);
    // Sorted within each megabatch (but for the one head swapped with the first).
    for (int m = 0; m < 4; ++m)
      for (int k = 2; k < 10; ++k)
        EXPECT_GE(lengths[g[m * 10 + k - 1]], lengths[g[m * 10 + k]]) << m << " " << k;
  }
  EXPECT_NE(plain.epoch_order(0), plain.epoch_order(1));
  // The default example_length: the collated example's real tokens.
  EXPECT_EQ(data.example_length(3), lengths[3]);
}

TEST(BatchLoader, SameBatchesForAnyWorkerCountAcrossEpochs) {
  std::vector<int64_t> lengths;
  for (int64_t i = 0; i < 23; ++i) lengths.push_back(1 + i % 5);
  auto data = std::make_shared<FakeDataset>(lengths);
  BatchSamplerOptions so;
  so.seed = 11;
  so.batch_size = 4;  // 6 micro-batches per epoch, the last one of 3
  so.group_by_length = true;
  so.examples_per_step = 4;
  BatchSampler reference(*data, so);
  ASSERT_EQ(reference.micro_batches_per_epoch(), 6);
  for (int workers : {0, 1, 3}) {
    SCOPED_TRACE(workers);
    BatchLoaderOptions lo;
    lo.workers = workers;
    BatchLoader loader(data, BatchSampler(*data, so), lo);
    loader.start({0, 4});  // mid-epoch, as a resumed run
    DataPosition p{0, 4};
    for (int k = 0; k < 10; ++k) {
      LoadedBatch b = loader.next();
      EXPECT_EQ(b.position.epoch, p.epoch);
      EXPECT_EQ(b.position.micro_batch, p.micro_batch);
      EXPECT_EQ(rows(b.batch), reference.indices(p));
      EXPECT_EQ(b.batch.labels.item<int64_t>(), static_cast<int64_t>(mix_seed(11, p.epoch, p.micro_batch) & 0x7fffffff));
      int64_t tokens = 0;
      for (int64_t i : reference.indices(p)) tokens += lengths[i];
      EXPECT_EQ(b.tokens, tokens);
      p = p.micro_batch == 5 ? DataPosition{p.epoch + 1, 0} : DataPosition{p.epoch, p.micro_batch + 1};
    }
  }
}

TEST(BatchLoader, WorkerErrorsReachTheTrainingThreadAtTheirBatch) {
  std::vector<int64_t> lengths(16, 3);
  BatchSamplerOptions so;
  so.batch_size = 4;
  // The batch holding example 9 fails; the ones before it arrive first.
  auto data = std::make_shared<FakeDataset>(lengths, 9);
  BatchSampler reference(*data, so);
  int bad = -1;
  for (int m = 0; m < 4 && bad < 0; ++m) {
    auto idx = reference.indices({0, m});
    if (std::find(idx.begin(), idx.end(), 9) != idx.end()) bad = m;
  }
  for (int workers : {0, 2}) {
    BatchLoaderOptions lo;
    lo.workers = workers;
    BatchLoader loader(data, BatchSampler(*data, so), lo);
    loader.start({0, 0});
    for (int m = 0; m < bad; ++m) EXPECT_NO_THROW(loader.next());
    EXPECT_THROW(loader.next(), InputError);
  }
}
