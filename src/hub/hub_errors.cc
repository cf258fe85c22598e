#include "hub_errors.h"

#include "bertkit/core/error.h"

namespace bertkit::hub {

namespace {

std::string display(const RepoRef& ref) {
  return ref.revision == "main" ? ref.repo_id : ref.repo_id + "@" + ref.revision;
}

std::string token_advice(const HubSettings& s) {
  return s.token.empty() ? "set HF_TOKEN to an access token (or write it to $HF_HOME/token, as `hf auth login` does)"
                         : "the token in use (HF_TOKEN or $HF_HOME/token) has no access: use one that has";
}

}  // namespace

void throw_http_error(const HttpResponse& r, const RepoRef& ref, const HubSettings& s, const std::string& what) {
  const std::string id = display(ref);
  const std::string code = r.header("x-error-code");
  const std::string message = r.header("x-error-message");
  const std::string status = "HTTP " + std::to_string(r.status);
  if (code == "GatedRepo")
    throw InputError(id + ": a gated repository on " + s.endpoint + " (" + status + "): accept its conditions at " +
                     s.endpoint + "/" + ref.repo_id + " while logged in, then " + token_advice(s));
  if (code == "RevisionNotFound")
    throw InputError(id + ": revision '" + ref.revision + "' not found on " + s.endpoint + " (" + status +
                     "): use a branch, a tag or a full commit hash of " + ref.repo_id);
  if (code == "EntryNotFound" || (r.status == 404 && code.empty() && what != "the repository"))
    throw InputError(id + ": " + what + " not found on " + s.endpoint + " (" + status + ")");
  if (message == "Invalid credentials in Authorization header")
    throw InputError(id + ": " + s.endpoint + " rejected the token (" + status +
                     "): check HF_TOKEN or $HF_HOME/token, or unset them for public models");
  if (code == "RepoNotFound" || r.status == 401 || r.status == 404)
    throw InputError(id + ": repository not found on " + s.endpoint + " (" + status +
                     "). Check the name (`org/name`); a private or gated repository answers the same without access: " +
                     token_advice(s));
  if (r.status == 403)
    throw InputError(id + ": access to " + what + " forbidden by " + s.endpoint + " (" + status +
                     (message.empty() ? "" : ": " + message) + "): " + token_advice(s));
  throw RuntimeError(id + ": " + s.endpoint + " answered " + status + " for " + what +
                     (message.empty() ? "" : " (" + message + ")") + "; try again later");
}

void throw_unreachable(const HttpResponse& r, const RepoRef& ref, const HubSettings& s, const RepoCache& cache) {
  throw RuntimeError(display(ref) + ": cannot reach " + s.endpoint + " (" + r.error +
                     ") and the HuggingFace cache has no copy of it (" + cache.storage() +
                     "). Check the network (or HF_ENDPOINT / proxy settings), download it where there is a network "
                     "(`bertkit download " + display(ref) + "`, or Python's snapshot_download) and copy the cache, "
                     "or give a local model directory instead");
}

void throw_not_cached_offline(const RepoRef& ref, const RepoCache& cache) {
  throw InputError(display(ref) + ": not in the HuggingFace cache (" + cache.storage() +
                   ") and HF_HUB_OFFLINE=1 forbids downloading it. Unset HF_HUB_OFFLINE to download it, download it "
                   "where there is a network (`bertkit download " + display(ref) +
                   "`, or Python's snapshot_download) and copy the cache, point HF_HUB_CACHE / HF_HOME at a cache "
                   "that has it, or give a local model directory instead");
}

}  // namespace bertkit::hub
