// varlen_attention: one autograd node over sequences stored back to back gives what
// HF's eager attention computes on each sequence alone (matmul, softmax, dropout on
// the probabilities, matmul), forward and backward, with the dropout masks of
// nn/dropout.h drawn run by run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "bertkit/nn/dropout.h"
#include "bertkit/nn/varlen_attention.h"

namespace bertkit::test {
namespace {

constexpr int64_t kHeads = 2, kHeadDim = 4, kHidden = kHeads * kHeadDim;

UnpaddedLayout layout_of(const std::vector<int64_t>& lengths) {
  const int64_t T = *std::max_element(lengths.begin(), lengths.end());
  auto mask = torch::zeros({static_cast<int64_t>(lengths.size()), T}, torch::kLong);
  for (std::size_t b = 0; b < lengths.size(); ++b) mask[b].narrow(0, 0, lengths[b]).fill_(1);
  return unpadded_layout(mask);
}

// The composite reference: HF's eager attention on each run of equal-length sequences,
// recorded op by op by autograd, with bertkit::dropout (the model's dropout).
torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const UnpaddedLayout& layout, double p) {
  std::vector<torch::Tensor> parts;
  for (const auto& run : layout.runs) {
    auto heads = [&](const torch::Tensor& x) {
      return x.narrow(0, run.offset, run.count * run.length).view({run.count, run.length, kHeads, kHeadDim}).transpose(1, 2);
    };
    auto scores = torch::matmul(heads(q), heads(k).transpose(-1, -2)) / std::sqrt(double(kHeadDim));
    auto probs = bertkit::dropout(torch::softmax(scores, -1), p, /*train=*/true);
    parts.push_back(torch::matmul(probs, heads(v)).transpose(1, 2).reshape({run.count * run.length, kHidden}));
  }
  return torch::cat(parts, 0);
}

struct Result {
  torch::Tensor out, dq, dk, dv;
};

template <typename F>
Result run_with_grads(F attention, uint64_t seed) {
  torch::manual_seed(1234);
  auto q = torch::randn({17, kHidden}, torch::kDouble).requires_grad_();
  auto k = torch::randn({17, kHidden}, torch::kDouble).requires_grad_();
  auto v = torch::randn({17, kHidden}, torch::kDouble).requires_grad_();
  auto grad_out = torch::randn({17, kHidden}, torch::kDouble);
  torch::manual_seed(seed);
  auto out = attention(q, k, v);
  out.backward(grad_out);
  return {out.detach(), q.grad(), k.grad(), v.grad()};
}

void expect_same(const Result& a, const Result& b) {
  EXPECT_TRUE(torch::allclose(a.out, b.out, 1e-12, 1e-12)) << "context";
  EXPECT_TRUE(torch::allclose(a.dq, b.dq, 1e-12, 1e-12)) << "dq";
  EXPECT_TRUE(torch::allclose(a.dk, b.dk, 1e-12, 1e-12)) << "dk";
  EXPECT_TRUE(torch::allclose(a.dv, b.dv, 1e-12, 1e-12)) << "dv";
}

// Lengths 3,3,5,1,4,1 = 17 rows: runs of two equal neighbours and of one.
const std::vector<int64_t> kLengths = {3, 3, 5, 1, 4, 1};

TEST(VarlenAttention, EqualsEagerAttentionPerSequenceWithoutDropout) {
  auto layout = layout_of(kLengths);
  VarlenAttentionOptions o;
  o.num_heads = kHeads;
  o.scale = 1.0 / std::sqrt(double(kHeadDim));
  auto fused = run_with_grads([&](auto q, auto k, auto v) { return varlen_attention(q, k, v, layout, o); }, 7);
  auto ref = run_with_grads([&](auto q, auto k, auto v) { return reference(q, k, v, layout, 0.0); }, 7);
  expect_same(fused, ref);
}

TEST(VarlenAttention, DropoutMasksAndGradientsAreTheModelDropoutsInRunOrder) {
  auto layout = layout_of(kLengths);
  VarlenAttentionOptions o;
  o.num_heads = kHeads;
  o.scale = 1.0 / std::sqrt(double(kHeadDim));
  o.dropout_p = 0.3;
  o.training = true;
  auto fused = run_with_grads([&](auto q, auto k, auto v) { return varlen_attention(q, k, v, layout, o); }, 99);
  auto ref = run_with_grads([&](auto q, auto k, auto v) { return reference(q, k, v, layout, 0.3); }, 99);
  expect_same(fused, ref);
  // Dropout did act: the same inputs without it give another context.
  o.training = false;
  auto plain = run_with_grads([&](auto q, auto k, auto v) { return varlen_attention(q, k, v, layout, o); }, 99);
  EXPECT_FALSE(torch::allclose(plain.out, fused.out));
}

TEST(VarlenAttention, AnEmptySequenceLeavesNoRowsAndOthersAreUnchanged) {
  // Lengths 2,0,3: the middle sequence has no rows; the others attend only to themselves.
  auto mask = torch::tensor({1, 1, 0, 0, 0, 0, 1, 1, 1}, torch::kLong).view({3, 3});
  auto layout = unpadded_layout(mask);
  ASSERT_EQ(layout.num_tokens(), 5);
  torch::manual_seed(3);
  auto q = torch::randn({5, kHidden}, torch::kDouble), k = torch::randn({5, kHidden}, torch::kDouble),
       v = torch::randn({5, kHidden}, torch::kDouble);
  VarlenAttentionOptions o;
  o.num_heads = kHeads;
  o.scale = 0.5;
  auto out = varlen_attention(q, k, v, layout, o);
  auto alone = varlen_attention(q.narrow(0, 2, 3), k.narrow(0, 2, 3), v.narrow(0, 2, 3), layout_of({3}), o);
  EXPECT_TRUE(torch::allclose(out.narrow(0, 2, 3), alone, 1e-12, 1e-12));
}

}  // namespace
}  // namespace bertkit::test
