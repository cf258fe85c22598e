// Reading a state dict saved by Python's torch.save (pytorch_model.bin, zip
// format since PyTorch 1.6) without Python: the archive's data.pkl is run on a
// small pickle machine that understands exactly what torch.save writes for a
// state dict (OrderedDict of _rebuild_tensor_v2 / _rebuild_parameter over typed
// storages); anything else is an InputError naming the file.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace bertkit {

std::map<std::string, torch::Tensor> read_torch_state_dict(const std::string& path);

}  // namespace bertkit
