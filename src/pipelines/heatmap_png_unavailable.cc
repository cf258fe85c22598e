// heatmap_png in a build without cairo (-DBERTKIT_WITH_CAIRO=OFF, e.g. scripts/gpu-check.sh,
// whose machine has no libcairo2-dev): a clear error instead of a missing symbol.
#include "bertkit/core/error.h"
#include "bertkit/pipelines/heatmap.h"

namespace bertkit::pipelines {

std::string heatmap_png(const Heatmap&, int) {
  throw InputError("attention: this bertkit was built without cairo (-DBERTKIT_WITH_CAIRO=OFF), so it cannot "
                   "draw a PNG; use --format svg, or rebuild with libcairo2-dev installed");
}

}  // namespace bertkit::pipelines
