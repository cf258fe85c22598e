#include "bertkit/version.h"

namespace bertkit {
// The library's version, for programs linking bertkit (bertkit --version prints it too).
const char* version() { return BERTKIT_VERSION_STRING; }
}  // namespace bertkit
