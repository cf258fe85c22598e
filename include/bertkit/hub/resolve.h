// Models named as users name them in Python (DESIGN.md decision 9): a local
// path, or a Hub id `name`, `org/name`, `org/name@revision`, resolved once at
// the loading boundary into a local directory. Nothing below knows where the
// directory came from.
#pragma once

#include <string>

namespace bertkit::hub {

// `name_or_path` as a local directory:
//  - an existing file or directory is returned unchanged (a local path always wins);
//  - a Hub id is looked up in the HuggingFace cache first (HF_HUB_CACHE, ...):
//    a snapshot with config.json and weights is used without network;
//  - else, unless HF_HUB_OFFLINE=1, it is downloaded from HF_ENDPOINT into the cache.
// Errors name `context` (e.g. "model.pretrained", "MODEL") and the id, and say what to do.
std::string resolve_model_dir(const std::string& name_or_path, const std::string& context = "");

}  // namespace bertkit::hub
