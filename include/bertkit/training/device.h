// Device selection: "auto" | "cpu" | "cuda" | "cuda:N".
#pragma once

#include <string>

#include <torch/types.h>

namespace bertkit {

// "auto" picks cuda:0 when CUDA is available, else cpu. InputError for
// anything else, or for cuda when LibTorch was built without it / no GPU.
torch::Device parse_device(const std::string& spec);

}  // namespace bertkit
