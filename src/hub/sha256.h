// The SHA-256 of a file as lower-case hex: an LFS file's ETag on the Hub.
#pragma once

#include <string>

namespace bertkit::hub {

std::string sha256_file(const std::string& path);

}  // namespace bertkit::hub
