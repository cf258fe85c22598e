// bertkit export SRC DST: re-save any loadable checkpoint as a clean HF directory.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/models/heads.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace fs = std::filesystem;

namespace {

struct ExportArgs {
  std::string src, dst;
  std::string dtype = "fp32";
  std::string head;
  int64_t num_labels = 0;
};

bool is_tokenizer_file(const fs::path& p) {
  const std::string name = p.filename().string();
  return name == "vocab.txt" || name == "tokenizer.json" || name == "tokenizer_config.json" ||
         name == "special_tokens_map.json" || name == "added_tokens.json" || p.extension() == ".model";
}

// A sentence-transformers directory: modules.json, its two config files and
// the folders of the modules after the Transformer (1_Pooling, 2_Normalize),
// which decide how predict --task embeddings pools and normalises. The
// Transformer itself is what export re-saves, so it must be SRC's root.
std::vector<fs::path> sentence_transformers_files(const fs::path& src) {
  const fs::path modules_json = src / "modules.json";
  if (!fs::exists(modules_json)) return {};
  std::vector<fs::path> out{modules_json};
  for (const char* name : {"sentence_bert_config.json", "config_sentence_transformers.json"})
    if (fs::exists(src / name)) out.push_back(src / name);
  auto modules = bertkit::json::load_file(modules_json.string());
  if (!modules.is_array()) throw bertkit::InputError(modules_json.string() + ": expected an array of modules");
  for (const auto& mod : modules) {
    std::string path = mod.value("path", "");
    bool transformer = mod.value("type", "").find("Transformer") != std::string::npos;
    if (transformer && !path.empty())
      throw bertkit::InputError(modules_json.string() + ": the Transformer module is in '" + path +
                                "'; export re-saves SRC's root, so export SRC/" + path + " instead");
    if (!transformer && !path.empty()) {
      if (!fs::is_directory(src / path))
        throw bertkit::InputError(modules_json.string() + ": module folder '" + path + "' does not exist");
      out.push_back(src / path);
    }
  }
  return out;
}

// transformers knows no "sinusoidal" position encoding: write the fixed table
// as learned absolute position embeddings, which gives identical outputs.
bertkit::BertPreTrainedModel materialise_sinusoidal(const bertkit::BertPreTrainedModel& model) {
  using namespace bertkit;
  BertConfig c = model->config;
  c.position_embedding_type = "absolute";
  auto out = create_model(model->architecture(), c);
  torch::NoGradGuard ng;
  auto src = model->named_parameters();
  for (auto& p : out->named_parameters()) {
    if (auto* s = src.find(p.key()))
      p.value().copy_(*s);
    else if (p.key().find("embeddings.position_embeddings.weight") != std::string::npos)
      p.value().copy_(base_model(model)->embeddings->sinusoidal_table);
    else
      throw RuntimeError("export: no source for " + p.key());
  }
  out->config.problem_type = model->config.problem_type;
  return out;
}

int run_export(const ExportArgs& a) {
  using namespace bertkit;
  SaveDType dtype = parse_save_dtype(a.dtype);
  LoadOptions lo;
  if (!a.head.empty()) lo.architecture = parse_architecture(a.head);
  if (a.num_labels > 0) lo.num_labels = a.num_labels;
  LoadReport report;
  auto model = load_pretrained(a.src, lo, &report);
  if (model->config.position_embedding_type == "sinusoidal") {
    std::cerr << "note: position_embedding_type \"sinusoidal\" is bertkit's; exported as \"absolute\" with the fixed "
                 "table as position_embeddings so transformers computes the same outputs\n";
    model = materialise_sinusoidal(model);
  }
  if (fs::weakly_canonical(a.src) == fs::weakly_canonical(a.dst))
    throw InputError("export: DST must differ from SRC (" + a.dst + ")");
  std::vector<fs::path> tokenizer_files;
  for (const auto& e : fs::directory_iterator(a.src))
    if (e.is_regular_file() && is_tokenizer_file(e.path())) tokenizer_files.push_back(e.path());
  for (const auto& p : sentence_transformers_files(a.src)) tokenizer_files.push_back(p);
  save_pretrained(model, a.dst, dtype, [&](const std::string& tmp) {
    for (const auto& p : tokenizer_files) fs::copy(p, fs::path(tmp) / p.filename(), fs::copy_options::recursive);
  });
  std::cout << "exported " << architecture_name(model->architecture()) << " (" << a.dtype << ") to " << a.dst;
  if (!tokenizer_files.empty()) {
    std::cout << " with";
    for (const auto& p : tokenizer_files) std::cout << " " << p.filename().string();
  }
  std::cout << "\n";
  return 0;
}

bertkit::cli::Action setup_export(CLI::App& sub) {
  auto a = std::make_shared<ExportArgs>();
  sub.add_option("src", a->src, "An HF model directory, a bertkit training checkpoint or a Hub id (org/name[@revision])")->required();
  sub.add_option("dst", a->dst, "Output directory (replaced atomically)")->required();
  sub.add_option("--dtype", a->dtype, "Weights dtype: fp32, fp16 or bf16")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16"}))
      ->capture_default_str();
  sub.add_option("--head", a->head,
                 "Save as this architecture (BertModel, BertForMaskedLM, ... or base|pretraining|maskedlm|seqcls|"
                 "tokcls|qa); a head missing from SRC is freshly initialised");
  sub.add_option("--num-labels", a->num_labels, "num_labels for a new classification head")->check(CLI::PositiveNumber);
  return [a] {
    a->src = bertkit::hub::resolve_model_dir(a->src, "SRC");  // a Hub id -> its snapshot
    return run_export(*a);
  };
}

bertkit::cli::Registrar reg({"export",
                             "Re-save a checkpoint as a clean HF directory (fp32/fp16/bf16); tokenizer files and a "
                             "sentence-transformers directory's modules come along", setup_export,
                             "Models"});

}  // namespace
