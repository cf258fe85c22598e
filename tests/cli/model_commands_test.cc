// bertkit forward / export / info, run in-process through the CLI parser.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bertkit/core/fs.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "cli_test_util.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

std::string fixture(const std::string& head) { return shared_path("fixtures/hf-tiny/" + head); }

double max_rel(const torch::Tensor& got, const torch::Tensor& want) {
  auto g = got.to(torch::kFloat64).reshape(want.sizes()), w = want.to(torch::kFloat64);
  return (g - w).abs().max().item<double>() / w.abs().max().item<double>();
}

TEST(ForwardCommand, WritesHfNamedOutputsAndGradientsMatchingTransformers) {
  for (const std::string head : {"pretraining", "qa", "seqcls"}) {
    BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
    SCOPED_TRACE(head);
    std::string out = make_temp_dir("fwd") + "/out.safetensors";
    ASSERT_EQ(cli({"forward", fixture(head), "--inputs", fixture(head) + "/reference.safetensors", "--output", out,
                   "--hidden-states", "--grads"}),
              0);
    auto got = load_safetensors(out);
    auto ref = load_safetensors(fixture(head) + "/reference.safetensors");
    auto train = load_safetensors(fixture(head) + "/reference_train.safetensors");
    for (const auto& [k, v] : ref) {
      if (!v.is_floating_point()) continue;  // inputs
      ASSERT_TRUE(got.count(k)) << k;
      EXPECT_LE(max_rel(got.at(k), v), 1e-5) << k;
    }
    // Gradients: 1e-4 relative, with the absolute floor of 1e-6 x ||all
    // grads|| for those that are zero in exact arithmetic (attention key biases, ...).
    double total_sq = 0;
    for (const auto& [k, v] : train)
      if (k.rfind("grad.", 0) == 0) total_sq += v.to(torch::kFloat64).pow(2).sum().item<double>();
    const double floor = 1e-6 * std::sqrt(total_sq);
    int grads = 0;
    for (const auto& [k, v] : train)
      if (k.rfind("grad.", 0) == 0) {
        ASSERT_TRUE(got.count(k)) << k;
        auto g = got.at(k).to(torch::kFloat64), r = v.to(torch::kFloat64);
        EXPECT_EQ(((g - r).abs() > 1e-4 * r.abs() + floor).sum().item<int64_t>(), 0) << k;
        ++grads;
      }
    EXPECT_GT(grads, 30);
  }
}

TEST(ForwardCommand, AttentionsAndErrors) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/tokcls");
  std::string dir = make_temp_dir("fwd");
  ASSERT_EQ(cli({"forward", fixture("tokcls"), "--inputs", fixture("tokcls") + "/reference.safetensors", "--output",
                 dir + "/o.safetensors", "--attentions"}),
            0);
  auto got = load_safetensors(dir + "/o.safetensors");
  ASSERT_TRUE(got.count("attentions.1"));
  EXPECT_EQ(got.at("attentions.1").sizes(), (std::vector<int64_t>{3, 4, 16, 16}));
  EXPECT_FALSE(got.count("hidden_states.0"));
  // The logits are transformers' (same inputs as the fixture).
  auto ref = load_safetensors(fixture("tokcls") + "/reference.safetensors");
  ASSERT_TRUE(got.count("logits"));
  EXPECT_LE(max_rel(got.at("logits"), ref.at("logits")), 1e-5);
  // Attention probabilities: each query's row sums to 1 and padding keys get none
  // (the fixture pads row 1 from token 11 and row 2 from token 7).
  for (int layer = 0; layer < 2; ++layer) {
    auto a = got.at("attentions." + std::to_string(layer)).to(torch::kFloat64);
    EXPECT_LT((a.sum(-1) - 1).abs().max().item<double>(), 1e-5) << layer;
    auto mask = ref.at("attention_mask").to(torch::kFloat64);  // [B, T]
    auto on_padding = (a * (1 - mask).view({3, 1, 1, 16})).abs().max().item<double>();
    EXPECT_LT(on_padding, 1e-6) << layer;
  }
  // --grads without labels: exit 2 (bad input), saying why.
  save_safetensors(dir + "/ids.safetensors", {{"input_ids", torch::ones({1, 4}, torch::kInt32)}});
  int rc = -1;
  std::string err = cli_stderr({"forward", fixture("tokcls"), "--inputs", dir + "/ids.safetensors", "--output",
                                dir + "/g.safetensors", "--grads"},
                               &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("--grads needs a loss"), std::string::npos) << err;
  EXPECT_FALSE(file_exists(dir + "/g.safetensors"));
  // Without --grads: logits [1, 4, 9] (the fixture's 9 NER labels), no loss.
  ASSERT_EQ(cli({"forward", fixture("tokcls"), "--inputs", dir + "/ids.safetensors", "--output", dir + "/g.safetensors"}),
            0);
  auto plain = load_safetensors(dir + "/g.safetensors");
  ASSERT_TRUE(plain.count("logits"));
  EXPECT_EQ(plain.at("logits").sizes(), (std::vector<int64_t>{1, 4, 9}));
  EXPECT_FALSE(plain.count("loss"));
  err = cli_stderr({"forward", fixture("tokcls"), "--output", dir + "/x.safetensors"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("--inputs"), std::string::npos) << err;
}

