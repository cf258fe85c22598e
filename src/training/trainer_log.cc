// What a run writes as it goes: metrics.jsonl, TensorBoard scalars and the
// progress line on stderr (rank 0 only).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bertkit/core/fs.h"
#include "trainer_impl.h"

namespace bertkit {

using json::Json;

namespace {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof(buf), "%02ld:%02ld", t / 60, t % 60);
  return buf;
}

}  // namespace

void Trainer::Impl::log_json(const Json& j) {
  if (!main_process()) return;
  std::ofstream f(metrics_path, std::ios::app);
  f << j.dump() << "\n";
}

void Trainer::Impl::log_scalars(const std::string& prefix, const std::map<std::string, double>& values) {
  if (!tb) return;
  for (const auto& [k, v] : values) tb->add_scalar(prefix + k, v, state.global_step);
  tb->flush();
}

// One logged step: the only place the step's device values are read back.
void Trainer::Impl::log_step(const StepSums& sums, const StepUpdate& update, double step_loss,
                             double tokens_per_second, double seconds, int64_t start_step) {
  std::map<std::string, double> scalars = {{"loss", step_loss}, {"lr", update.lr}, {"tokens_per_second", tokens_per_second}};
  if (update.grad_norm.defined()) {
    const double grad_norm = update.grad_norm.item<double>();
    if (std::isfinite(grad_norm)) scalars["grad_norm"] = grad_norm;
  }
  if (scaler) {
    scalars["loss_scale"] = scaler->scale();
    scalars["skipped_steps"] = static_cast<double>(scaler->skipped_steps());
  } else if (state.skipped_steps > 0) {  // train.nan_policy "skip"
    scalars["skipped_steps"] = static_cast<double>(state.skipped_steps);
  }
  for (const auto& [k, v] : sums.parts) scalars[k] = v.item<double>();
  Json j = {{"step", state.global_step}, {"epoch", epoch_float()}};
  for (const auto& [k, v] : scalars) j[k] = v;
  log_json(j);
  log_scalars("train/", scalars);
  if (!main_process() || !config.logging.progress) return;
  const double per_step = seconds / static_cast<double>(state.global_step - start_step);
  const double eta = per_step * static_cast<double>(state.total_steps - state.global_step);
  char buf[256];
  std::snprintf(buf, sizeof(buf), "step %lld/%lld | loss %.4f | lr %.3e | %.0f tok/s | %s elapsed | ETA %s%s",
                static_cast<long long>(state.global_step), static_cast<long long>(state.total_steps), step_loss,
                update.lr, tokens_per_second, format_duration(seconds).c_str(), format_duration(eta).c_str(),
                !update.found_inf ? "" : scaler ? " | fp16 overflow: step skipped" : " | non-finite gradients: step skipped");
  if (interactive) std::cerr << "\r" << buf << "\033[K" << std::flush;
  else std::cerr << buf << "\n";
}

void Trainer::Impl::log_eval(const Metrics& m) {
  Json j = {{"step", state.global_step}, {"epoch", epoch_float()}};
  for (const auto& [k, v] : m) j["eval_" + k] = v;
  log_json(j);
  log_scalars("eval/", m);
  if (!main_process()) return;
  std::string line;
  for (const auto& [k, v] : m) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%s%s %.4g", line.empty() ? "" : ", ", k.c_str(), v);
    line += buf;
  }
  if (interactive) std::cerr << "\n";
  std::cerr << "eval @ step " << state.global_step << ": " << line << "\n";
}

// Resuming: drop log lines written after the checkpoint (an interrupted run's tail).
void Trainer::Impl::drop_log_lines_after_checkpoint() {
  if (!main_process() || !file_exists(out("metrics.jsonl"))) return;
  std::string kept;
  std::istringstream lines(read_file(out("metrics.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    try {
      if (Json::parse(line).value("step", int64_t{0}) > state.global_step) continue;
    } catch (const std::exception&) {
      continue;  // a half-written line
    }
    kept += line + "\n";
  }
  write_file_atomic(out("metrics.jsonl"), kept);
}

}  // namespace bertkit
