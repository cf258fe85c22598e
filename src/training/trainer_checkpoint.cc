// checkpoint-<step>/: the model as an HF dir, optimizer.safetensors (the
// optimizer state and the dropout RNG), trainer_state.json and the tokenizer.
#include <filesystem>

#include <ATen/CPUGeneratorImpl.h>

#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "trainer_impl.h"

namespace fs = std::filesystem;

namespace bertkit {

void Trainer::Impl::write_optimizer_state(const std::string& path) {
  std::map<std::string, torch::Tensor> st;
  for (const auto& [k, v] : optimizer->state_dict()) st[k] = v.detach().cpu();
  st["trainer.rng_state.cpu"] = at::detail::getDefaultCPUGenerator().get_state();
  save_safetensors(path, st, {{"format", "bertkit-optimizer"}, {"optimizer", config.train.optimizer}});
}

void Trainer::Impl::save_checkpoint() {
  if (scaler) {
    state.loss_scale = scaler->scale();
    state.loss_scale_growth_tracker = scaler->growth_tracker();
    state.skipped_steps = scaler->skipped_steps();
  }
  if (main_process()) {
    const std::string dir = out("checkpoint-" + std::to_string(state.global_step));
    save_pretrained(model, dir, SaveDType::F32, [&](const std::string& tmp) {
      write_optimizer_state(tmp + "/optimizer.safetensors");
      json::save_file(tmp + "/trainer_state.json", state.to_json());
      tokenizer->save(tmp);
    });
    // Keep the newest keep_last.
    if (config.checkpoint.keep_last > 0) {
      auto cps = list_checkpoints(config.output.dir);
      for (std::size_t i = 0; i + config.checkpoint.keep_last < cps.size(); ++i) {
        std::error_code ec;
        fs::remove_all(cps[i], ec);
      }
    }
  }
  dist->barrier();
}

}  // namespace bertkit
