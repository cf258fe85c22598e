// Ten optimizer steps of bertkit's Trainer against ten steps of transformers'
// Trainer (tests/fixtures/trajectory/maskedlm-adamw-10.json, made by
// scripts/fixtures/hf_trajectory.py): the same tiny BertForMaskedLM without
// dropout, the same batch every step, AdamW with HF's no-decay grouping, a linear
// schedule with warmup and gradient clipping. Each step's loss and the final
// weights must agree.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/tasks/registry.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/task.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"

using namespace bertkit;
using nlohmann::json;

namespace {

// The three rows of hf-tiny/maskedlm/reference.safetensors; a batch is its rows
// in the order the trainer asks for (the loss is a mean over masked tokens, so
// the order changes nothing but rounding).
class FixedRows : public Dataset {
 public:
  explicit FixedRows(std::map<std::string, torch::Tensor> ref) : ref_(std::move(ref)) {}
  int64_t size() const override { return ref_.at("input_ids").size(0); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t) const override {
    auto rows = torch::tensor(indices, torch::kLong);
    Batch b;
    b.input_ids = ref_.at("input_ids").index_select(0, rows).to(torch::kLong);
    b.token_type_ids = ref_.at("token_type_ids").index_select(0, rows).to(torch::kLong);
    b.attention_mask = ref_.at("attention_mask").index_select(0, rows).to(torch::kLong);
    b.labels = ref_.at("labels").index_select(0, rows).to(torch::kLong);
    return b;
  }

 private:
  std::map<std::string, torch::Tensor> ref_;
};

class FixedBatchTask : public Task {
 public:
  explicit FixedBatchTask(std::string reference) : reference_(std::move(reference)) {}
  std::string name() const override { return "hf_fixed_mlm_batch"; }
  Architecture architecture() const override { return Architecture::BertForMaskedLM; }
  std::shared_ptr<Dataset> train_dataset() override {
    return std::make_shared<FixedRows>(load_safetensors(reference_));
  }

 private:
  std::string reference_;
};

// The hf-tiny model with dropout off (as the reference run), and a vocabulary
// file of its size for the run's tokenizer.
std::string model_without_dropout(const std::string& hf_dir, const std::string& dir) {
  std::filesystem::create_directories(dir);
  json config = json::parse(read_file(hf_dir + "/config.json"));
  config["hidden_dropout_prob"] = 0.0;
  config["attention_probs_dropout_prob"] = 0.0;
  write_file_atomic(dir + "/config.json", config.dump(2));
  std::filesystem::copy_file(hf_dir + "/model.safetensors", dir + "/model.safetensors");
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int i = 5; i < config["vocab_size"].get<int>(); ++i) vocab += "tok" + std::to_string(i) + "\n";
  write_file_atomic(dir + "/vocab.txt", vocab);
  return dir;
}

}  // namespace

TEST(TrainerTrajectory, TenAdamWStepsMatchTransformersTrainer) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/maskedlm/reference.safetensors");
  const std::string hf_dir = test::shared_path("fixtures/hf-tiny/maskedlm");
  const json expected =
      json::parse(read_file(test::source_dir() + "/tests/fixtures/trajectory/maskedlm-adamw-10.json"));
  const json& t = expected["train"];

  static std::once_flag once;
  std::call_once(once, [&] {
    register_task("hf_fixed_mlm_batch", [reference = hf_dir + "/reference.safetensors"](const TaskInputs&) {
      return std::make_unique<FixedBatchTask>(reference);
    });
  });
  const std::string tmp = test::make_temp_dir("bertkit-trajectory");
  const std::string model_dir = model_without_dropout(hf_dir, tmp + "/model");
  json run = {
      {"model", {{"pretrained", model_dir}}},
      {"tokenizer", {{"path", model_dir + "/vocab.txt"}}},
      {"task", {{"type", "hf_fixed_mlm_batch"}}},
      {"train",
       {{"device", "cpu"}, {"optimizer", t["optimizer"]}, {"learning_rate", t["learning_rate"]},
        {"weight_decay", t["weight_decay"]}, {"adam_beta1", t["adam_beta1"]}, {"adam_beta2", t["adam_beta2"]},
        {"adam_epsilon", t["adam_epsilon"]}, {"lr_scheduler", t["lr_scheduler"]},
        {"warmup_steps", t["warmup_steps"]}, {"max_steps", t["steps"]}, {"batch_size", t["batch_size"]},
        {"max_grad_norm", t["max_grad_norm"]}, {"dataloader_workers", 0}}},
      {"eval", {{"per_epoch", false}, {"at_end", false}, {"load_best_at_end", false}}},
      {"logging", {{"every_steps", 1}, {"progress", false}, {"tensorboard", false}}},
      {"checkpoint", {{"at_end", false}}},
      {"output", {{"dir", tmp + "/run"}}}};
  TrainResult r = Trainer(RunConfig::from_json(run)).train();

  const auto losses = expected["losses"].get<std::vector<double>>();
  ASSERT_EQ(r.step_loss.size(), losses.size());
  for (std::size_t i = 0; i < losses.size(); ++i)
    EXPECT_NEAR(r.step_loss.at(static_cast<int64_t>(i + 1)), losses[i], 1e-5 * losses[i]) << "step " << i + 1;

  ASSERT_FALSE(r.model_dir.empty());
  auto initial = load_safetensors(hf_dir + "/model.safetensors");
  auto trained = load_safetensors(r.model_dir + "/model.safetensors");
  for (const auto& [name, digest] : expected["params"].items()) {
    ASSERT_TRUE(trained.count(name)) << name << " missing from the exported model";
    auto flat = trained.at(name).to(torch::kDouble).reshape({-1});
    auto before = initial.at(name).to(torch::kDouble).reshape({-1});
    const double norm = digest["norm"], change = digest["change_norm"];
    // An absolute floor for tensors that stay zero in exact arithmetic: the attention
    // key biases get no gradient (softmax ignores a constant per query), so both runs
    // leave only rounding noise (~1e-9) there.
    EXPECT_NEAR(flat.norm().item<double>(), norm, 1e-5 * norm + 1e-6) << name;
    EXPECT_NEAR((flat - before).norm().item<double>(), change, 1e-4 * change + 1e-7) << name;
    const auto index = digest["index"].get<std::vector<int64_t>>();
    const auto values = digest["values"].get<std::vector<double>>();
    for (std::size_t k = 0; k < index.size(); ++k)
      EXPECT_NEAR(flat[index[k]].item<double>(), values[k], 1e-5 * std::abs(values[k]) + 1e-6) << name << "[" << index[k] << "]";
  }
  std::filesystem::remove_all(tmp);
}
