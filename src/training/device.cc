#include "bertkit/training/device.h"

#include <torch/cuda.h>

#include "bertkit/core/error.h"

namespace bertkit {

torch::Device parse_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::kCPU;
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      const std::string num = spec.substr(5);
      if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos)
        throw InputError("device \"" + spec + "\": expected auto, cpu, cuda or cuda:N with N a GPU index");
      index = std::stoi(num);
    }
    if (!torch::cuda::is_available())
      throw InputError("device \"" + spec + "\": CUDA is not available (LibTorch built without CUDA, or no GPU); use cpu or auto");
    if (index >= static_cast<int>(torch::cuda::device_count()))
      throw InputError("device \"" + spec + "\": only " + std::to_string(torch::cuda::device_count()) + " GPU(s) visible");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw InputError("device \"" + spec + "\": expected auto, cpu, cuda or cuda:N");
}

}  // namespace bertkit
