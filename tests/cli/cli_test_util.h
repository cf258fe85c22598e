// Running the CLI in-process for the tests/cli suite.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.h"

namespace bertkit::test {

// `bertkit ARGS...` through the real parser; returns the exit code.
inline int cli(std::vector<std::string> args) {
  args.insert(args.begin(), "bertkit");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return bertkit::cli::run(static_cast<int>(argv.size()), argv.data());
}

// `bertkit ARGS...` that must exit 0; returns what it wrote to stdout.
inline std::string cli_stdout(const std::vector<std::string>& args) {
  testing::internal::CaptureStdout();
  int rc = cli(args);
  std::cout.flush();
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0) << out;
  return out;
}

// What a command wrote to stderr (and its exit code through `rc`).
inline std::string cli_stderr(const std::vector<std::string>& args, int* rc) {
  testing::internal::CaptureStderr();
  *rc = cli(args);
  std::cerr.flush();
  return testing::internal::GetCapturedStderr();
}

}  // namespace bertkit::test
