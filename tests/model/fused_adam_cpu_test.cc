// The single-pass CPU optimizer kernels (nn/fused_adam_cpu.h) against the
// _foreach path they replace (itself checked against torch.optim.AdamW in
// parity_test.cc and against hand-computed steps in optimizers_test.cc):
// several steps on random tensors, with and without weight decay, a changing
// learning rate, a parameter that misses a gradient, and tensors the kernels
// do not take (non-contiguous, float64), which must fall back.
#include <ATen/Parallel.h>

#include "bertkit/nn/fused_adam_cpu.h"
#include "bertkit/nn/optimizers.h"
#include "model_test_util.h"

namespace bertkit::test {
namespace {

// Parameters of several shapes and layouts, the same for every call.
std::vector<NamedParam> make_params(double weight_decay) {
  torch::manual_seed(7);
  std::vector<NamedParam> ps = {
      {"dense.weight", torch::randn({37, 5}), weight_decay},
      {"dense.bias", torch::randn({37}), 0.0},
      {"big.weight", torch::randn({70001}), weight_decay},      // longer than one parallel_for chunk
      {"transposed.weight", torch::randn({6, 5}).t(), weight_decay},  // non-contiguous: _foreach fallback
      {"double.weight", torch::randn({4}, torch::kFloat64), weight_decay},  // float64: fallback
      {"strided_grad.weight", torch::randn({8, 3}), weight_decay},  // gets a non-contiguous gradient
  };
  for (auto& p : ps) p.param.set_requires_grad(true);
  return ps;
}

void set_grads(const std::vector<NamedParam>& ps, int step) {
  torch::manual_seed(1000 + step);
  for (const auto& p : ps) {
    auto g = torch::randn(p.param.sizes(), p.param.options().requires_grad(false));
    if (p.name == "strided_grad.weight") g = torch::randn({3, 8}).t();
    // The bias misses its gradient on step 2: its own step count falls behind.
    p.param.mutable_grad() = (p.name == "dense.bias" && step == 2) ? torch::Tensor() : g;
  }
}

struct Result {
  std::vector<NamedParam> params;
  std::map<std::string, torch::Tensor> state;
};

template <class Opt, class Options>
Result run_steps(Options options, bool fused, double weight_decay, int steps = 6) {
  options.fused = fused;
  Result r{make_params(weight_decay), {}};
  Opt opt(r.params, options);
  for (int s = 0; s < steps; ++s) {
    set_grads(r.params, s);
    opt.set_lr(options.lr * (1.0 - 0.1 * s));  // as a scheduler would
    opt.step();
  }
  r.state = opt.state_dict();
  return r;
}

void expect_same_run(const Result& fused, const Result& foreach_path, const Result& start) {
  for (size_t i = 0; i < fused.params.size(); ++i) {
    const auto& name = fused.params[i].name;
    const auto& p = fused.params[i].param;
    EXPECT_FALSE(torch::equal(p, start.params[i].param)) << name << " never moved";
    EXPECT_TRUE(close_rel(name, p, foreach_path.params[i].param, 1e-6, 1e-7));
    for (const char* s : {".exp_avg", ".exp_avg_sq"})
      EXPECT_TRUE(close_rel(name + s, fused.state.at(name + s), foreach_path.state.at(name + s), 1e-6, 1e-9));
    EXPECT_EQ(fused.state.at(name + ".step").item<int64_t>(), foreach_path.state.at(name + ".step").item<int64_t>());
  }
}

TEST(FusedAdamCpu, TakesFloatContiguousCpuTensorsOnly) {
  auto ps = make_params(0.01);
  set_grads(ps, 0);
  auto applies = [&](size_t i) {
    const auto& p = ps[i].param;
    return fused_adam_cpu_applies(p, p.grad(), torch::zeros_like(p), torch::zeros_like(p));
  };
  EXPECT_TRUE(applies(0));
  EXPECT_TRUE(applies(2));
  EXPECT_FALSE(applies(3));  // transposed parameter
  EXPECT_FALSE(applies(4));  // float64
  EXPECT_FALSE(applies(5));  // transposed gradient
  auto p = ps[0].param;
  EXPECT_FALSE(fused_adam_cpu_applies(p, torch::Tensor(), torch::zeros_like(p), torch::zeros_like(p)));
}

TEST(FusedAdamCpu, AdamWEqualsForeachPathAfterSeveralSteps) {
  AdamWOptions o;
  o.lr = 1e-2;
  for (double wd : {0.0, 0.1}) {
    SCOPED_TRACE("weight_decay " + std::to_string(wd));
    expect_same_run(run_steps<AdamW>(o, true, wd), run_steps<AdamW>(o, false, wd), Result{make_params(wd), {}});
  }
}

TEST(FusedAdamCpu, LambEqualsForeachPathAfterSeveralSteps) {
  for (bool adapt_no_decay : {false, true})
    for (double wd : {0.0, 0.1}) {
      SCOPED_TRACE("weight_decay " + std::to_string(wd) + (adapt_no_decay ? " nvlamb" : ""));
      LambOptions o;
      o.lr = 1e-2;
      o.adapt_no_decay = adapt_no_decay;
      o.bias_correction = !adapt_no_decay;  // both settings of the bias correction too
      expect_same_run(run_steps<Lamb>(o, true, wd), run_steps<Lamb>(o, false, wd), Result{make_params(wd), {}});
    }
}

TEST(FusedAdamCpu, ResultDoesNotDependOnThreadCount) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  Result one = run_steps<AdamW>(AdamWOptions{}, true, 0.01);
  at::set_num_threads(3);
  Result three = run_steps<AdamW>(AdamWOptions{}, true, 0.01);
  at::set_num_threads(threads);
  for (size_t i = 0; i < one.params.size(); ++i)
    EXPECT_TRUE(torch::equal(one.params[i].param, three.params[i].param)) << one.params[i].name;
}

}  // namespace
}  // namespace bertkit::test
