// checkpoint-<step>/: the model as an HF dir, optimizer.safetensors (the
// optimizer state and the dropout RNG), trainer_state.json, the tokenizer and
// checksums.json (size and CRC-32 of each file, checked at resume).
//
// A checkpoint is written in a temporary directory, flushed to the disk and
// renamed into place (write_dir_atomic): a crash at any moment leaves the
// previous checkpoints as they were. The kill_point names are where the fault
// tests stop the process (docs/training.md, "Faults and recovery").
#include <filesystem>

#include <ATen/CPUGeneratorImpl.h>

#include "bertkit/core/checksums.h"
#include "bertkit/core/error.h"
#include "bertkit/core/fault_injection.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "trainer_impl.h"

namespace fs = std::filesystem;

namespace bertkit {

namespace {

int64_t checkpoint_step(const std::string& dir) { return std::stoll(fs::path(dir).filename().string().substr(11)); }

}  // namespace

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
    try {
      save_pretrained(model, dir, SaveDType::F32, [&](const std::string& tmp) {
        kill_point("checkpoint.model_written");
        write_optimizer_state(tmp + "/optimizer.safetensors");
        kill_point("checkpoint.optimizer_written");
        json::save_file(tmp + "/trainer_state.json", state.to_json());
        tokenizer->save(tmp);
        write_checksums(tmp);  // last: it covers every file above
        kill_point("checkpoint.files_written");
      });
    } catch (const Error& e) {
      const std::string previous = last_checkpoint_before(state.global_step);
      throw RuntimeError(dir + " not written: " + e.what() + "; " +
                         (previous.empty() ? std::string("no earlier checkpoint") : previous + " is intact") +
                         ": free space and continue with --resume");
    }
    kill_point("checkpoint.renamed");
    prune_checkpoints();
  }
  dist->barrier();
}

// Keep the newest keep_last. A checkpoint is renamed before it is removed, so
// one cut short by a crash is never taken for a checkpoint.
void Trainer::Impl::prune_checkpoints() {
  if (config.checkpoint.keep_last <= 0) return;
  auto cps = list_checkpoints(config.output.dir);
  for (std::size_t i = 0; i + config.checkpoint.keep_last < cps.size(); ++i) {
    const std::string doomed = cps[i] + ".deleting";
    std::error_code ec;
    fs::rename(cps[i], doomed, ec);
    if (ec) continue;
    kill_point("checkpoint.pruning");
    fs::remove_all(doomed, ec);
  }
}

// The newest checkpoint-<k> with k < step ("" when none).
std::string Trainer::Impl::last_checkpoint_before(int64_t step) const {
  std::string found;
  for (const auto& cp : list_checkpoints(config.output.dir))
    if (checkpoint_step(cp) < step) found = cp;
  return found;
}

}  // namespace bertkit
