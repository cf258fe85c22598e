// bertkit download ID: a model from the Hub into the HuggingFace cache (the
// one Python uses), printing the snapshot directory. Like `hf download`, it
// asks the Hub for the revision's current commit even when a copy is cached.
#include <iostream>
#include <memory>

#include "bertkit/core/error.h"
#include "bertkit/hub/download.h"
#include "bertkit/hub/repo_id.h"
#include "bertkit/hub/settings.h"
#include "command.h"

namespace {

struct DownloadArgs {
  std::string id;
  std::string revision;
  std::vector<std::string> include;
  std::string cache_dir;
};

int run_download(const DownloadArgs& a) {
  using namespace bertkit;
  std::string why;
  auto ref = hub::parse_repo_ref(a.id, &why);
  if (!ref) throw InputError("ID: '" + a.id + "' is not a Hub model id (" + why + "); expected name, org/name or org/name@revision");
  if (!a.revision.empty()) {
    if (a.id.find('@') != std::string::npos)
      throw InputError("--revision " + a.revision + ": ID already names a revision (" + a.id + "); give one of them");
    auto with_rev = hub::parse_repo_ref(ref->repo_id + "@" + a.revision, &why);
    if (!with_rev) throw InputError("--revision " + a.revision + ": " + why);
    ref = with_rev;
  }
  hub::HubSettings settings = hub::hub_settings_from_env();
  if (!a.cache_dir.empty()) settings.cache_dir = a.cache_dir;
  hub::DownloadOptions options;
  options.include = a.include;
  std::cout << hub::snapshot_download(*ref, settings, options) << "\n";
  return 0;
}

bertkit::cli::Action setup_download(CLI::App& sub) {
  auto a = std::make_shared<DownloadArgs>();
  sub.add_option("id", a->id, "Hub model id: name, org/name or org/name@revision")->required();
  sub.add_option("--revision", a->revision, "Branch, tag or commit (default: main)");
  sub.add_option("--include", a->include,
                 "Only the repository files matching these globs (fnmatch, as huggingface_hub's allow_patterns); "
                 "default: the files a BERT needs (config, weights, tokenizer, sentence-transformers modules)");
  sub.add_option("--cache-dir", a->cache_dir,
                 "Cache directory (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)");
  sub.footer(
      "Prints the snapshot directory. HF_ENDPOINT chooses the Hub, HF_TOKEN (or $HF_HOME/token) is sent as a bearer "
      "token, HF_HUB_OFFLINE=1 only looks in the cache. See docs/hub.md.\n");
  return [a] { return run_download(*a); };
}

bertkit::cli::Registrar reg({"download", "Download a model from the HuggingFace Hub into the shared cache", setup_download,
                             "Models"});

}  // namespace
