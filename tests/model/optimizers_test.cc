// AdamW / LAMB against hand-computed updates (LAMB against timm's: lamb_fixture_test.cc), HF Trainer's no-decay grouping,
// and bit-exact resume through the named state.
#include <cmath>

#include "bertkit/models/heads.h"
#include "bertkit/core/error.h"
#include "bertkit/nn/optimizers.h"
#include "model_test_util.h"

namespace bertkit::test {
namespace {

TEST(Grouping, NoDecayForBiasAndLayerNormAsHfTrainer) {
  EXPECT_TRUE(hf_no_decay("bert.encoder.layer.0.attention.output.LayerNorm.weight"));
  EXPECT_TRUE(hf_no_decay("bert.embeddings.LayerNorm.bias"));
  EXPECT_TRUE(hf_no_decay("classifier.bias"));
  EXPECT_TRUE(hf_no_decay("cls.predictions.bias"));
  EXPECT_FALSE(hf_no_decay("bert.embeddings.word_embeddings.weight"));
  EXPECT_FALSE(hf_no_decay("bert.encoder.layer.1.intermediate.dense.weight"));
  BertConfig c;
  c.vocab_size = 30;
  c.hidden_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 16;
  auto m = create_model(Architecture::BertForSequenceClassification, c);
  auto groups = group_parameters(*m, 0.01);
  EXPECT_EQ(groups.size(), m->named_parameters().size());
  int decayed = 0;
  for (const auto& g : groups) {
    EXPECT_EQ(g.weight_decay, hf_no_decay(g.name) ? 0.0 : 0.01) << g.name;
    decayed += g.weight_decay > 0;
  }
  // word/position/type embeddings, q/k/v/attn-out/intermediate/output dense, pooler, classifier.
  EXPECT_EQ(decayed, 3 + 6 + 1 + 1);
}

// torch.optim.AdamW written out in double, one scalar at a time.
struct RefAdamW {
  double lr, b1, b2, eps, wd;
  double m = 0, v = 0;
  int t = 0;
  double step(double p, double g) {
    ++t;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    double mh = m / (1 - std::pow(b1, t)), vh = v / (1 - std::pow(b2, t));
    return p - lr * mh / (std::sqrt(vh) + eps);
  }
};

TEST(AdamW, DecoupledWeightDecayAndBiasCorrectionByHand) {
  auto w = torch::tensor({1.0f, -2.0f, 0.25f}).set_requires_grad(true);
  auto b = torch::tensor({0.5f}).set_requires_grad(true);
  AdamWOptions o;
  o.lr = 0.1;
  o.beta1 = 0.9;
  o.beta2 = 0.999;
  o.eps = 1e-8;
  AdamW opt({{"dense.weight", w, 0.1}, {"dense.bias", b, 0.0}}, o);
  std::vector<RefAdamW> rw(3, RefAdamW{0.1, 0.9, 0.999, 1e-8, 0.1});
  RefAdamW rb{0.1, 0.9, 0.999, 1e-8, 0.0};
  std::vector<double> pw = {1.0, -2.0, 0.25};
  double pb = 0.5;
  const std::vector<std::vector<double>> gws = {{0.5, -1.0, 0.0}, {0.1, 0.3, -0.2}, {-0.4, 0.0, 1e-4}};
  const std::vector<double> gbs = {2.0, -0.5, 0.25};
  for (int s = 0; s < 3; ++s) {
    w.mutable_grad() = torch::tensor({(float)gws[s][0], (float)gws[s][1], (float)gws[s][2]});
    b.mutable_grad() = torch::tensor({(float)gbs[s]});
    opt.step();
    for (int i = 0; i < 3; ++i) pw[i] = rw[i].step(pw[i], (float)gws[s][i]);
    pb = rb.step(pb, (float)gbs[s]);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(w[i].item<double>(), pw[i], 1e-6) << "step " << s << " w" << i;
    EXPECT_NEAR(b[0].item<double>(), pb, 1e-6) << "step " << s;
  }
  EXPECT_EQ(opt.step_count(), 3);
  // First step by hand: the decayed weight moves by lr*(wd*p) + lr*sign(g).
  auto w1 = torch::tensor({2.0f}).set_requires_grad(true);
  AdamW one({{"x.weight", w1, 0.5}}, o);
  w1.mutable_grad() = torch::tensor({-3.0f});
  one.step();
  EXPECT_NEAR(w1.item<double>(), 2.0 * (1 - 0.1 * 0.5) + 0.1 * 3.0 / (3.0 + 1e-8), 1e-6);
}

TEST(AdamW, ParametersWithoutGradientAreSkippedAndLrIsSettable) {
  auto w = torch::tensor({1.0f}).set_requires_grad(true);
  AdamW opt({{"w", w, 0.1}}, AdamWOptions{});
  opt.step();
  EXPECT_EQ(w.item<float>(), 1.0f);  // no grad: untouched (not even decayed), as PyTorch
  opt.set_lr(0.5);
  EXPECT_EQ(opt.lr(), 0.5);
  w.mutable_grad() = torch::tensor({1.0f});
  opt.step();
  // This parameter's first update (its own step count is 1): decay, then lr * sign(g).
  EXPECT_NEAR(w.item<double>(), 1.0 * (1 - 0.05) - 0.5 / (1 + 1e-8), 1e-6);
  EXPECT_EQ(opt.step_count(), 2);
  EXPECT_EQ(opt.state_dict().at("w.step").item<int64_t>(), 1);
  opt.zero_grad();
  EXPECT_FALSE(w.grad().defined());
}

TEST(Lamb, TrustRatioByHand) {
  auto w = torch::tensor({3.0f, 4.0f}).set_requires_grad(true);
  auto b = torch::tensor({2.0f}).set_requires_grad(true);
  LambOptions o;
  o.lr = 0.01;
  o.eps = 1e-6;
  Lamb opt({{"layer.weight", w, 0.1}, {"layer.bias", b, 0.0}}, o);
  w.mutable_grad() = torch::tensor({1.0f, 1.0f});
  b.mutable_grad() = torch::tensor({-1.0f});
  opt.step();
  // Step 1: m_hat = g, v_hat = g^2, adam = g / (|g| + eps).
  double a = 1.0 / (1.0 + 1e-6);
  double u0 = a + 0.1 * 3, u1 = a + 0.1 * 4;
  double ratio = 5.0 / std::sqrt(u0 * u0 + u1 * u1);
  EXPECT_NEAR(w[0].item<double>(), 3 - 0.01 * ratio * u0, 1e-6);
  EXPECT_NEAR(w[1].item<double>(), 4 - 0.01 * ratio * u1, 1e-6);
  EXPECT_NEAR(b[0].item<double>(), 2 + 0.01 * a, 1e-6);  // no decay: ratio 1 (apex default)
  // Step 2 with the same gradient: m_hat and v_hat are still g and g^2.
  double p0 = w[0].item<double>(), p1 = w[1].item<double>();
  opt.step();
  u0 = a + 0.1 * p0;
  u1 = a + 0.1 * p1;
  ratio = std::sqrt(p0 * p0 + p1 * p1) / std::sqrt(u0 * u0 + u1 * u1);
  EXPECT_NEAR(w[0].item<double>(), p0 - 0.01 * ratio * u0, 1e-6);
  // NVLAMB: the ratio also applies to no-decay parameters.
  auto c = torch::tensor({3.0f, 4.0f}).set_requires_grad(true);
  LambOptions nv = o;
  nv.adapt_no_decay = true;
  Lamb all({{"c.bias", c, 0.0}}, nv);
  c.mutable_grad() = torch::tensor({1.0f, 1.0f});
  all.step();
  double r = 5.0 / std::sqrt(2 * a * a);
  EXPECT_NEAR(c[0].item<double>(), 3 - 0.01 * r * a, 1e-6);
}

TEST(OptimizerState, ExportImportResumesBitExactly) {
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind ? "lamb" : "adamw");
    torch::manual_seed(0);
    auto w0 = torch::randn({4, 3}), b0 = torch::randn({3});
    auto make = [&](torch::Tensor& w, torch::Tensor& b) -> std::unique_ptr<Optimizer> {
      w = w0.clone().set_requires_grad(true);
      b = b0.clone().set_requires_grad(true);
      std::vector<NamedParam> ps = {{"l.weight", w, 0.01}, {"l.bias", b, 0.0}};
      if (kind) return std::make_unique<Lamb>(ps, LambOptions{});
      return std::make_unique<AdamW>(ps, AdamWOptions{});
    };
    auto grads = [](int s) { torch::manual_seed(100 + s); return std::make_pair(torch::randn({4, 3}), torch::randn({3})); };
    torch::Tensor wa, ba, wb, bb;
    auto a = make(wa, ba);
    for (int s = 0; s < 5; ++s) {
      auto [gw, gb] = grads(s);
      wa.mutable_grad() = gw;
      ba.mutable_grad() = gb;
      a->step();
      if (s == 2) {
        // Snapshot after 3 steps through a file, as the trainer does.
        std::string path = make_temp_dir("opt") + "/optimizer.safetensors";
        save_safetensors(path, a->state_dict());
        auto b = make(wb, bb);
        {
          torch::NoGradGuard ng;
          wb.copy_(wa);
          bb.copy_(ba);
        }
        b->load_state_dict(load_safetensors(path));
        EXPECT_EQ(b->step_count(), 3);
        for (int t = 3; t < 5; ++t) {
          auto [hw, hb] = grads(t);
          wb.mutable_grad() = hw;
          bb.mutable_grad() = hb;
          b->step();
        }
      }
    }
    EXPECT_TRUE(torch::equal(wa, wb));
    EXPECT_TRUE(torch::equal(ba, bb));
    auto sd = a->state_dict();
    EXPECT_TRUE(sd.count("l.weight.exp_avg") && sd.count("l.bias.exp_avg_sq") && sd.count("step"));
    // A state whose shapes disagree is an InputError naming the key.
    sd["l.weight.exp_avg"] = torch::zeros({2});
    try {
      a->load_state_dict(sd);
      FAIL() << "no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("l.weight.exp_avg"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace bertkit::test
