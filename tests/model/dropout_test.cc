// bertkit::dropout: HF's nn.Dropout semantics (elements zeroed with probability p,
// kept ones scaled by 1/(1-p), identity in eval), masks decided by the default CPU
// generator's seed (torch::manual_seed reproduces them) and the same for any
// number of threads.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "bertkit/nn/dropout.h"

namespace bertkit::test {
namespace {

TEST(Dropout, KeepsAboutOneMinusPScaledByItsInverse) {
  torch::manual_seed(0);
  auto x = torch::ones({1000, 1000});
  auto y = bertkit::dropout(x, 0.1, /*training=*/true);
  const double kept = y.ne(0).to(torch::kDouble).mean().item<double>();
  // 1e6 Bernoulli(0.9) draws: standard deviation 3e-4; 5 sigma.
  EXPECT_NEAR(kept, 0.9, 1.5e-3);
  auto values = std::get<0>(at::_unique(y));
  ASSERT_EQ(values.numel(), 2);
  EXPECT_EQ(values[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(values[1].item<float>(), 1.0f / 0.9f);
  // Neighbouring elements (the two halves of one 64-bit draw) are not correlated.
  auto keep = y.ne(0).to(torch::kDouble).reshape({-1, 2});
  const double both = (keep.select(1, 0) * keep.select(1, 1)).mean().item<double>();
  EXPECT_NEAR(both, 0.81, 2e-3);
}

TEST(Dropout, IdentityInEvalOrAtZero) {
  auto x = torch::randn({4, 5});
  EXPECT_TRUE(bertkit::dropout(x, 0.5, /*training=*/false).equal(x));
  EXPECT_TRUE(bertkit::dropout(x, 0.0, /*training=*/true).equal(x));
  EXPECT_TRUE(bertkit::dropout(x, 1.0, /*training=*/true).equal(torch::zeros_like(x)));
}

TEST(Dropout, ManualSeedReproducesTheMaskAndCallsDiffer) {
  auto x = torch::ones({3, 4097});
  torch::manual_seed(42);
  auto a = bertkit::dropout(x, 0.3, true), b = bertkit::dropout(x, 0.3, true);
  torch::manual_seed(42);
  auto a2 = bertkit::dropout(x, 0.3, true);
  EXPECT_TRUE(a.equal(a2));
  EXPECT_FALSE(a.equal(b));
}

TEST(Dropout, SameMaskForAnyThreadCount) {
  auto x = torch::ones({7, 100003});  // several parallel chunks, an odd tail
  const int before = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::manual_seed(5);
  auto one = bertkit::dropout(x, 0.25, true);
  torch::set_num_threads(2);
  torch::manual_seed(5);
  auto two = bertkit::dropout(x, 0.25, true);
  torch::set_num_threads(before);
  EXPECT_TRUE(one.equal(two));
}

TEST(Dropout, GradientIsTheMask) {
  torch::manual_seed(9);
  auto x = torch::randn({64, 33}, torch::kDouble).requires_grad_();
  auto y = bertkit::dropout(x, 0.2, true);
  y.sum().backward();
  // d(sum y)/dx = mask * 1/(1-p) = y / x where x != 0.
  EXPECT_TRUE(torch::allclose(x.grad(), (y / x).detach(), 1e-12, 1e-12));
}

TEST(Dropout, ModuleFollowsTrainAndEval) {
  Dropout d(0.5);
  auto x = torch::ones({100, 100});
  d->train();
  EXPECT_GT(d(x).eq(0).sum().item<int64_t>(), 0);
  d->eval();
  EXPECT_TRUE(d(x).equal(x));
}

}  // namespace
}  // namespace bertkit::test
