#include "bertkit/training/batch_loader.h"

#include <algorithm>
#include <random>

#include "bertkit/core/error.h"
#include "bertkit/data/masking.h"

namespace bertkit {

// ---------------------------------------------------------------------------
// The order

std::vector<int64_t> group_by_length(const std::vector<int64_t>& permutation, const std::vector<int64_t>& lengths,
                                     int64_t examples_per_step) {
  const int64_t n = static_cast<int64_t>(permutation.size());
  const int64_t step = std::max<int64_t>(1, examples_per_step);
  const int64_t mult = std::max<int64_t>(1, std::min<int64_t>(n / (step * 4), 50));
  const int64_t megabatch = mult * step;
  std::vector<int64_t> out = permutation;
  std::vector<int64_t> heads;  // start of each megabatch in `out`
  for (int64_t begin = 0; begin < n; begin += megabatch) {
    const auto first = out.begin() + begin, last = out.begin() + std::min(n, begin + megabatch);
    std::stable_sort(first, last, [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
    heads.push_back(begin);
  }
  // The longest megabatch head (the first of equal maxima) goes to the front.
  std::size_t longest = 0;
  for (std::size_t m = 1; m < heads.size(); ++m)
    if (lengths[out[heads[m]]] > lengths[out[heads[longest]]]) longest = m;
  if (!heads.empty()) std::swap(out[0], out[heads[longest]]);
  return out;
}

std::vector<std::vector<int64_t>> split_by_tokens(const std::vector<int64_t>& global_batch,
                                                  const std::vector<int64_t>& lengths, int world_size) {
  const std::size_t ranks = static_cast<std::size_t>(std::max(1, world_size));
  if (global_batch.size() % ranks != 0 || lengths.size() != global_batch.size())
    throw RuntimeError("split_by_tokens: " + std::to_string(global_batch.size()) + " examples for " +
                       std::to_string(ranks) + " processes, " + std::to_string(lengths.size()) + " lengths");
  const std::size_t per_rank = global_batch.size() / ranks;
  std::vector<std::size_t> longest_first(global_batch.size());
  for (std::size_t k = 0; k < longest_first.size(); ++k) longest_first[k] = k;
  std::stable_sort(longest_first.begin(), longest_first.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  std::vector<int64_t> tokens(ranks, 0);
  std::vector<std::vector<std::size_t>> taken(ranks);
  for (std::size_t k : longest_first) {
    std::size_t best = ranks;  // the rank with room and the fewest tokens (the lowest of equals)
    for (std::size_t r = 0; r < ranks; ++r)
      if (taken[r].size() < per_rank && (best == ranks || tokens[r] < tokens[best])) best = r;
    taken[best].push_back(k);
    tokens[best] += lengths[k];
  }
  std::vector<std::vector<int64_t>> split(ranks);
  for (std::size_t r = 0; r < ranks; ++r) {
    std::sort(taken[r].begin(), taken[r].end());  // each rank's examples in batch order
    for (std::size_t k : taken[r]) split[r].push_back(global_batch[k]);
  }
  return split;
}

BatchSampler::BatchSampler(const Dataset& data, BatchSamplerOptions options) : data_(data), options_(options) {
  const int64_t n = data_.size();
  const int64_t global_batch = options_.batch_size * options_.world_size;
  const bool drop_last = options_.drop_last || options_.world_size > 1;
  micro_per_epoch_ = drop_last ? n / global_batch : (n + global_batch - 1) / global_batch;
  if (micro_per_epoch_ < 1)
    throw InputError("the training set has " + std::to_string(n) + " examples, fewer than one batch of " +
                     std::to_string(global_batch) + " (train.batch_size x processes)");
  if (options_.group_by_length) {
    lengths_.resize(n);
    for (int64_t i = 0; i < n; ++i) lengths_[i] = data_.example_length(i);
  }
}

std::vector<int64_t> BatchSampler::epoch_order(int64_t epoch) const {
  const int64_t n = data_.size();
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(mix_seed(options_.seed, static_cast<uint64_t>(epoch), 0xDA7A));
  for (int64_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % static_cast<uint64_t>(i)]);
  if (options_.group_by_length) order = group_by_length(order, lengths_, options_.examples_per_step);
  return order;
}

std::vector<int64_t> BatchSampler::indices(const DataPosition& p) {
  if (order_of_ != p.epoch) {
    order_ = epoch_order(p.epoch);
    order_of_ = p.epoch;
  }
  const int64_t global = options_.batch_size * options_.world_size;
  const int64_t end = std::min<int64_t>((p.micro_batch + 1) * global, static_cast<int64_t>(order_.size()));
  const int64_t begin = std::min(p.micro_batch * global, end);
  std::vector<int64_t> batch(order_.begin() + begin, order_.begin() + end);
  if (options_.world_size <= 1) return batch;
  std::vector<int64_t> lengths;
  for (int64_t i : batch) lengths.push_back(lengths_.empty() ? data_.example_length(i) : lengths_[i]);
  return split_by_tokens(batch, lengths, options_.world_size).at(options_.rank);
}

uint64_t BatchSampler::collate_seed(const DataPosition& p) const {
  return mix_seed(options_.seed, static_cast<uint64_t>(p.epoch), static_cast<uint64_t>(p.micro_batch));
}

DataPosition BatchSampler::next(const DataPosition& p) const {
  if (p.micro_batch + 1 >= micro_per_epoch_) return {p.epoch + 1, 0};
  return {p.epoch, p.micro_batch + 1};
}

// ---------------------------------------------------------------------------
// The loader

namespace {

Batch pinned(const Batch& b) {
  auto pin = [](const torch::Tensor& t) { return t.defined() ? t.pin_memory() : t; };
  Batch p = b;
  p.input_ids = pin(b.input_ids);
  p.token_type_ids = pin(b.token_type_ids);
  p.attention_mask = pin(b.attention_mask);
  p.position_ids = pin(b.position_ids);
  p.labels = pin(b.labels);
  p.next_sentence_label = pin(b.next_sentence_label);
  p.start_positions = pin(b.start_positions);
  p.end_positions = pin(b.end_positions);
  return p;
}

}  // namespace

BatchLoader::BatchLoader(std::shared_ptr<Dataset> data, BatchSampler sampler, BatchLoaderOptions options)
    : data_(std::move(data)), sampler_(std::move(sampler)), options_(options) {
  if (options_.workers < 0) throw InputError("train.dataloader_workers: expected an integer >= 0, got " +
                                             std::to_string(options_.workers));
  if (options_.prefetch <= 0) options_.prefetch = std::max(2, 2 * options_.workers);
}

BatchLoader::~BatchLoader() { stop_workers(); }

void BatchLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  job_room_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void BatchLoader::start(const DataPosition& from) {
  stop_workers();
  made_.clear();
  claim_at_ = from;
  claimed_ = taken_ = 0;
  stopping_ = false;
  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { work(); });
}

BatchLoader::Job BatchLoader::claim_locked() {
  Job job;
  job.position = claim_at_;
  job.indices = sampler_.indices(claim_at_);
  job.seed = sampler_.collate_seed(claim_at_);
  claim_at_ = sampler_.next(claim_at_);
  return job;
}

LoadedBatch BatchLoader::make(const Job& job) const {
  LoadedBatch out;
  out.position = job.position;
  out.batch = data_->collate(job.indices, job.seed);
  out.tokens = data_->count_tokens(out.batch);
  if (options_.device.is_cuda()) out.batch = pinned(out.batch);  // for the non-blocking copy in next()
  return out;
}

void BatchLoader::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    job_room_.wait(lock, [&] { return stopping_ || claimed_ < taken_ + options_.prefetch; });
    if (stopping_) return;
    const int64_t seq = claimed_++;
    Job job = claim_locked();
    lock.unlock();
    Made made;
    try {
      made.batch = make(job);
    } catch (...) {
      made.error = std::current_exception();
    }
    lock.lock();
    made_.emplace(seq, std::move(made));
    made_ready_.notify_all();
  }
}

LoadedBatch BatchLoader::next() {
  LoadedBatch out;
  if (threads_.empty()) {
    ++claimed_;
    ++taken_;
    out = make(claim_locked());
  } else {
    std::unique_lock<std::mutex> lock(mutex_);
    made_ready_.wait(lock, [&] { return made_.count(taken_) > 0; });
    auto it = made_.find(taken_);
    Made made = std::move(it->second);
    made_.erase(it);
    ++taken_;
    lock.unlock();
    job_room_.notify_all();
    if (made.error) std::rethrow_exception(made.error);
    out = std::move(made.batch);
  }
  out.batch = out.batch.to(options_.device);  // non-blocking from pinned memory on CUDA
  return out;
}

}  // namespace bertkit
