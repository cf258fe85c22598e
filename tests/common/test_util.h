// Helpers shared by the test suites.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace bertkit::test {

// The ../shared folder: $BERTKIT_SHARED, else ../shared beside the source tree.
std::string shared_dir();
// True when BERTKIT_REQUIRE_SHARED=1 (CI): a missing fixture fails instead of skipping.
bool shared_required();
// shared_dir() + "/" + rel.
std::string shared_path(const std::string& rel);
// The source tree ($BERTKIT_SOURCE_DIR).
std::string source_dir();
// The bertkit executable ($BERTKIT_BINARY).
std::string bertkit_binary();
// A fresh, empty temporary directory, removed by the caller or left in /tmp.
std::string make_temp_dir(const std::string& prefix = "bertkit-test");
bool path_exists(const std::string& p);
// Run a shell command, capture stdout+stderr; returns the exit code.
int run_command(const std::string& cmd, std::string* output = nullptr);
// Run a shell command, capture its stdout alone (stderr, e.g. progress lines, is
// dropped); returns the exit code.
int run_stdout(const std::string& cmd, std::string* output);
// Run a command that must succeed and print one JSON document on stdout
// (stderr kept apart and shown on failure); records a test failure and returns
// null otherwise.
nlohmann::json run_json(const std::string& cmd);
// Code points [a, b) of UTF-8 text, computed independently of the library
// (tests check the library's offsets with it).
std::string cp_slice(const std::string& s, std::size_t a, std::size_t b);

}  // namespace bertkit::test

// Skip the test when a ../shared path is missing (fail in CI: BERTKIT_REQUIRE_SHARED=1).
#define BERTKIT_NEED_SHARED(rel)                                                  \
  do {                                                                            \
    std::string _p = ::bertkit::test::shared_path(rel);                           \
    if (!::bertkit::test::path_exists(_p)) {         \
      if (::bertkit::test::shared_required())                                     \
        FAIL() << "required fixture missing: " << _p;                             \
      else                                                                        \
        GTEST_SKIP() << "fixture missing (set BERTKIT_SHARED): " << _p;           \
    }                                                                             \
  } while (0)

