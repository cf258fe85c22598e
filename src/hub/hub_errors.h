// The Hub's failures as bertkit errors that name the model id, say what
// happened and what to do (DESIGN.md decision 6).
#pragma once

#include <string>

#include "bertkit/hub/cache.h"
#include "bertkit/hub/http.h"
#include "bertkit/hub/repo_id.h"
#include "bertkit/hub/settings.h"

namespace bertkit::hub {

// An HTTP error answer (4xx/5xx) for `what` (a URL's role, e.g. "config.json"):
// InputError for a missing/gated/private repository, revision or file and a
// rejected token; RuntimeError for the rest.
[[noreturn]] void throw_http_error(const HttpResponse& r, const RepoRef& ref, const HubSettings& s,
                                   const std::string& what);

// No answer at all (DNS, connection, timeout): RuntimeError.
[[noreturn]] void throw_unreachable(const HttpResponse& r, const RepoRef& ref, const HubSettings& s,
                                    const RepoCache& cache);

// HF_HUB_OFFLINE=1 and the cache lacks the model: InputError.
[[noreturn]] void throw_not_cached_offline(const RepoRef& ref, const RepoCache& cache);

}  // namespace bertkit::hub
