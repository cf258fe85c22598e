// snapshot_download in a build without libcurl (-DBERTKIT_WITH_HUB=OFF, e.g. a
// machine without Debian's libcurl4-openssl-dev): ids still resolve from the
// HuggingFace cache (resolve.cc looks there first), nothing is downloaded.
#include "bertkit/core/error.h"
#include "bertkit/hub/cache.h"
#include "bertkit/hub/download.h"

namespace bertkit::hub {

std::string snapshot_download(const RepoRef& ref, const HubSettings& settings, const DownloadOptions&) {
  RepoCache cache(settings.cache_dir, ref.repo_id);
  if (auto dir = cache.snapshot_for(ref.revision)) return *dir;  // as Python does when the Hub is out of reach
  throw RuntimeError(ref.repo_id + ": this bertkit was built without libcurl (-DBERTKIT_WITH_HUB=OFF), so it cannot "
                     "download; the HuggingFace cache (" + cache.storage() +
                     ") has no complete copy. Download it with a full build or Python and copy the cache, or give a "
                     "local model directory");
}

}  // namespace bertkit::hub
