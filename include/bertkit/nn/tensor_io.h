// Named torch tensors <-> safetensors files (the torch side of core/safetensors.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bertkit/core/safetensors.h"

namespace bertkit {

torch::Dtype to_torch_dtype(StDType d);
StDType to_st_dtype(torch::Dtype d);  // InputError for dtypes safetensors lacks

// Read every tensor of a safetensors file into owned CPU tensors (copied out of
// the memory map), in their stored dtype.
std::map<std::string, torch::Tensor> load_safetensors(const std::string& path);
// Read one tensor of an open reader into an owned CPU tensor.
torch::Tensor read_tensor(const SafetensorsReader& reader, const std::string& name);

// Write tensors (any device; made contiguous on CPU) atomically.
void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace bertkit
