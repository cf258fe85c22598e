// trainer_state.json and the checkpoint-<step> dirs of a run.
#include <algorithm>
#include <filesystem>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/training/trainer.h"

namespace fs = std::filesystem;

namespace bertkit {

using json::Json;

Json TrainerState::to_json() const {
  return {{"global_step", global_step}, {"epoch", epoch}, {"micro_batch", micro_batch},
          {"total_steps", total_steps}, {"seed", seed}, {"world_size", world_size},
          {"tokens_seen", tokens_seen},
          {"best_metric", best_metric ? Json(*best_metric) : Json(nullptr)}, {"best_step", best_step},
          {"best_metric_name", best_metric_name}, {"evals_without_improvement", evals_without_improvement},
          {"loss_scale", loss_scale}, {"loss_scale_growth_tracker", loss_scale_growth_tracker},
          {"skipped_steps", skipped_steps},
          {"rng_state", "optimizer.safetensors: trainer.rng_state.cpu"}};
}

TrainerState TrainerState::from_json(const Json& j, const std::string& where) {
  json::ObjectReader r(j, "");
  TrainerState s;
  try {
    s.global_step = r.required<int64_t>("global_step");
    s.epoch = r.required<int64_t>("epoch");
    s.micro_batch = r.required<int64_t>("micro_batch");
    r.read("total_steps", s.total_steps);
    r.read("seed", s.seed);
    r.read("world_size", s.world_size);
    r.read("tokens_seen", s.tokens_seen);
    r.read("best_metric", s.best_metric);
    r.read("best_step", s.best_step);
    r.read("best_metric_name", s.best_metric_name);
    r.read("evals_without_improvement", s.evals_without_improvement);
    r.read("loss_scale", s.loss_scale);
    r.read("loss_scale_growth_tracker", s.loss_scale_growth_tracker);
    r.read("skipped_steps", s.skipped_steps);
    r.allow({"rng_state"});
    r.finish();
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return s;
}

std::vector<std::string> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return {};
  for (const auto& e : fs::directory_iterator(output_dir)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory() || name.rfind("checkpoint-", 0) != 0) continue;
    std::string num = name.substr(11);
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!file_exists(e.path().string() + "/trainer_state.json")) continue;  // incomplete
    found.emplace_back(std::stoll(num), e.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

}  // namespace bertkit
