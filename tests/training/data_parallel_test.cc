// DataParallel (c10d's Reducer) with two ranks as threads of this process,
// each with its own Gloo process group on loopback: the averaged gradients
// equal the gradients of one process on the whole batch (computed here by
// plain autograd), over several steps (so the rebuilt, 1 MiB / bucket_cap
// buckets are used too), with gradient accumulation reducing only on the last
// micro-batch; a rank that stops answering fails the other within the timeout.
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "bertkit/core/error.h"
#include "bertkit/training/data_parallel.h"
#include "bertkit/training/distributed.h"

using namespace bertkit;

namespace {

int next_port() {
  static int offset = 0;
  return 20000 + (::getpid() % 2000) * 5 + offset++;
}

// A two-layer tanh MLP: W1 [16, 8], b1 [16], W2 [4, 16], b2 [4].
struct Mlp {
  std::vector<torch::Tensor> params;
  explicit Mlp(const std::vector<torch::Tensor>& init) {
    for (const auto& t : init) params.push_back(t.clone().set_requires_grad(true));
  }
  // mean squared error of rows `rows` of x [N, 8] against y [N, 4], times `scale`
  torch::Tensor loss(const torch::Tensor& x, const torch::Tensor& y, int64_t begin, int64_t end, double scale) const {
    auto xs = x.slice(0, begin, end), ys = y.slice(0, begin, end);
    auto h = torch::tanh(torch::addmm(params[1], xs, params[0].t()));   // [n, 16]
    auto out = torch::addmm(params[3], h, params[2].t());               // [n, 4]
    return torch::mse_loss(out, ys) * scale;
  }
  std::vector<torch::Tensor> grads() const {
    std::vector<torch::Tensor> g;
    for (const auto& p : params) g.push_back(p.grad().clone());
    return g;
  }
  void zero_grad() {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
  }
};

struct Problem {
  std::vector<torch::Tensor> init;
  std::vector<torch::Tensor> x, y;  // one batch [8, .] per step
  Problem(int steps) {
    torch::manual_seed(7);
    init = {torch::randn({16, 8}) * 0.3, torch::randn({16}) * 0.1, torch::randn({4, 16}) * 0.3, torch::randn({4}) * 0.1};
    for (int s = 0; s < steps; ++s) {
      x.push_back(torch::randn({8, 8}));
      y.push_back(torch::randn({8, 4}));
    }
  }
};

std::vector<std::string> param_names() { return {"w1", "b1", "w2", "b2"}; }

// Runs fn(rank, dist) on two threads that rendezvous on `port`; rethrows the first failure.
void run_two_ranks(int port, double timeout_seconds,
                   const std::function<void(int, const std::shared_ptr<Distributed>&)>& fn) {
  std::exception_ptr errors[2];
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        LaunchEnv env;
        env.rank = rank;
        env.world_size = 2;
        env.local_rank = rank;
        env.local_world_size = 2;
        env.master_port = port;
        DistributedOptions o;
        o.backend = "gloo";
        o.timeout_seconds = timeout_seconds;
        fn(rank, Distributed::connect(env, torch::kCPU, o));
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void expect_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(torch::allclose(got[i], want[i], /*rtol=*/1e-6, /*atol=*/1e-8))
        << what << ": parameter " << i << " differs by " << (got[i] - want[i]).abs().max().item<double>();
}

}  // namespace

TEST(DataParallel, BackendIsGlooOnTheCpu) {
  ASSERT_TRUE(distributed_available()) << "built without c10d/Gloo: install libgloo-dev (scripts/setup.sh) and rebuild";
  EXPECT_NE(distributed_backends().find("gloo"), std::string::npos);
}

