// bertkit's LAMB against a reference implementation: timm's Lamb (a PyTorch port of
// apex FusedLAMB), 4 steps on a weight with decay and a bias without, with apex's
// default (no trust ratio on no-decay parameters) and NVLAMB (always adapt).
// tests/fixtures/optimizers/lamb-timm-0.9.16.json, made by scripts/fixtures/timm_lamb.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "bertkit/core/json.h"
#include "bertkit/nn/optimizers.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

using json::Json;

// A nested JSON list of numbers as a float64 tensor of its shape.
torch::Tensor tensor_of(const Json& j) {
  std::vector<int64_t> shape;
  for (const Json* level = &j; level->is_array(); level = &(*level)[0]) shape.push_back(level->size());
  std::vector<double> values;
  std::function<void(const Json&)> flatten = [&](const Json& x) {
    if (x.is_array())
      for (const auto& e : x) flatten(e);
    else
      values.push_back(x.get<double>());
  };
  flatten(j);
  return torch::tensor(values, torch::kDouble).view(shape);
}

TEST(LambFixture, StepsEqualTimmsLambWithAndWithoutNvlamb) {
  const Json fixture = json::load_file(source_dir() + "/tests/fixtures/optimizers/lamb-timm-0.9.16.json");
  ASSERT_EQ(fixture.at("runs").size(), 2u);
  for (const Json& run : fixture.at("runs")) {
    SCOPED_TRACE(run.at("always_adapt").get<bool>() ? "always_adapt (NVLAMB)" : "apex default");
    std::map<std::string, torch::Tensor> params;
    std::vector<NamedParam> named;
    for (const char* name : {"layer.weight", "layer.bias"}) {
      params[name] = tensor_of(run.at("initial").at(name)).requires_grad_();
      named.push_back({name, params[name], fixture.at("weight_decay").at(name).get<double>()});
    }
    LambOptions o;
    o.lr = fixture.at("lr").get<double>();
    o.beta1 = fixture.at("beta1").get<double>();
    o.beta2 = fixture.at("beta2").get<double>();
    o.eps = fixture.at("eps").get<double>();
    o.bias_correction = true;
    o.adapt_no_decay = run.at("always_adapt").get<bool>();
    Lamb lamb(named, o);
    int step = 0;
    for (const Json& s : run.at("steps")) {
      ++step;
      for (auto& [name, p] : params) p.mutable_grad() = tensor_of(s.at("grads").at(name));
      lamb.step();
      for (auto& [name, p] : params) {
        auto want = tensor_of(s.at("params").at(name));
        EXPECT_TRUE(torch::allclose(p.detach(), want, 1e-12, 1e-12))
            << name << " after step " << step << ": max difference "
            << (p.detach() - want).abs().max().item<double>();
      }
    }
  }
}

}  // namespace
}  // namespace bertkit::test
