#include "bertkit/training/distributed.h"

#include <chrono>
#include <cstdlib>

#include "bertkit/core/error.h"

// c10d with Gloo needs both the torch headers and the gloo headers; the
// LibTorch libraries carry the implementation (Debian's libtorch 1.13 and the
// PyTorch wheels both do).
#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>) && __has_include(<gloo/context.h>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#define BERTKIT_HAVE_GLOO 1
#else
#define BERTKIT_HAVE_GLOO 0
#endif

#if defined(BERTKIT_WITH_NCCL) && BERTKIT_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define BERTKIT_HAVE_NCCL 1
#else
#define BERTKIT_HAVE_NCCL 0
#endif

namespace bertkit {

bool distributed_available() { return BERTKIT_HAVE_GLOO || BERTKIT_HAVE_NCCL; }

std::string distributed_backends() {
  std::string s;
  if (BERTKIT_HAVE_GLOO) s += "gloo";
  if (BERTKIT_HAVE_NCCL) s += s.empty() ? "nccl" : ", nccl";
  return s;
}

namespace {

int env_int(const char* name, int fallback, bool required) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    if (required) throw InputError(std::string("distributed: environment variable ") + name + " is not set (torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)");
    return fallback;
  }
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < 0) throw InputError(std::string("distributed: ") + name + "=\"" + v + "\": expected a non-negative integer");
  return static_cast<int>(x);
}

#if BERTKIT_HAVE_GLOO || BERTKIT_HAVE_NCCL
template <class PG>
class C10dDistributed : public Distributed {
 public:
  C10dDistributed(int rank, int world, int local_rank, c10::intrusive_ptr<PG> pg) : pg_(std::move(pg)) {
    rank_ = rank;
    world_size_ = world;
    local_rank_ = local_rank;
  }
  void all_reduce_mean(const std::vector<torch::Tensor>& tensors) override {
    std::vector<torch::Tensor> defined;
    for (const auto& t : tensors)
      if (t.defined()) defined.push_back(t);
    if (defined.empty()) return;
    // One flat buffer: [sum of numel]
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : defined) flat_parts.push_back(t.reshape({-1}));
    // Staged through the backend's device (Gloo: CPU).
    std::vector<torch::Tensor> buf{torch::cat(flat_parts).to(dev_)};
    pg_->allreduce(buf)->wait();
    buf[0].div_(static_cast<double>(world_size_));
    int64_t off = 0;
    for (auto& t : defined) {
      t.copy_(buf[0].narrow(0, off, t.numel()).view(t.sizes()).to(t.device()));
      off += t.numel();
    }
  }
  std::vector<double> all_reduce_sum(const std::vector<double>& values) override {
    if (values.empty()) return values;
    std::vector<torch::Tensor> buf{torch::tensor(values, torch::kDouble).to(device())};
    pg_->allreduce(buf)->wait();
    auto cpu = buf[0].cpu();
    return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
  }
  void broadcast(const std::vector<torch::Tensor>& tensors) override {
    for (const auto& t : tensors) {
      if (!t.defined()) continue;
      std::vector<torch::Tensor> buf{t.to(dev_)};
      pg_->broadcast(buf)->wait();
      if (!buf[0].is_same(t)) t.copy_(buf[0]);
    }
  }
  void barrier() override { pg_->barrier()->wait(); }
  torch::Device device() const { return dev_; }
  torch::Device dev_ = torch::kCPU;

 private:
  c10::intrusive_ptr<PG> pg_;
};
#endif

}  // namespace

std::shared_ptr<Distributed> Distributed::single() { return std::make_shared<Distributed>(); }

std::shared_ptr<Distributed> Distributed::from_env(const torch::Device& device) {
  int world = env_int("WORLD_SIZE", 1, false);
  if (world <= 1) return single();
  int rank = env_int("RANK", 0, true);
  int local_rank = env_int("LOCAL_RANK", rank, false);
  if (rank >= world) throw InputError("distributed: RANK=" + std::to_string(rank) + " is not below WORLD_SIZE=" + std::to_string(world));
  const char* addr_env = std::getenv("MASTER_ADDR");
  std::string addr = addr_env && *addr_env ? addr_env : "127.0.0.1";
  int port = env_int("MASTER_PORT", 29500, false);
  if (port <= 0 || port > 65535) throw InputError("distributed: MASTER_PORT=" + std::to_string(port) + ": expected 1..65535");
#if BERTKIT_HAVE_GLOO || BERTKIT_HAVE_NCCL
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(port);
  opts.isServer = rank == 0;
  opts.numWorkers = static_cast<std::size_t>(world);
  opts.waitWorkers = true;
  opts.timeout = std::chrono::milliseconds(300000);
  auto store = c10::make_intrusive<c10d::TCPStore>(addr, opts);
#if BERTKIT_HAVE_NCCL
  if (device.is_cuda()) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
    auto d = std::make_shared<C10dDistributed<c10d::ProcessGroupNCCL>>(rank, world, local_rank, pg);
    d->dev_ = device;
    return d;
  }
#endif
#if BERTKIT_HAVE_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->timeout = std::chrono::milliseconds(300000);
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
  auto d = std::make_shared<C10dDistributed<c10d::ProcessGroupGloo>>(rank, world, local_rank, pg);
  d->dev_ = torch::kCPU;
  return d;
#else
  throw InputError("distributed: this build has NCCL only and the device is " + device.str() + "; use CUDA or rebuild with the gloo headers");
#endif
#else
  throw InputError("distributed: WORLD_SIZE=" + std::to_string(world) +
                   " but this bertkit was built without c10d process groups (install the gloo headers, "
                   "Debian: libgloo-dev, and rebuild)");
#endif
}

}  // namespace bertkit
