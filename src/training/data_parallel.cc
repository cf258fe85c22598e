#include "bertkit/training/data_parallel.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "bertkit/core/error.h"
#include "c10d.h"

#if BERTKIT_HAVE_C10D
#include <torch/csrc/distributed/c10d/reducer.hpp>
#endif

namespace bertkit {

#if BERTKIT_HAVE_C10D
namespace {

using Tensors = std::vector<at::Tensor>;
using Buckets = std::vector<std::vector<std::size_t>>;
using Names = std::unordered_map<std::size_t, std::string>;
using Pg = c10::intrusive_ptr<c10d::ProcessGroup>;

template <class>
constexpr bool kNoReducerConstructor = false;

// c10d::Reducer's constructor gained and lost arguments across LibTorch
// versions; call whichever this one has (gradients as views of the buckets,
// no Python reducer, the caps of rebuilt buckets from first/bucket_bytes_cap).
// As bucket views, the all-reduced gradients need no copy back out of the
// buckets (DDP's gradient_as_bucket_view); the optimizer's zero_grad() drops
// them and the next backward's Reducer hooks point them at the buckets again.
template <class R = c10d::Reducer>
std::unique_ptr<R> make_reducer(Tensors params, Buckets buckets, std::vector<std::size_t> limits, Pg pg,
                                int64_t bucket_cap, bool find_unused, Names names, int64_t first_bucket_cap) {
  std::vector<bool> sparse(params.size(), false);
  constexpr bool kAsViews = true;
  if constexpr (std::is_constructible_v<R, Tensors, Buckets, std::vector<std::size_t>, Pg, std::vector<bool>, int64_t,
                                        bool, bool, Names, int64_t>) {  // 1.13
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(limits), std::move(pg), sparse,
                               bucket_cap, find_unused, kAsViews, std::move(names), first_bucket_cap);
  } else if constexpr (std::is_constructible_v<R, Tensors, Buckets, Pg, std::vector<bool>, int64_t, bool, bool, Names,
                                               int64_t>) {
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(pg), sparse, bucket_cap, find_unused,
                               kAsViews, std::move(names), first_bucket_cap);
  } else if constexpr (std::is_constructible_v<R, Tensors, Buckets, Pg, std::vector<bool>, int64_t, bool, bool, Names,
                                               int64_t, bool, bool>) {
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(pg), sparse, bucket_cap, find_unused,
                               kAsViews, std::move(names), first_bucket_cap, /*skip_all_reduce_unused_params=*/false,
                               /*use_python_reducer=*/false);
  } else if constexpr (std::is_constructible_v<R, Tensors, Buckets, Pg, std::vector<bool>, int64_t, bool, bool, Names,
                                               int64_t, bool, bool, std::vector<int64_t>>) {
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(pg), sparse, bucket_cap, find_unused,
                               kAsViews, std::move(names), first_bucket_cap, false, false, std::vector<int64_t>{});
  } else {
    static_assert(kNoReducerConstructor<R>, "c10d::Reducer: no known constructor in this LibTorch");
  }
}

// Each parameter once (tied weights share a tensor), in the given order.
std::vector<std::size_t> unique_trainable(const std::vector<torch::Tensor>& params) {
  std::vector<std::size_t> keep;
  std::unordered_set<const void*> seen;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].requires_grad() && seen.insert(params[i].unsafeGetTensorImpl()).second) keep.push_back(i);
  return keep;
}

}  // namespace
#endif

struct DataParallel::Impl {
  std::shared_ptr<Distributed> dist;
  DataParallelOptions options;
  bool prepared = false;  // this step's reducing backward was announced
#if BERTKIT_HAVE_C10D
  std::unique_ptr<c10d::Reducer> reducer;
#endif
};

DataParallel::DataParallel(std::shared_ptr<Distributed> dist, const std::vector<torch::Tensor>& params,
                           const std::vector<std::string>& names, const DataParallelOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->dist = std::move(dist);
  impl_->options = options;
  if (impl_->dist->world_size() <= 1) return;
#if BERTKIT_HAVE_C10D
  auto pg = process_group_of(*impl_->dist);
  if (!pg) throw RuntimeError("data parallel: the Distributed instance has no c10d process group");
  Tensors kept;
  Names kept_names;
  for (std::size_t i : unique_trainable(params)) {
    kept_names[kept.size()] = i < names.size() ? names[i] : "parameter " + std::to_string(i);
    kept.push_back(params[i]);
  }
  if (kept.empty()) throw RuntimeError("data parallel: the model has no trainable parameters");
  // As DDP: every replica must hold the same parameters (shapes, dtypes).
  c10d::verify_params_across_processes(pg, kept, {});
  const int64_t first_cap = c10d::kDefaultFirstBucketBytes;
  const int64_t cap = static_cast<int64_t>(options.bucket_cap_mb * 1024 * 1024);
  // As DDP: the first iteration's buckets follow the reversed parameter order
  // (one bucket unless unused parameters are expected, since that order need
  // not be backward's); after it the Reducer rebuilds them in the order the
  // gradients arrived, capped at 1 MiB for the first and `cap` for the rest.
  std::vector<std::size_t> limits =
      options.find_unused_parameters ? std::vector<std::size_t>{static_cast<std::size_t>(first_cap),
                                                                static_cast<std::size_t>(cap)}
                                     : std::vector<std::size_t>{std::numeric_limits<std::size_t>::max()};
  auto [buckets, per_bucket_limits] =
      c10d::compute_bucket_assignment_by_size(kept, limits, std::vector<bool>(kept.size(), false));
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(per_bucket_limits.begin(), per_bucket_limits.end());
  impl_->reducer = make_reducer(std::move(kept), std::move(buckets), std::move(per_bucket_limits), pg, cap,
                                options.find_unused_parameters, std::move(kept_names), first_cap);
#else
  throw InputError("data parallel: this bertkit was built without c10d process groups");
#endif
}

DataParallel::~DataParallel() = default;

void DataParallel::before_backward(const torch::Tensor& loss, bool sync) {
#if BERTKIT_HAVE_C10D
  if (!impl_->reducer || !sync) return;  // one process, or DDP's no_sync: gradients accumulate locally
  try {
    impl_->reducer->rebuild_buckets();  // once, after the first reducing backward (broadcasts rank 0's buckets)
    if (impl_->options.find_unused_parameters)
      impl_->reducer->prepare_for_backward({loss});
    else
      impl_->reducer->prepare_for_backward({});
  } catch (const bertkit::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw RuntimeError(describe_collective_failure(*impl_->dist, e));
  }
  impl_->prepared = true;
#endif
}

void DataParallel::synchronize_gradients() {
#if BERTKIT_HAVE_C10D
  if (!impl_->reducer) return;
  if (!impl_->prepared)
    throw RuntimeError("data parallel: an optimizer step without a reducing backward (before_backward(loss, true))");
  impl_->prepared = false;  // the Reducer averaged the buckets before backward() returned
#endif
}

}  // namespace bertkit
