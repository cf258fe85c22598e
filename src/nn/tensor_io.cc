#include "bertkit/nn/tensor_io.h"

#include <cstring>

#include "bertkit/core/error.h"

namespace bertkit {

torch::Dtype to_torch_dtype(StDType d) {
  switch (d) {
    case StDType::F32: return torch::kFloat32;
    case StDType::F16: return torch::kFloat16;
    case StDType::BF16: return torch::kBFloat16;
    case StDType::F64: return torch::kFloat64;
    case StDType::I64: return torch::kInt64;
    case StDType::I32: return torch::kInt32;
    case StDType::I16: return torch::kInt16;
    case StDType::I8: return torch::kInt8;
    case StDType::U8: return torch::kUInt8;
    case StDType::BOOL: return torch::kBool;
  }
  return torch::kFloat32;
}

StDType to_st_dtype(torch::Dtype d) {
  switch (d) {
    case torch::kFloat32: return StDType::F32;
    case torch::kFloat16: return StDType::F16;
    case torch::kBFloat16: return StDType::BF16;
    case torch::kFloat64: return StDType::F64;
    case torch::kInt64: return StDType::I64;
    case torch::kInt32: return StDType::I32;
    case torch::kInt16: return StDType::I16;
    case torch::kInt8: return StDType::I8;
    case torch::kUInt8: return StDType::U8;
    case torch::kBool: return StDType::BOOL;
    default: break;
  }
  throw InputError(std::string("safetensors cannot store dtype ") + c10::toString(d));
}

torch::Tensor read_tensor(const SafetensorsReader& reader, const std::string& name) {
  const auto& info = reader.info(name);
  auto t = torch::empty(info.shape, torch::TensorOptions().dtype(to_torch_dtype(info.dtype)));
  if (info.nbytes()) std::memcpy(t.data_ptr(), reader.data(name), info.nbytes());
  return t;
}

std::map<std::string, torch::Tensor> load_safetensors(const std::string& path) {
  SafetensorsReader reader(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : reader.tensors()) out[info.name] = read_tensor(reader, info.name);
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;
  std::vector<StTensorView> views;
  keep.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw RuntimeError(path + ": tensor '" + name + "' is undefined");
    auto c = t.detach().to(torch::kCPU).contiguous();
    keep.push_back(c);
    StTensorView v;
    v.name = name;
    v.dtype = to_st_dtype(c.scalar_type());
    v.shape = c.sizes().vec();
    v.data = c.data_ptr();
    v.nbytes = c.numel() * c.element_size();
    views.push_back(std::move(v));
  }
  write_safetensors(path, views, metadata);
}

}  // namespace bertkit