TEST(ExportCommand, HalfPrecisionWithTokenizerFilesAndAnotherHead) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/pretraining");
  std::string src = make_temp_dir("exp") + "/src";
  std::filesystem::create_directories(src);
  for (const char* f : {"config.json", "model.safetensors"})
    std::filesystem::copy_file(fixture("pretraining") + "/" + f, src + "/" + f);
  write_file_atomic(src + "/vocab.txt", "[PAD]\n[UNK]\n");
  write_file_atomic(src + "/tokenizer_config.json", "{}");
  write_file_atomic(src + "/trainer_state.json", "{}");  // a training checkpoint's file: not exported
  std::string dst = src + "-fp16";
  ASSERT_EQ(cli({"export", src, dst, "--dtype", "fp16"}), 0);
  EXPECT_TRUE(file_exists(dst + "/vocab.txt"));
  EXPECT_TRUE(file_exists(dst + "/tokenizer_config.json"));
  EXPECT_FALSE(file_exists(dst + "/trainer_state.json"));
  SafetensorsReader r(dst + "/model.safetensors");
  EXPECT_EQ(r.info("cls.seq_relationship.weight").dtype, StDType::F16);
  // Every tensor is the source's, rounded to half precision (torch's rounding).
  auto source = load_safetensors(src + "/model.safetensors");
  auto half = load_safetensors(dst + "/model.safetensors");
  for (const auto& [k, v] : source) {
    ASSERT_TRUE(half.count(k)) << k;
    EXPECT_TRUE(torch::equal(half.at(k), v.to(torch::kHalf))) << k;
  }
  // Re-export as a masked LM: the NSP head is dropped, keys are BertForMaskedLM's.
  std::string mlm = src + "-mlm";
  ASSERT_EQ(cli({"export", src, mlm, "--head", "BertForMaskedLM"}), 0);
  SafetensorsReader m(mlm + "/model.safetensors");
  EXPECT_FALSE(m.contains("cls.seq_relationship.weight"));
  EXPECT_FALSE(m.contains("bert.pooler.dense.weight"));
  EXPECT_TRUE(m.contains("cls.predictions.bias"));
  // The shared weights are carried over unchanged.
  auto masked = load_safetensors(mlm + "/model.safetensors");
  for (const char* k : {"bert.encoder.layer.1.attention.self.query.weight", "cls.predictions.transform.dense.weight",
                        "cls.predictions.bias"})
    EXPECT_TRUE(torch::equal(masked.at(k), source.at(k))) << k;
  auto cfg = nlohmann::json::parse(read_file(mlm + "/config.json"));
  EXPECT_EQ(cfg["architectures"][0], "BertForMaskedLM");
  int rc = -1;
  std::string err = cli_stderr({"export", src, dst + "-fp8", "--dtype", "fp8"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("fp8"), std::string::npos) << err;
  EXPECT_FALSE(file_exists(dst + "-fp8"));
}

