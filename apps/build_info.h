// What this bertkit build is: "bertkit 0.1.0 (LibTorch 1.13.0; data parallel:
// gloo)", printed by --version and by `bertkit info` without a directory.
#pragma once

#include <string>

namespace bertkit::cli {

std::string version_line();

}  // namespace bertkit::cli
