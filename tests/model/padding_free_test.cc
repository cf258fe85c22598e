// Padding-free execution (ForwardOptions::padding): the real tokens alone through
// the encoder give transformers' outputs, losses and gradients at real positions
// (fixtures in ../shared/fixtures/hf-tiny have padded rows), and the same as the
// padded path; the layout groups equal-length neighbours.
#include <cmath>

#include "bertkit/models/heads.h"
#include "model_test_util.h"

namespace bertkit::test {
namespace {

// Rows of a [B,T,...] tensor at the real positions of a [B,T] mask: [N,...].
torch::Tensor at_real(const torch::Tensor& t, const torch::Tensor& attention_mask) {
  return t.detach().to(torch::kCPU).index({attention_mask.to(torch::kCPU).ne(0)});
}

BertPreTrainedModel load_fixture(const std::string& head) {
  LoadOptions lo;
  lo.verbose = false;
  auto model = load_pretrained(hf_tiny(head), lo);
  model->eval();
  return model;
}

ForwardOptions with_padding(PaddingMode mode) {
  ForwardOptions o;
  o.padding = mode;
  return o;
}

class PaddingFreeParity : public ::testing::TestWithParam<std::string> {};

TEST_P(PaddingFreeParity, OutputsAtRealPositionsMatchTransformers) {
  const std::string head = GetParam();
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
  auto ref = load_safetensors(hf_tiny(head) + "/reference.safetensors");
  auto model = load_fixture(head);
  Batch batch = batch_from(ref, torch::kCPU);
  ASSERT_TRUE(batch.attention_mask.eq(0).any().item<bool>()) << "the fixture should have padding";
  torch::NoGradGuard ng;
  ForwardOptions o = with_padding(PaddingMode::Unpadded);
  o.output_hidden_states = true;
  auto out = model->forward(batch, o);
  const auto& m = batch.attention_mask;
  const double rtol = 1e-5;
  ASSERT_EQ(out.hidden_states.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const std::string k = "hidden_states." + std::to_string(i);
    EXPECT_TRUE(close_rel(k, at_real(out.hidden_states[i], m), at_real(ref.at(k), m), rtol));
  }
  EXPECT_TRUE(close_rel("last_hidden_state", at_real(out.last_hidden_state, m), at_real(ref.at("last_hidden_state"), m),
                        rtol));
  // Padding positions are zeros, not HF's values for pad tokens.
  EXPECT_EQ(out.last_hidden_state.index({m.eq(0)}).abs().max().item<double>(), 0.0);
  if (ref.count("pooler_output"))
    EXPECT_TRUE(close_rel("pooler_output", out.pooler_output, ref.at("pooler_output"), rtol));
  if (head == "seqcls") EXPECT_TRUE(close_rel("logits", out.logits, ref.at("logits"), rtol));
  if (head == "tokcls" || head == "maskedlm")
    EXPECT_TRUE(close_rel("logits", at_real(out.logits, m), at_real(ref.at("logits"), m), rtol));
  if (head == "pretraining") {
    EXPECT_TRUE(close_rel("prediction_logits", at_real(out.logits, m), at_real(ref.at("prediction_logits"), m), rtol));
    EXPECT_TRUE(close_rel("seq_relationship_logits", out.seq_relationship_logits, ref.at("seq_relationship_logits"),
                          rtol));
  }
  if (head == "qa") {
    EXPECT_TRUE(close_rel("start_logits", at_real(out.start_logits, m), at_real(ref.at("start_logits"), m), rtol));
    EXPECT_TRUE(close_rel("end_logits", at_real(out.end_logits, m), at_real(ref.at("end_logits"), m), rtol));
  } else {
    // Every other loss reads real positions only (labels are -100 at padding).
    EXPECT_TRUE(close_rel("loss", out.loss, ref.at("loss"), rtol));
  }
}

// The default (Auto) runs padding-free on these CPU batches, except QA with positions.
TEST_P(PaddingFreeParity, AutoGradientsEqualThePaddedPathAndTransformers) {
  const std::string head = GetParam();
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
  auto ref = load_safetensors(hf_tiny(head) + "/reference.safetensors");
  auto train = load_safetensors(hf_tiny(head) + "/reference_train.safetensors");
  Batch batch = batch_from(ref, torch::kCPU);
  auto grads_of = [&](PaddingMode mode, torch::Tensor* loss) {
    auto model = load_fixture(head);
    auto out = model->forward(batch, with_padding(mode));
    out.loss.backward();
    *loss = out.loss.detach();
    std::map<std::string, torch::Tensor> g;
    for (const auto& p : model->named_parameters()) g[p.key()] = p.value().grad().to(torch::kFloat64);
    return g;
  };
  torch::Tensor loss_auto, loss_padded;
  auto g_auto = grads_of(PaddingMode::Auto, &loss_auto);
  auto g_padded = grads_of(PaddingMode::Padded, &loss_padded);
  EXPECT_TRUE(close_rel("loss", loss_auto, loss_padded, 1e-5));
  EXPECT_TRUE(close_rel("loss vs transformers", loss_auto, ref.at("loss"), 1e-5));
  double total_sq = 0;
  for (const auto& [k, g] : g_padded) total_sq += g.pow(2).sum().item<double>();
  // fp32 sums in another order (the gather's backward): 1e-5 of each tensor's scale,
  // with the parity test's floor of 1e-6 of the total norm.
  const double floor = 1e-6 * std::sqrt(total_sq);
  for (const auto& [name, gp] : g_padded) {
    const auto& ga = g_auto.at(name);
    EXPECT_LE((ga - gp).abs().max().item<double>(), 1e-5 * gp.abs().max().item<double>() + floor) << name;
    auto r = train.at("grad." + name).to(torch::kFloat64);
    EXPECT_EQ(((ga - r).abs() > 1e-4 * r.abs() + floor).sum().item<int64_t>(), 0) << "grad." << name << " vs transformers";
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, PaddingFreeParity, ::testing::ValuesIn(hf_tiny_heads()));

BertConfig small_config() {
  BertConfig c;
  c.vocab_size = 40;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 24;
  c.max_position_embeddings = 16;
  return c;
}

// Lengths 5,5,3,7,7,7,0,1 in T = 8: runs of equal neighbours, an empty row skipped.
torch::Tensor mask_of_lengths(const std::vector<int64_t>& lengths, int64_t T) {
  auto m = torch::zeros({static_cast<int64_t>(lengths.size()), T}, torch::kLong);
  for (std::size_t b = 0; b < lengths.size(); ++b) m[static_cast<int64_t>(b)].slice(0, 0, lengths[b]).fill_(1);
  return m;
}

TEST(UnpaddedLayout, RunsOfEqualLengthsAreContiguousRows) {
  auto layout = unpadded_layout(mask_of_lengths({5, 5, 3, 7, 7, 7, 0, 1}, 8));
  EXPECT_EQ(layout.num_tokens(), 35);
  EXPECT_TRUE(torch::equal(layout.cu_seqlens, torch::tensor(std::vector<int64_t>{0, 5, 10, 13, 20, 27, 34, 34, 35})));
  ASSERT_EQ(layout.runs.size(), 4u);
  const std::vector<std::vector<int64_t>> want = {{0, 2, 5}, {10, 1, 3}, {13, 3, 7}, {34, 1, 1}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(layout.runs[i].offset, want[i][0]) << i;
    EXPECT_EQ(layout.runs[i].count, want[i][1]) << i;
    EXPECT_EQ(layout.runs[i].length, want[i][2]) << i;
  }
  // Row 8 (b = 1, t = 3) is flat position 1*8+3; the last token is b = 7, t = 0.
  EXPECT_EQ(layout.indices[8].item<int64_t>(), 11);
  EXPECT_EQ(layout.indices[34].item<int64_t>(), 56);
  auto x = torch::arange(8 * 8 * 2, torch::kFloat).view({8, 8, 2});
  auto back = layout.pad(layout.unpad(x));
  auto real = mask_of_lengths({5, 5, 3, 7, 7, 7, 0, 1}, 8).ne(0).unsqueeze(-1);
  EXPECT_TRUE(torch::equal(back, x * real));
}

TEST(PaddingFree, MixedLengthsEqualThePaddedPathInTrainingToo) {
  torch::manual_seed(3);
  BertConfig c = small_config();
  c.hidden_dropout_prob = 0.0;
  c.attention_probs_dropout_prob = 0.0;
  c.num_labels = 3;
  auto model = create_model(Architecture::BertForTokenClassification, c);
  model->train();
  Batch b;
  const std::vector<int64_t> lengths = {5, 5, 3, 7, 7, 7, 2, 1};
  b.attention_mask = mask_of_lengths(lengths, 8);
  b.input_ids = torch::randint(1, c.vocab_size, {8, 8}, torch::kLong) * b.attention_mask;
  b.token_type_ids = torch::randint(0, 2, {8, 8}, torch::kLong) * b.attention_mask;
  b.labels = torch::randint(0, 3, {8, 8}, torch::kLong).masked_fill(b.attention_mask.eq(0), -100);
  auto run = [&](PaddingMode mode, torch::Tensor* logits) {
    model->zero_grad();
    auto out = model->forward(b, with_padding(mode));
    out.loss.backward();
    *logits = at_real(out.logits, b.attention_mask);
    std::vector<torch::Tensor> g;
    for (auto& p : model->parameters()) g.push_back(p.grad().clone());
    return std::make_pair(out.loss.detach(), g);
  };
  torch::Tensor lp, lu;
  auto [loss_p, grads_p] = run(PaddingMode::Padded, &lp);
  auto [loss_u, grads_u] = run(PaddingMode::Unpadded, &lu);
  EXPECT_TRUE(close_rel("logits", lu, lp, 1e-5));
  EXPECT_TRUE(close_rel("loss", loss_u, loss_p, 1e-5));
  for (std::size_t i = 0; i < grads_p.size(); ++i)
    EXPECT_TRUE(close_rel("grad " + std::to_string(i), grads_u[i], grads_p[i], 1e-5, 1e-9));
}

TEST(PaddingFree, AttentionsAndHiddenStatesKeepThePaddedValues) {
  torch::manual_seed(4);
  auto model = create_model(Architecture::BertModel, small_config());
  model->eval();
  torch::NoGradGuard ng;
  Batch b;
  b.attention_mask = mask_of_lengths({6, 3}, 6);
  b.input_ids = torch::randint(1, 40, {2, 6}, torch::kLong);
  auto padded = model->forward(b, with_padding(PaddingMode::Padded));
  // Pad tokens get HF's (non-zero) states on the padded path...
  EXPECT_GT(padded.last_hidden_state[1][5].abs().sum().item<double>(), 0.0);
  // ...and Auto keeps them whenever hidden states or attentions are asked for.
  ForwardOptions o;
  o.output_hidden_states = true;
  EXPECT_TRUE(torch::equal(model->forward(b, o).last_hidden_state, padded.last_hidden_state));
  o = ForwardOptions();
  o.output_attentions = true;
  auto with_attn = model->forward(b, o);
  EXPECT_TRUE(torch::equal(with_attn.last_hidden_state, padded.last_hidden_state));
  EXPECT_EQ(with_attn.attentions.size(), 2u);
  // Without them, Auto drops the padding: same real positions, zeros elsewhere.
  auto free = model->forward(b);
  EXPECT_TRUE(close_rel("real", at_real(free.last_hidden_state, b.attention_mask),
                        at_real(padded.last_hidden_state, b.attention_mask), 1e-5));
  EXPECT_EQ(free.last_hidden_state[1][5].abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace bertkit::test
