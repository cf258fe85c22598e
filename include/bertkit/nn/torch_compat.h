// LibTorch version checks (docs/architecture.md): Debian's 1.13 is the
// default build; newer APIs are used only behind these macros.
#pragma once
#include <torch/version.h>

#define BERTKIT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// scaled_dot_product_attention appeared in 2.0.
#define BERTKIT_HAVE_SDPA BERTKIT_TORCH_AT_LEAST(2, 0)
// at::autocast per device type (set_autocast_enabled(device_type, ...)) in 2.4.
#define BERTKIT_HAVE_AUTOCAST_DEVICE_TYPE BERTKIT_TORCH_AT_LEAST(2, 4)
