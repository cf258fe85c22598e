// Activation functions by HF name (transformers.activations.ACT2FN).
#pragma once

#include <string>

#include <torch/types.h>

namespace bertkit {

enum class Activation {
  Gelu,             // "gelu", "gelu_python": x * Phi(x) with erf
  GeluNew,          // "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  GeluPytorchTanh,  // "gelu_pytorch_tanh": torch's gelu(approximate="tanh")
  GeluFast,         // "gelu_fast"
  QuickGelu,        // "quick_gelu": x * sigmoid(1.702 x)
  Relu,
  Silu,             // "silu", "swish"
  Tanh,
  Mish,
  Linear,           // identity
};

// InputError naming the activation when unknown.
Activation parse_activation(const std::string& name);
torch::Tensor apply_activation(Activation act, const torch::Tensor& x);

}  // namespace bertkit
