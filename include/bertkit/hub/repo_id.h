// Hub model names as users write them in Python: `name`, `org/name`, and
// optionally `@revision` (a branch, a tag or a commit). Validated like
// huggingface_hub's validate_repo_id, so a name can never escape the cache.
#pragma once

#include <optional>
#include <string>

namespace bertkit::hub {

struct RepoRef {
  std::string repo_id;              // "org/name" or "name"
  std::string revision = "main";   // branch, tag or commit hash
};

// Parse "org/name@revision"; nullopt with `why` set when `s` is not a valid id.
std::optional<RepoRef> parse_repo_ref(const std::string& s, std::string* why = nullptr);

// "models--org--name": the repository's folder in the cache.
std::string repo_folder_name(const std::string& repo_id);

// A full 40-hex-digit git commit hash (huggingface_hub's REGEX_COMMIT_HASH).
bool is_commit_hash(const std::string& revision);

}  // namespace bertkit::hub
