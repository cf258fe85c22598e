#include "bertkit/hub/resolve.h"

#include <filesystem>

#include "bertkit/core/error.h"
#include "bertkit/hub/cache.h"
#include "bertkit/hub/download.h"
#include "bertkit/hub/repo_id.h"
#include "bertkit/hub/settings.h"

namespace bertkit::hub {

namespace {

std::string prefixed(const std::string& context, const std::string& message) {
  return context.empty() ? message : context + ": " + message;
}

std::string resolve_repo(const RepoRef& ref) {
  HubSettings settings = hub_settings_from_env();
  RepoCache cache(settings.cache_dir, ref.repo_id);
  if (auto dir = cache.snapshot_for(ref.revision); dir && snapshot_has_model(*dir)) return *dir;
  return snapshot_download(ref, settings);
}

}  // namespace

std::string resolve_model_dir(const std::string& name_or_path, const std::string& context) {
  std::error_code ec;
  if (std::filesystem::exists(name_or_path, ec)) return name_or_path;
  std::string why;
  auto ref = parse_repo_ref(name_or_path, &why);
  if (!ref)
    throw InputError(prefixed(context, "'" + name_or_path + "' is neither an existing path nor a Hub model id (" + why +
                                           "); give a model directory or an id such as bert-base-uncased or org/name@revision"));
  const std::string as_id = "'" + name_or_path + "' is not a local path, so it was taken as a Hub id: ";
  const std::string alternatives = " (or give a local HF model directory, or train from scratch: docs/tasks.md)";
  try {
    return resolve_repo(*ref);
  } catch (const InputError& e) {
    throw InputError(prefixed(context, as_id + e.what() + alternatives));
  } catch (const RuntimeError& e) {
    throw RuntimeError(prefixed(context, as_id + e.what() + alternatives));
  }
}

}  // namespace bertkit::hub