TEST(DataParallel, TwoRanksAverageToTheWholeBatchGradient) {
  ASSERT_TRUE(distributed_available());
  const int steps = 3;
  Problem pb(steps);
  // One process on the whole batch of 8, per step (no optimizer: same weights).
  std::vector<std::vector<torch::Tensor>> want;
  {
    Mlp one(pb.init);
    for (int s = 0; s < steps; ++s) {
      one.loss(pb.x[s], pb.y[s], 0, 8, 1.0).backward();
      want.push_back(one.grads());
      one.zero_grad();
    }
  }
  std::vector<std::vector<torch::Tensor>> got[2];
  run_two_ranks(next_port(), 60, [&](int rank, const std::shared_ptr<Distributed>& dist) {
    Mlp m(pb.init);
    DataParallelOptions o;
    o.bucket_cap_mb = 200.0 / (1024 * 1024);  // ~200 bytes: several buckets once rebuilt
    DataParallel dp(dist, m.params, param_names(), o);
    for (int s = 0; s < steps; ++s) {
      auto loss = m.loss(pb.x[s], pb.y[s], 4 * rank, 4 * rank + 4, 1.0);
      dp.before_backward(loss, true);
      loss.backward();
      dp.synchronize_gradients();
      got[rank].push_back(m.grads());
      m.zero_grad();
    }
  });
  for (int rank = 0; rank < 2; ++rank)
    for (int s = 0; s < steps; ++s) expect_close(got[rank][s], want[s], "rank " + std::to_string(rank) + " step " + std::to_string(s));
}

TEST(DataParallel, AccumulationReducesOnlyOnTheLastMicroBatch) {
  ASSERT_TRUE(distributed_available());
  const int steps = 2;
  Problem pb(steps);
  std::vector<std::vector<torch::Tensor>> want, local_first[2];
  {
    Mlp one(pb.init);
    for (int s = 0; s < steps; ++s) {
      one.loss(pb.x[s], pb.y[s], 0, 8, 1.0).backward();
      want.push_back(one.grads());
      one.zero_grad();
      // What rank r holds after its first micro-batch if nothing was reduced.
      for (int r = 0; r < 2; ++r) {
        one.loss(pb.x[s], pb.y[s], 4 * r, 4 * r + 2, 0.5).backward();
        local_first[r].push_back(one.grads());
        one.zero_grad();
      }
    }
  }
  std::vector<std::vector<torch::Tensor>> after_first[2], got[2];
  run_two_ranks(next_port(), 60, [&](int rank, const std::shared_ptr<Distributed>& dist) {
    Mlp m(pb.init);
    DataParallel dp(dist, m.params, param_names());
    for (int s = 0; s < steps; ++s) {
      // micro-batches of 2 rows, each loss / 2 (the trainer's scaling)
      auto l0 = m.loss(pb.x[s], pb.y[s], 4 * rank, 4 * rank + 2, 0.5);
      dp.before_backward(l0, false);
      l0.backward();
      after_first[rank].push_back(m.grads());
      auto l1 = m.loss(pb.x[s], pb.y[s], 4 * rank + 2, 4 * rank + 4, 0.5);
      dp.before_backward(l1, true);
      l1.backward();
      dp.synchronize_gradients();
      got[rank].push_back(m.grads());
      m.zero_grad();
    }
  });
  for (int rank = 0; rank < 2; ++rank)
    for (int s = 0; s < steps; ++s) {
      expect_close(after_first[rank][s], local_first[rank][s], "no_sync micro-batch, rank " + std::to_string(rank));
      expect_close(got[rank][s], want[s], "accumulated step, rank " + std::to_string(rank));
    }
}

TEST(DataParallel, ARankThatStopsAnsweringFailsTheOtherWithinTheTimeout) {
  ASSERT_TRUE(distributed_available());
  double seconds = -1;
  std::string message;
  std::promise<void> rank0_done;
  std::shared_future<void> rank0_finished = rank0_done.get_future().share();
  run_two_ranks(next_port(), 2, [&](int rank, const std::shared_ptr<Distributed>& dist) {
    if (rank == 1) {
      // alive, but never joins the collective, until rank 0 has given up on it
      // (at most 30 s: a rank 0 that never gives up fails the test below)
      rank0_finished.wait_for(std::chrono::seconds(30));
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
      dist->all_reduce_sum({1.0});
    } catch (const RuntimeError& e) {
      message = e.what();
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rank0_done.set_value();
  });
  EXPECT_GE(seconds, 1.5);
  EXPECT_LT(seconds, 5.0);
  EXPECT_NE(message.find("distributed: rank 0 of 2 stopped"), std::string::npos) << message;
  EXPECT_NE(message.find("train.distributed.timeout_seconds = 2"), std::string::npos) << message;
}
