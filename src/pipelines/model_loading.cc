// Loading a model directory (or Hub id) with its tokenizer for the pipelines.
#include "bertkit/pipelines/pipelines.h"

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/core/model_files.h"
#include "bertkit/hub/resolve.h"
#include "bertkit/models/checkpoint.h"

namespace bertkit::pipelines {

LoadedModel load_model(const std::string& name_or_dir, std::optional<Architecture> arch, torch::Device device) {
  const std::string dir = hub::resolve_model_dir(name_or_dir);
  LoadedModel m;
  LoadOptions lo;
  lo.architecture = arch;
  lo.device = device;
  lo.verbose = false;
  m.model = load_pretrained(dir, lo);
  m.model->eval();
  m.tokenizer = std::shared_ptr<Tokenizer>(load_tokenizer(dir).release());
  m.device = device;
  m.dir = dir;
  const std::string tc = model_file(dir, "tokenizer_config.json", dir);  // no symbolic link out of dir
  if (file_exists(tc)) {
    const nlohmann::json j = json::load_file(tc);
    if (j.contains("model_input_names") && j["model_input_names"].is_array()) {
      m.token_type_ids = false;
      for (auto& n : j["model_input_names"]) m.token_type_ids = m.token_type_ids || n == "token_type_ids";
    } else {
      std::string cls = j.value("tokenizer_class", "");
      if (cls == "TokenizersBackend" || cls == "PreTrainedTokenizerFast") m.token_type_ids = false;
    }
  }
  return m;
}

}  // namespace bertkit::pipelines
