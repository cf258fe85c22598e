// Errors (docs/architecture.md): exceptions carry the file, line or key path,
// what was expected, and what to do. Only main() catches them.
//   InputError   -> exit code 2 (bad input, bad usage, malformed files)
//   RuntimeError -> exit code 1 (a failure while running: I/O, CUDA, ...)
#pragma once

#include <stdexcept>
#include <string>

namespace bertkit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const { return 1; }
};

// Bad input or usage: a file, line or key the user can fix. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

// A failure at run time that is not the input's fault. Exit code 1.
class RuntimeError : public Error {
 public:
  using Error::Error;
};

}  // namespace bertkit

// BERTKIT_CHECK_INPUT(cond, msg): throw InputError(msg) when cond is false.
#define BERTKIT_CHECK_INPUT(cond, msg)              \
  do {                                              \
    if (!(cond)) throw ::bertkit::InputError(msg);  \
  } while (0)
