#include "bertkit/nn/activations.h"

#include <cmath>

#include "bertkit/core/error.h"

namespace bertkit {

Activation parse_activation(const std::string& name) {
  if (name == "gelu" || name == "gelu_python") return Activation::Gelu;
  if (name == "gelu_new") return Activation::GeluNew;
  if (name == "gelu_pytorch_tanh") return Activation::GeluPytorchTanh;
  if (name == "gelu_fast") return Activation::GeluFast;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "tanh") return Activation::Tanh;
  if (name == "mish") return Activation::Mish;
  if (name == "linear") return Activation::Linear;
  throw InputError("hidden_act: unknown activation '" + name +
                   "' (expected gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu, silu, swish, tanh, "
                   "mish or linear)");
}

torch::Tensor apply_activation(Activation act, const torch::Tensor& x) {
  switch (act) {
    case Activation::Gelu:
      return torch::gelu(x);
    case Activation::GeluNew:
      return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * torch::pow(x, 3.0))));
    case Activation::GeluPytorchTanh:
      return torch::gelu(x, "tanh");
    case Activation::GeluFast:
      return 0.5 * x * (1.0 + torch::tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)));
    case Activation::QuickGelu:
      return x * torch::sigmoid(1.702 * x);
    case Activation::Relu:
      return torch::relu(x);
    case Activation::Silu:
      return torch::silu(x);
    case Activation::Tanh:
      return torch::tanh(x);
    case Activation::Mish:
      return torch::mish(x);
    case Activation::Linear:
      return x;
  }
  return x;
}

}  // namespace bertkit