TEST(ExportCommand, SinusoidalBecomesAbsoluteWithIdenticalOutputs) {
  BertConfig c;
  c.vocab_size = 40;
  c.hidden_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 16;
  c.max_position_embeddings = 12;
  c.position_embedding_type = "sinusoidal";
  auto model = create_model(Architecture::BertModel, c);
  std::string src = make_temp_dir("sin") + "/m";
  save_pretrained(model, src);
  std::string dst = src + "-hf";
  ASSERT_EQ(cli({"export", src, dst}), 0);
  auto cfg = nlohmann::json::parse(read_file(dst + "/config.json"));
  EXPECT_EQ(cfg["position_embedding_type"], "absolute");
  LoadOptions lo;
  lo.verbose = false;
  auto exported = load_pretrained(dst, lo);
  Batch b;
  b.input_ids = torch::randint(0, 40, {2, 10}, torch::kLong);
  model->eval();
  exported->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::allclose(model->forward(b).last_hidden_state, exported->forward(b).last_hidden_state, 1e-5, 1e-6));
}

TEST(InfoCommand, SummarisesAndChecksKeys) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls");
  // Counted by hand from config.json (vocab 1000, hidden 64, 2 layers, intermediate 128,
  // 64 positions, 2 types, 3 labels): embeddings 68352, each layer 33472, pooler 4160,
  // classifier 195 = 139651 parameters in 5 + 2 x 16 + 2 + 2 = 41 tensors.
  std::string out = cli_stdout({"info", fixture("seqcls")});
  EXPECT_NE(out.find("architecture:   BertForSequenceClassification\n"), std::string::npos) << out;
  EXPECT_NE(out.find("config:         vocab 1000, hidden 64, layers 2, heads 4, intermediate 128, act gelu\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("parameters:     139651 (139.7K) in 41 tensors\n"), std::string::npos) << out;
  EXPECT_NE(out.find("labels:         3 (0=LABEL_0, 1=LABEL_1, 2=LABEL_2)\n"), std::string::npos) << out;
  // A config whose classifier disagrees with the weights: exit 2 naming the key.
  std::string dir = make_temp_dir("info");
  std::filesystem::copy_file(fixture("seqcls") + "/model.safetensors", dir + "/model.safetensors");
  auto cfg = nlohmann::json::parse(read_file(fixture("seqcls") + "/config.json"));
  cfg.erase("id2label");
  cfg.erase("label2id");
  cfg["num_labels"] = 7;
  write_file_atomic(dir + "/config.json", cfg.dump());
  int rc = -1;
  std::string err = cli_stderr({"info", dir}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("classifier.weight"), std::string::npos) << err;
  err = cli_stderr({"info", dir + "/missing"}, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find(dir + "/missing"), std::string::npos) << err;  // names the path
}

}  // namespace
}  // namespace bertkit::test

namespace bertkit::test {
namespace {

// num_labels means something only to a label head (issue 14): BertForPreTraining
// and BertModel carry transformers' default 2, which info must not list.
TEST(InfoCommand, LabelsOnlyForLabelHeads) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/pretraining");
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls");
  EXPECT_EQ(cli_stdout({"info", fixture("pretraining")}).find("labels:"), std::string::npos);
  EXPECT_EQ(cli_stdout({"info", fixture("pretraining"), "--head", "BertModel"}).find("labels:"), std::string::npos);
  EXPECT_NE(cli_stdout({"info", fixture("seqcls")}).find("labels:"), std::string::npos);
}

}  // namespace
}  // namespace bertkit::test
