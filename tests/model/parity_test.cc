// Parity with transformers 5.17 on ../shared/fixtures/hf-tiny (reference.json says how
// the references were made): outputs, losses, gradients, one AdamW step. CPU, and CUDA
// when available, in fp32 eval mode.
#include <cmath>

#include "bertkit/models/heads.h"
#include "bertkit/nn/optimizers.h"
#include "model_test_util.h"

namespace bertkit::test {
namespace {

class HfTinyParity : public ::testing::TestWithParam<std::string> {};

ModelOutput run_reference_forward(const BertPreTrainedModel& model, const Batch& batch) {
  ForwardOptions opts;
  opts.output_hidden_states = true;
  return model->forward(batch, opts);
}

TEST_P(HfTinyParity, OutputsAndLossMatchTransformers) {
  const std::string head = GetParam();
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
  auto ref = load_safetensors(hf_tiny(head) + "/reference.safetensors");
  for (const auto& device : test_devices()) {
    SCOPED_TRACE(device.str());
    LoadOptions lo;
    lo.verbose = false;
    lo.device = device;
    LoadReport report;
    auto model = load_pretrained(hf_tiny(head), lo, &report);
    EXPECT_TRUE(report.missing_keys.empty()) << report.missing_keys[0];
    EXPECT_TRUE(report.unexpected_keys.empty()) << report.unexpected_keys[0];
    model->eval();
    torch::NoGradGuard ng;
    auto out = run_reference_forward(model, batch_from(ref, device));
    const double rtol = 1e-5;
    ASSERT_EQ(out.hidden_states.size(), 3u);
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(close_rel("hidden_states." + std::to_string(i), out.hidden_states[i],
                            ref.at("hidden_states." + std::to_string(i)), rtol));
    EXPECT_TRUE(close_rel("last_hidden_state", out.last_hidden_state, ref.at("last_hidden_state"), rtol));
    if (ref.count("pooler_output")) {
      EXPECT_TRUE(close_rel("pooler_output", out.pooler_output, ref.at("pooler_output"), rtol));
    } else {
      EXPECT_FALSE(out.pooler_output.defined()) << "HF's " << head << " head has no pooler";
    }
    if (ref.count("logits")) {
      EXPECT_TRUE(close_rel("logits", out.logits, ref.at("logits"), rtol));
    }
    if (ref.count("prediction_logits")) {
      EXPECT_TRUE(close_rel("prediction_logits", out.logits, ref.at("prediction_logits"), rtol));
    }
    if (ref.count("seq_relationship_logits")) {
      EXPECT_TRUE(close_rel("seq_relationship_logits", out.seq_relationship_logits, ref.at("seq_relationship_logits"),
                            rtol));
    }
    if (ref.count("start_logits")) {
      EXPECT_TRUE(close_rel("start_logits", out.start_logits, ref.at("start_logits"), rtol));
      EXPECT_TRUE(close_rel("end_logits", out.end_logits, ref.at("end_logits"), rtol));
    }
    ASSERT_TRUE(out.loss.defined());
    EXPECT_TRUE(close_rel("loss", out.loss, ref.at("loss"), rtol));
  }
}

TEST_P(HfTinyParity, GradientsAndOneAdamWStepMatchTransformers) {
  const std::string head = GetParam();
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
  auto ref = load_safetensors(hf_tiny(head) + "/reference.safetensors");
  auto train = load_safetensors(hf_tiny(head) + "/reference_train.safetensors");
  for (const auto& device : test_devices()) {
    SCOPED_TRACE(device.str());
    LoadOptions lo;
    lo.verbose = false;
    lo.device = device;
    auto model = load_pretrained(hf_tiny(head), lo);
    model->eval();  // reference.json: "eval (no dropout); gradients of outputs.loss"
    auto out = model->forward(batch_from(ref, device));
    out.loss.backward();

    // Every parameter has a reference gradient and vice versa.
    std::map<std::string, torch::Tensor> grads;
    for (const auto& p : model->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      grads[p.key()] = p.value().grad().detach().to(torch::kCPU, torch::kFloat64);
    }
    size_t n_ref = 0;
    double total_sq = 0;
    for (const auto& [k, t] : train)
      if (k.rfind("grad.", 0) == 0) {
        ++n_ref;
        total_sq += t.to(torch::kFloat64).pow(2).sum().item<double>();
      }
    EXPECT_EQ(n_ref, grads.size());
    // Elementwise: |g - r| <= 1e-4 |r| + 1e-6 ||all grads||. The absolute floor
    // only matters for gradients that are zero in exact arithmetic (attention key
    // biases; QA biases that shift all logits alike), which are rounding noise.
    const double floor = 1e-6 * std::sqrt(total_sq);
    for (const auto& [name, g] : grads) {
      auto r = train.at("grad." + name).to(torch::kFloat64);
      auto bad = ((g - r).abs() > 1e-4 * r.abs() + floor);
      EXPECT_EQ(bad.sum().item<int64_t>(), 0)
          << "grad." << name << ": max |diff| " << (g - r).abs().max().item<double>() << ", max |ref| "
          << r.abs().max().item<double>();
    }

    // One AdamW step as in reference.json (HF Trainer's grouping).
    AdamWOptions ao;
    ao.lr = 1e-3;
    ao.beta1 = 0.9;
    ao.beta2 = 0.999;
    ao.eps = 1e-6;
    AdamW opt(group_parameters(*model, 0.01), ao);
    opt.step();
    for (const auto& p : model->named_parameters()) {
      auto after = p.value().detach().to(torch::kCPU, torch::kFloat64);
      auto want = train.at("after_adamw." + p.key()).to(torch::kFloat64);
      auto where = grads.at(p.key()).abs() > 1e-3;
      auto diff = ((after - want).abs() * where.to(torch::kFloat64)).max().item<double>();
      EXPECT_LE(diff, 1e-6) << "after_adamw." << p.key();
      // Elsewhere the first step is about lr * sign(g): still close.
      EXPECT_LE((after - want).abs().max().item<double>(), 1e-4) << "after_adamw." << p.key();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, HfTinyParity, ::testing::ValuesIn(hf_tiny_heads()));

}  // namespace
}  // namespace bertkit::test
