// bertkit info DIR: what a checkpoint is (architecture, config, parameters,
// dtypes) and whether its keys fit the model its config describes.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include <torch/cuda.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/hub/resolve.h"
#include "bertkit/training/distributed.h"
#include "build_info.h"
#include "command.h"

namespace {

struct InfoArgs {
  std::string dir;
  std::string head;
};

std::string human(int64_t n) {
  std::ostringstream o;
  if (n >= 1000000)
    o << std::fixed << std::setprecision(2) << n / 1e6 << "M";
  else if (n >= 1000)
    o << std::fixed << std::setprecision(1) << n / 1e3 << "K";
  else
    o << n;
  return o.str();
}

// num_labels/id2label mean something only to a head that predicts labels
// (BertModel and BertForPreTraining carry transformers' default 2).
void print_labels(const bertkit::BertConfig& config, const std::string& arch) {
  const bool has_label_head = arch.find("Classification") != std::string::npos || arch == "seqcls" ||
                              arch == "tokcls" || arch.find("MultipleChoice") != std::string::npos;
  if (!has_label_head) return;
  std::cout << "labels:         " << config.num_labels;
  if (!config.id2label.empty()) {
    std::cout << " (";
    int shown = 0;
    for (const auto& [i, l] : config.id2label) {
      if (shown++ == 10) { std::cout << ", ..."; break; }
      std::cout << (shown > 1 ? ", " : "") << i << "=" << l;
    }
    std::cout << ")";
  }
  if (!config.problem_type.empty()) std::cout << ", problem_type " << config.problem_type;
  std::cout << "\n";
}

// Without a directory: this build (versions, CUDA, data-parallel backends).
int print_build() {
  using namespace bertkit;
  const std::string backends = distributed_backends();
  std::cout << bertkit::cli::version_line() << "\n";
  std::cout << "CUDA:           "
            << (torch::cuda::is_available() ? std::to_string(torch::cuda::device_count()) + " device(s)" : "not available")
            << "\n";
  std::cout << "data parallel:  " << (backends.empty() ? "none (single process only; install libgloo-dev and rebuild)" : backends)
            << (backends.find("nccl") == std::string::npos ? " (NCCL: not in this LibTorch)" : "") << "\n";
  return 0;
}

int run_info(const InfoArgs& a) {
  using namespace bertkit;
  if (a.dir.empty()) return print_build();
  if (!dir_exists(a.dir)) throw InputError(a.dir + ": not a directory");
  auto config = BertConfig::load(a.dir + "/config.json");
  std::string source;
  auto weights = read_checkpoint_weights(a.dir, &source);
  std::string arch = config.architectures.empty() ? "BertModel (no architectures in config.json)" : config.architectures[0];
  std::cout << "directory:      " << a.dir << "\n";
  std::cout << "architecture:   " << arch << "\n";
  std::cout << "weights:        " << std::filesystem::path(source).filename().string() << "\n";
  std::cout << "config:         vocab " << config.vocab_size << ", hidden " << config.hidden_size << ", layers "
            << config.num_hidden_layers << ", heads " << config.num_attention_heads << ", intermediate "
            << config.intermediate_size << ", act " << config.hidden_act << "\n";
  std::cout << "                max positions " << config.max_position_embeddings << " ("
            << config.position_embedding_type << "), type vocab " << config.type_vocab_size << ", layer_norm_eps "
            << config.layer_norm_eps << ", dropout " << config.hidden_dropout_prob << "/"
            << config.attention_probs_dropout_prob << "\n";
  print_labels(config, a.head.empty() ? arch : a.head);
  int64_t total = 0;
  std::map<std::string, int64_t> by_dtype;
  for (const auto& [name, t] : weights) {
    total += t.numel();
    by_dtype[c10::toString(t.scalar_type())] += t.numel();
  }
  std::cout << "parameters:     " << total << " (" << human(total) << ") in " << weights.size() << " tensors\n";
  std::cout << "dtypes:        ";
  for (const auto& [d, n] : by_dtype) std::cout << " " << d << " " << n;
  std::cout << "\n";
  // Key check: load the weights into the model the config describes (or --head).
  LoadOptions lo;
  lo.verbose = false;
  if (!a.head.empty()) lo.architecture = parse_architecture(a.head);
  LoadReport report;
  auto model = load_pretrained(a.dir, lo, &report);
  std::cout << "key check:      " << architecture_name(model->architecture()) << ": "
            << model->named_parameters().size() << " parameters, " << report.missing_keys.size() << " missing, "
            << report.unexpected_keys.size() << " unexpected, " << report.renamed_keys.size() << " legacy names\n";
  for (const auto& k : report.missing_keys) std::cout << "  missing (newly initialised): " << k << "\n";
  for (const auto& k : report.unexpected_keys) std::cout << "  unexpected (unused): " << k << "\n";
  for (const auto& k : report.renamed_keys) std::cout << "  renamed: " << k << "\n";
  std::vector<std::string> extras;
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "optimizer.safetensors", "trainer_state.json"})
    if (file_exists(a.dir + "/" + f)) extras.push_back(f);
  for (const auto& e : std::filesystem::directory_iterator(a.dir))
    if (e.path().extension() == ".model") extras.push_back(e.path().filename().string());
  if (!extras.empty()) {
    std::cout << "other files:   ";
    for (const auto& e : extras) std::cout << " " << e;
    std::cout << "\n";
  }
  if (file_exists(a.dir + "/trainer_state.json")) std::cout << "kind:           bertkit training checkpoint\n";
  return 0;
}

bertkit::cli::Action setup_info(CLI::App& sub) {
  auto a = std::make_shared<InfoArgs>();
  sub.add_option("dir", a->dir,
                 "An HF model directory, a bertkit training checkpoint or a Hub id (org/name[@revision]); without it, "
                 "this build: LibTorch, CUDA, "
                 "data-parallel backends (gloo, nccl)");
  sub.add_option("--head", a->head,
                 "Check the keys against this architecture instead of config.json's (BertModel, BertForMaskedLM, ... "
                 "or base|pretraining|maskedlm|seqcls|tokcls|qa)");
  return [a] {
    if (!a->dir.empty()) a->dir = bertkit::hub::resolve_model_dir(a->dir, "DIR");  // a Hub id -> its snapshot
    return run_info(*a);
  };
}

bertkit::cli::Registrar reg({"info", "Summarise a checkpoint: architecture, config, parameters, dtypes, key check",
                             setup_info, "Models"});

}  // namespace
