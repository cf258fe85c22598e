// bertkit attention: the attention probabilities of one layer/head for a text,
// as a heatmap (PNG or SVG) and JSON.
#include <iostream>
#include <memory>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/pipelines/heatmap.h"
#include "bertkit/pipelines/pipelines.h"
#include "bertkit/training/device.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace bertkit::cli {
namespace {

struct AttnArgs {
  std::string model, text, pair, out = "attention", format = "png", device = "cpu";
  int layer = -1, head = 0;
  bool average = false;
};

int run_attention(const AttnArgs& a) {
  namespace P = bertkit::pipelines;
  torch::NoGradGuard ng;
  P::LoadedModel m = P::load_model(a.model, std::nullopt, parse_device(a.device));
  Encoding e = a.pair.empty() ? m.tokenizer->encode(a.text) : m.tokenizer->encode(a.text, std::string_view(a.pair));
  Batch b;
  auto vec = [](const std::vector<int32_t>& v) {
    return torch::tensor(std::vector<int64_t>(v.begin(), v.end()), torch::kLong).unsqueeze(0);
  };
  b.input_ids = vec(e.ids).to(m.device);
  b.token_type_ids = vec(e.type_ids).to(m.device);
  b.attention_mask = vec(e.attention_mask).to(m.device);
  ForwardOptions fo;
  fo.output_attentions = true;
  ModelOutput out = m.model->forward(b, fo);
  const int L = static_cast<int>(out.attentions.size());
  if (L == 0) throw RuntimeError("attention: the model returned no attention probabilities");
  int layer = a.layer < 0 ? L + a.layer : a.layer;
  if (layer < 0 || layer >= L)
    throw InputError("attention: --layer " + std::to_string(a.layer) + " out of range (the model has " + std::to_string(L) +
                     " layers: 0.." + std::to_string(L - 1) + " or negative from the end)");
  auto att = out.attentions[layer][0].to(torch::kCPU).to(torch::kFloat);  // [NH, T, T]
  const int NH = static_cast<int>(att.size(0));
  torch::Tensor mat;
  if (a.average) {
    mat = att.mean(0);
  } else {
    if (a.head < 0 || a.head >= NH)
      throw InputError("attention: --head " + std::to_string(a.head) + " out of range (the model has " + std::to_string(NH) +
                       " heads: 0.." + std::to_string(NH - 1) + ")");
    mat = att[a.head];
  }
  mat = mat.contiguous();
  const int64_t T = mat.size(0);
  P::Heatmap h;
  h.row_labels = e.tokens;
  h.col_labels = e.tokens;
  h.title = "layer " + std::to_string(layer) + (a.average ? ", mean of heads" : ", head " + std::to_string(a.head));
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < T; ++i) {
    std::vector<float> r(mat[i].data_ptr<float>(), mat[i].data_ptr<float>() + T);
    rows.push_back(r);
    h.values.push_back(std::move(r));
  }
  nlohmann::json j{{"model", a.model}, {"text", a.text}, {"tokens", e.tokens}, {"layer", layer},
                   {"head", a.average ? nlohmann::json("mean") : nlohmann::json(a.head)}, {"num_layers", L},
                   {"num_heads", NH}, {"attention", rows}};
  if (!a.pair.empty()) j["text_pair"] = a.pair;
  const std::string img = a.out + "." + a.format;
  write_file_atomic(img, a.format == "png" ? P::heatmap_png(h) : P::heatmap_svg(h));
  write_file_atomic(a.out + ".json", j.dump(1) + "\n");
  std::cout << "wrote " << img << " and " << a.out << ".json (" << T << " tokens, " << h.title << ")\n";
  return 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<AttnArgs>();
  sub.add_option("model", a->model, "Model directory or Hub id (org/name[@revision])")->required();
  sub.add_option("text", a->text, "Text to encode")->required();
  sub.add_option("--pair", a->pair, "Second text of a pair");
  sub.add_option("--layer", a->layer, "Layer index (negative counts from the end)")->capture_default_str();
  sub.add_option("--head", a->head, "Head index")->capture_default_str();
  sub.add_flag("--mean-heads", a->average, "Average over the heads instead of one head");
  sub.add_option("-o,--out", a->out, "Output path without extension: writes OUT.png|svg and OUT.json")->capture_default_str();
  sub.add_option("--format", a->format, "png or svg")->check(CLI::IsMember({"png", "svg"}))->capture_default_str();
  sub.add_option("--device", a->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  return [a] {
    a->model = bertkit::hub::resolve_model_dir(a->model, "MODEL");  // a Hub id -> its snapshot
    return run_attention(*a);
  };
}

Registrar reg({"attention", "Draw one layer/head's attention for a text as a heatmap (PNG or SVG) plus JSON", setup});

}  // namespace
}  // namespace bertkit::cli
