// Stand-in for a LibTorch header that Debian's libtorch-dev 1.13 leaves out
// although c10d/reducer.hpp includes it. CMake adds this folder to the include
// path of bertkit_train only when the real header is missing (a PyTorch
// wheel's LibTorch has it). reducer.hpp needs two names from it: the callback
// type it checks against its own, and the context pointer it holds (a
// shared_ptr, whose size does not depend on the class). bertkit never creates
// or touches a distributed-autograd context; the Reducer's code in
// libtorch_cpu uses the real one.
#pragma once

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
