// Shared by the fuzz targets (docs/fuzzing.md): the input as a file for
// parsers that take a path, and the one rule every target checks.
//
// The rule: bad input may only end in bertkit::InputError (exit code 2, a
// message naming the file). Any other exception escapes the target and
// libFuzzer reports it as a crash, as it does for ASan/UBSan findings.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "bertkit/core/error.h"

namespace bertkit::fuzz {

// A private directory for this process's input files (one per process, reused).
inline const std::string& work_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/bertkit-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    return templ;
  }();
  return dir;
}

// Write `data` to work_dir()/name and return the path.
inline std::string write_input(const std::string& name, std::string_view data) {
  std::string path = work_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) std::abort();
  return path;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Run `parse`; InputError is the expected answer to bad input, anything else escapes.
template <class F>
void expect_input_errors(F&& parse) {
  try {
    parse();
  } catch (const bertkit::InputError&) {
  }
}

}  // namespace bertkit::fuzz
