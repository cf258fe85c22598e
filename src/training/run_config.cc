#include "bertkit/training/run_config.h"

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"

namespace bertkit {

using json::Json;
using json::ObjectReader;

RunConfig RunConfig::from_json(const Json& j) {
  ObjectReader top(j, "");
  RunConfig c;
  {
    auto r = top.object("model");
    r.read("pretrained", c.model.pretrained);
    if (const Json* v = r.raw("config")) {
      if (!v->is_string() && !v->is_object())
        json::convert_fail(*v, "model.config", "a config.json path or an object");
      c.model.config = *v;
    }
    r.read("architecture", c.model.architecture);
    r.read("sparse_mlm_head", c.model.sparse_mlm_head);
    c.model.attention = r.choice("attention", c.model.attention, {"math", "sdpa"});
    r.finish();
    if (c.model.pretrained.empty() && c.model.config.is_null())
      throw InputError("model: set model.pretrained (an HF model directory) or model.config (a config.json path or object)");
  }
  {
    auto r = top.object("tokenizer");
    r.read("path", c.tokenizer.path);
    r.finish();
    if (c.tokenizer.path.empty() && c.model.pretrained.empty())
      throw InputError("tokenizer.path: required when model.pretrained is not set");
  }
  {
    const Json* t = top.raw("task");
    if (!t) throw InputError("task: required section missing (e.g. {\"type\": \"pretraining\"})");
    if (!t->is_object()) json::convert_fail(*t, "task", "an object");
    auto it = t->find("type");
    if (it == t->end()) throw InputError("task.type: required key missing");
    json::convert(*it, "task.type", c.task_type);
    c.task = *t;
    c.task.erase("type");
    if (const Json* d = top.raw("data")) c.data = *d;
  }
  {
    auto r = top.object("train");
    auto& t = c.train;
    r.read("device", t.device);
    r.read("seed", t.seed);
    t.optimizer = r.choice("optimizer", t.optimizer, {"adamw", "lamb"});
    r.read("learning_rate", t.learning_rate);
    r.read("weight_decay", t.weight_decay);
    r.read("adam_beta1", t.adam_beta1);
    r.read("adam_beta2", t.adam_beta2);
    r.read("adam_epsilon", t.adam_epsilon);
    r.read("lamb_adapt_no_decay", t.lamb_adapt_no_decay);
    t.lr_scheduler = r.choice("lr_scheduler", t.lr_scheduler, {"linear", "cosine", "polynomial", "constant"});
    r.read("warmup_steps", t.warmup_steps);
    r.read("warmup_ratio", t.warmup_ratio);
    r.read("lr_end", t.lr_end);
    r.read("power", t.power);
    r.read("max_steps", t.max_steps);
    r.read("epochs", t.epochs);
    r.read("batch_size", t.batch_size);
    r.read("gradient_accumulation_steps", t.gradient_accumulation_steps);
    r.read("max_grad_norm", t.max_grad_norm);
    t.precision = r.choice("precision", t.precision, {"fp32", "bf16", "fp16"});
    r.read("fp16_init_scale", t.fp16_init_scale);
    r.read("fp16_growth_interval", t.fp16_growth_interval);
    t.nan_policy = r.choice("nan_policy", t.nan_policy, {"stop", "skip"});
    r.read("num_threads", t.num_threads);
    r.read("drop_last", t.drop_last);
    r.read("dataloader_workers", t.dataloader_workers);
    r.read("group_by_length", t.group_by_length);
    {
      auto d = r.object("distributed");
      t.distributed.backend = d.choice("backend", t.distributed.backend, {"auto", "nccl", "gloo"});
      d.read("timeout_seconds", t.distributed.timeout_seconds);
      d.read("find_unused_parameters", t.distributed.find_unused_parameters);
      d.read("bucket_cap_mb", t.distributed.bucket_cap_mb);
      d.finish();
      if (!(t.distributed.timeout_seconds > 0))
        throw InputError("train.distributed.timeout_seconds: expected a number of seconds > 0");
      if (!(t.distributed.bucket_cap_mb > 0)) throw InputError("train.distributed.bucket_cap_mb: expected a number > 0");
    }
    r.finish();
    if (t.dataloader_workers < 0)
      throw InputError("train.dataloader_workers: expected an integer >= 0, got " + std::to_string(t.dataloader_workers));
    auto positive = [](int64_t v, const std::string& key) {
      if (v < 1) throw InputError(key + ": expected an integer >= 1, got " + std::to_string(v));
    };
    positive(t.batch_size, "train.batch_size");
    positive(t.gradient_accumulation_steps, "train.gradient_accumulation_steps");
    if (t.max_steps <= 0) positive(t.epochs, "train.epochs");
    if (!(t.learning_rate > 0)) throw InputError("train.learning_rate: expected a number > 0");
    if (t.warmup_steps < 0) throw InputError("train.warmup_steps: expected >= 0");
    if (!(t.warmup_ratio >= 0 && t.warmup_ratio <= 1)) throw InputError("train.warmup_ratio: expected a value in [0, 1]");
    if (t.weight_decay < 0) throw InputError("train.weight_decay: expected >= 0");
  }
  {
    auto r = top.object("eval");
    auto& e = c.eval;
    r.read("every_steps", e.every_steps);
    r.read("per_epoch", e.per_epoch);
    r.read("at_end", e.at_end);
    r.read("batch_size", e.batch_size);
    r.read("max_batches", e.max_batches);
    r.read("metric", e.metric);
    r.read("greater_is_better", e.greater_is_better);
    r.read("early_stopping_patience", e.early_stopping_patience);
    r.read("early_stopping_threshold", e.early_stopping_threshold);
    r.read("load_best_at_end", e.load_best_at_end);
    r.read("predictions", e.predictions);
    r.finish();
    if (e.batch_size < 1) throw InputError("eval.batch_size: expected an integer >= 1");
  }
  {
    auto r = top.object("logging");
    r.read("every_steps", c.logging.every_steps);
    r.read("progress", c.logging.progress);
    r.read("tensorboard", c.logging.tensorboard);
    r.finish();
    if (c.logging.every_steps < 1) throw InputError("logging.every_steps: expected an integer >= 1");
  }
  {
    auto r = top.object("checkpoint");
    r.read("every_steps", c.checkpoint.every_steps);
    r.read("keep_last", c.checkpoint.keep_last);
    r.read("at_end", c.checkpoint.at_end);
    r.finish();
  }
  {
    auto r = top.object("output");
    c.output.dir = r.required<std::string>("dir");
    c.output.dtype = r.choice("dtype", c.output.dtype, {"fp32", "fp16", "bf16"});
    r.read("overwrite", c.output.overwrite);
    r.finish();
  }
  top.finish();
  return c;
}

RunConfig RunConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
  Json j = json::load_file(path);
  json::apply_overrides(j, overrides);
  try {
    return from_json(j);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
}

Json RunConfig::to_json() const {
  Json j;
  j["model"] = {{"pretrained", model.pretrained}, {"config", model.config}, {"architecture", model.architecture},
                {"sparse_mlm_head", model.sparse_mlm_head}, {"attention", model.attention}};
  j["tokenizer"] = {{"path", tokenizer.path}};
  Json task_j = task.is_object() ? task : Json::object();
  task_j["type"] = task_type;
  j["task"] = task_j;
  j["data"] = data;
  const auto& t = train;
  j["train"] = {{"device", t.device}, {"seed", t.seed}, {"optimizer", t.optimizer},
                {"learning_rate", t.learning_rate}, {"weight_decay", t.weight_decay},
                {"adam_beta1", t.adam_beta1}, {"adam_beta2", t.adam_beta2}, {"adam_epsilon", t.adam_epsilon},
                {"lamb_adapt_no_decay", t.lamb_adapt_no_decay}, {"lr_scheduler", t.lr_scheduler},
                {"warmup_steps", t.warmup_steps}, {"warmup_ratio", t.warmup_ratio}, {"lr_end", t.lr_end},
                {"power", t.power}, {"max_steps", t.max_steps}, {"epochs", t.epochs}, {"batch_size", t.batch_size},
                {"gradient_accumulation_steps", t.gradient_accumulation_steps}, {"max_grad_norm", t.max_grad_norm},
                {"precision", t.precision}, {"fp16_init_scale", t.fp16_init_scale},
                {"fp16_growth_interval", t.fp16_growth_interval}, {"nan_policy", t.nan_policy},
                {"num_threads", t.num_threads},
                {"drop_last", t.drop_last}, {"dataloader_workers", t.dataloader_workers},
                {"group_by_length", t.group_by_length},
                {"distributed", {{"backend", t.distributed.backend}, {"timeout_seconds", t.distributed.timeout_seconds},
                                 {"find_unused_parameters", t.distributed.find_unused_parameters},
                                 {"bucket_cap_mb", t.distributed.bucket_cap_mb}}}};
  const auto& e = eval;
  j["eval"] = {{"every_steps", e.every_steps}, {"per_epoch", e.per_epoch}, {"at_end", e.at_end},
               {"batch_size", e.batch_size}, {"max_batches", e.max_batches}, {"metric", e.metric},
               {"greater_is_better", e.greater_is_better ? Json(*e.greater_is_better) : Json(nullptr)},
               {"early_stopping_patience", e.early_stopping_patience},
               {"early_stopping_threshold", e.early_stopping_threshold},
               {"load_best_at_end", e.load_best_at_end}, {"predictions", e.predictions}};
  j["logging"] = {{"every_steps", logging.every_steps}, {"progress", logging.progress}, {"tensorboard", logging.tensorboard}};
  j["checkpoint"] = {{"every_steps", checkpoint.every_steps}, {"keep_last", checkpoint.keep_last}, {"at_end", checkpoint.at_end}};
  j["output"] = {{"dir", output.dir}, {"dtype", output.dtype}, {"overwrite", output.overwrite}};
  return j;
}

}  // namespace bertkit
