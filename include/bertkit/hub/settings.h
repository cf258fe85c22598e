// Where the Hub is and how to talk to it, read from the environment variables
// huggingface_hub reads, so bertkit and the Python tools share one cache:
//   HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
//   else ~/.cache/huggingface/hub;
//   HF_ENDPOINT (default https://huggingface.co);
//   HF_TOKEN, else the file $HF_TOKEN_PATH, else $HF_HOME/token;
//   HF_HUB_OFFLINE=1 (or TRANSFORMERS_OFFLINE=1): the cache only.
#pragma once

#include <string>

namespace bertkit::hub {

struct HubSettings {
  std::string cache_dir;
  std::string endpoint;  // no trailing '/'
  std::string token;     // empty: anonymous
  bool offline = false;
};

HubSettings hub_settings_from_env();

}  // namespace bertkit::hub
