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
  // --grads without labels: exit 2 (bad input).
  save_safetensors(dir + "/ids.safetensors", {{"input_ids", torch::ones({1, 4}, torch::kInt32)}});
  EXPECT_EQ(cli({"forward", fixture("tokcls"), "--inputs", dir + "/ids.safetensors", "--output", dir + "/g.safetensors",
                 "--grads"}),
            2);
  EXPECT_EQ(cli({"forward", fixture("tokcls"), "--inputs", dir + "/ids.safetensors", "--output", dir + "/g.safetensors"}),
            0);
  EXPECT_EQ(cli({"forward", fixture("tokcls"), "--output", dir + "/x.safetensors"}), 2);  // --inputs required
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
  // Re-export as a masked LM: the NSP head is dropped, keys are BertForMaskedLM's.
  std::string mlm = src + "-mlm";
  ASSERT_EQ(cli({"export", src, mlm, "--head", "BertForMaskedLM"}), 0);
  SafetensorsReader m(mlm + "/model.safetensors");
  EXPECT_FALSE(m.contains("cls.seq_relationship.weight"));
  EXPECT_FALSE(m.contains("bert.pooler.dense.weight"));
  EXPECT_TRUE(m.contains("cls.predictions.bias"));
  auto cfg = nlohmann::json::parse(read_file(mlm + "/config.json"));
  EXPECT_EQ(cfg["architectures"][0], "BertForMaskedLM");
  EXPECT_EQ(cli({"export", src, dst, "--dtype", "fp8"}), 2);
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
  EXPECT_EQ(cli({"info", fixture("seqcls")}), 0);
  // A config whose classifier disagrees with the weights: exit 2 naming the key.
  std::string dir = make_temp_dir("info");
  std::filesystem::copy_file(fixture("seqcls") + "/model.safetensors", dir + "/model.safetensors");
  auto cfg = nlohmann::json::parse(read_file(fixture("seqcls") + "/config.json"));
  cfg.erase("id2label");
  cfg.erase("label2id");
  cfg["num_labels"] = 7;
  write_file_atomic(dir + "/config.json", cfg.dump());
  EXPECT_EQ(cli({"info", dir}), 2);
  EXPECT_EQ(cli({"info", dir + "/missing"}), 2);
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
