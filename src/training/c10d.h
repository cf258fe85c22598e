// Private to src/training: which c10d process groups this LibTorch offers and
// the process group under a Distributed (for the Reducer in data_parallel.cc).
//
// Gloo: the headers of torch's c10d and of gloo (Debian: libgloo-dev; a
// PyTorch wheel ships both); the implementation is in libtorch_cpu.
// NCCL: CMake writes BERTKIT_HAVE_NCCL 1 into bertkit_c10d_config.h when the
// LibTorch it found links ProcessGroupNCCL (a CUDA wheel's does; Debian's has
// the header only).
#pragma once

#include "bertkit/nn/torch_compat.h"
#include "bertkit/training/distributed.h"

#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>) && __has_include(<gloo/context.h>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define BERTKIT_HAVE_GLOO 1
#else
#define BERTKIT_HAVE_GLOO 0
#endif

#include "bertkit_c10d_config.h"
#if BERTKIT_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#define BERTKIT_HAVE_C10D (BERTKIT_HAVE_GLOO || BERTKIT_HAVE_NCCL)

#if BERTKIT_HAVE_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace bertkit {
// The process group of a multi-process Distributed; null for a single process.
c10::intrusive_ptr<c10d::ProcessGroup> process_group_of(const Distributed& dist);
}  // namespace bertkit
#endif
