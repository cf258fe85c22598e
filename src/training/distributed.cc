#include "bertkit/training/distributed.h"

#include <chrono>
#include <cstdlib>
#include <type_traits>

#include "bertkit/core/error.h"
#include "c10d.h"

namespace bertkit {

bool distributed_available() { return BERTKIT_HAVE_C10D; }

std::string distributed_backends() {
  std::string s;
  if (BERTKIT_HAVE_GLOO) s += "gloo";
  if (BERTKIT_HAVE_NCCL) s += s.empty() ? "nccl" : ", nccl";
  return s;
}

std::map<std::string, double> Distributed::broadcast_metrics(const std::map<std::string, double>& metrics) {
  if (world_size() <= 1) return metrics;
  std::vector<double> values;
  for (const auto& kv : metrics) values.push_back(kv.second);
  // Same task, same metric names on every rank; the count guards the layout.
  auto count = all_reduce_sum({static_cast<double>(values.size())});
  if (count[0] != static_cast<double>(values.size()) * world_size())
    throw RuntimeError("distributed: ranks computed different evaluation metrics (" + std::to_string(values.size()) +
                       " on rank " + std::to_string(rank()) + ")");
  values = broadcast_values(values);
  std::map<std::string, double> out;
  std::size_t i = 0;
  for (const auto& kv : metrics) out[kv.first] = values[i++];
  return out;
}

std::shared_ptr<Distributed> Distributed::single() { return std::make_shared<Distributed>(); }

std::shared_ptr<Distributed> Distributed::from_env(const torch::Device& device, const DistributedOptions& options) {
  LaunchEnv env = LaunchEnv::from_environment();
  if (!env.distributed()) return single();
  return connect(env, device, options);
}

namespace {

// LibTorch's c10::Error::what() appends a backtrace; users need the message.
std::string message_of(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

// The backend for `device` under train.distributed.backend.
std::string choose_backend(const std::string& wanted, const torch::Device& device) {
  if (wanted == "nccl") {
    if (!BERTKIT_HAVE_NCCL)
      throw InputError("train.distributed.backend: nccl, but this bertkit's LibTorch has no NCCL (built in: " +
                       (distributed_backends().empty() ? std::string("none") : distributed_backends()) +
                       "); build against a CUDA LibTorch or use gloo");
    if (!device.is_cuda()) throw InputError("train.distributed.backend: nccl needs a CUDA device, train.device is " + device.str());
    return "nccl";
  }
  if (wanted == "gloo" || !device.is_cuda() || !BERTKIT_HAVE_NCCL) {
    if (!BERTKIT_HAVE_GLOO)
      throw InputError(std::string("distributed: WORLD_SIZE > 1 but this bertkit was built without ") +
                       (device.is_cuda() ? "Gloo or NCCL" : "Gloo (needed on the CPU)") +
                       " (install the gloo headers, Debian: libgloo-dev, and rebuild)");
    return "gloo";
  }
  return "nccl";
}

#if BERTKIT_HAVE_C10D
using Pg = c10::intrusive_ptr<c10d::ProcessGroup>;

// Rendezvous: rank 0 hosts the TCPStore (unless torchrun's agent already does,
// then everyone is a client and keys live under the agent's attempt prefix).
c10::intrusive_ptr<c10d::Store> rendezvous(const LaunchEnv& env, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(env.master_port);
  opts.isServer = env.rank == 0 && !env.use_agent_store;
  opts.numWorkers = env.use_agent_store ? c10::nullopt : c10::optional<std::size_t>(env.world_size);
  opts.waitWorkers = !env.use_agent_store;
  opts.timeout = timeout;
  try {
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
    if (env.use_agent_store)
      store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(env.restart_count), store);
    return store;
  } catch (const std::exception& e) {
    throw RuntimeError("distributed: rank " + std::to_string(env.rank) + " could not meet the other " +
                       std::to_string(env.world_size - 1) + " process(es) at MASTER_ADDR:MASTER_PORT = " +
                       env.master_addr + ":" + std::to_string(env.master_port) + " within " +
                       std::to_string(timeout.count() / 1000) + " s (is rank 0 running, the port free, the address "
                       "reachable?): " + message_of(e));
  }
}

#if BERTKIT_HAVE_GLOO
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  // One machine: the loopback address the launcher gave. Several: the
  // interface GLOO_SOCKET_IFNAME names, else the host name's address (as torch).
  if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname(master_addr);
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

#if BERTKIT_TORCH_AT_LEAST(2, 0)
// LibTorch 2.x: Gloo and NCCL are c10d::Backends inside a ProcessGroup (the
// Reducer takes the group). Its constructor lost its Options in later 2.x.
template <class T, class = void>
struct HasOptions : std::false_type {};
template <class T>
struct HasOptions<T, std::void_t<typename T::Options>> : std::true_type {};

template <class PG = c10d::ProcessGroup>
Pg group_of_backend(const c10::intrusive_ptr<c10d::Store>& store, const LaunchEnv& env, const std::string& name,
                    typename PG::BackendType type, const std::vector<c10::DeviceType>& devices,
                    const c10::intrusive_ptr<c10d::Backend>& backend, std::chrono::milliseconds timeout) {
  c10::intrusive_ptr<PG> pg;
  if constexpr (HasOptions<PG>::value) {
    pg = c10::make_intrusive<PG>(store, env.rank, env.world_size, c10::make_intrusive<typename PG::Options>(name, timeout));
  } else {
    pg = c10::make_intrusive<PG>(store, env.rank, env.world_size);
    pg->setDefaultBackend(type);
  }
  for (auto d : devices) pg->setBackend(d, type, backend);
  return pg;
}
#endif

Pg make_process_group(const std::string& backend, const LaunchEnv& env, const torch::Device& device,
                      std::chrono::milliseconds timeout) {
  auto store = rendezvous(env, timeout);
#if BERTKIT_HAVE_NCCL
  if (backend == "nccl") {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
#if BERTKIT_TORCH_AT_LEAST(2, 0)
    return group_of_backend(store, env, "nccl", c10d::ProcessGroup::BackendType::NCCL, {c10::DeviceType::CUDA}, nccl, timeout);
#else
    return nccl;
#endif
  }
#endif
#if BERTKIT_HAVE_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->timeout = timeout;
  options->devices.push_back(gloo_device(env.master_addr));
  auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
#if BERTKIT_TORCH_AT_LEAST(2, 0)
  std::vector<c10::DeviceType> devices = {c10::DeviceType::CPU};
  if (device.is_cuda()) devices.push_back(c10::DeviceType::CUDA);
  return group_of_backend(store, env, "gloo", c10d::ProcessGroup::BackendType::GLOO, devices, gloo, timeout);
#else
  return gloo;
#endif
#else
  throw InputError("distributed: backend " + backend + " is not built in");
#endif
}

class C10dDistributed : public Distributed {
 public:
  C10dDistributed(const LaunchEnv& env, Pg pg, std::string backend, torch::Device device, double timeout_seconds)
      : pg_(std::move(pg)), device_(device) {
    env_ = env;
    backend_ = std::move(backend);
    timeout_seconds_ = timeout_seconds;
  }
  std::vector<double> all_reduce_sum(const std::vector<double>& values) override {
    if (values.empty()) return values;
    std::vector<torch::Tensor> buf{torch::tensor(values, torch::kDouble).to(device_)};
    wait("all_reduce", pg_->allreduce(buf));
    return to_vector(buf[0]);
  }
  std::vector<double> broadcast_values(const std::vector<double>& values) override {
    if (values.empty()) return values;
    std::vector<torch::Tensor> buf{torch::tensor(values, torch::kDouble).to(device_)};
    wait("broadcast", pg_->broadcast(buf));
    return to_vector(buf[0]);
  }
  void broadcast(const std::vector<torch::Tensor>& tensors) override {
    for (const auto& t : tensors) {
      if (!t.defined()) continue;
      std::vector<torch::Tensor> buf{t.to(device_)};
      wait("broadcast", pg_->broadcast(buf));
      if (!buf[0].is_same(t)) t.copy_(buf[0]);
    }
  }
  void barrier() override { wait("barrier", pg_->barrier()); }
  const Pg& process_group() const { return pg_; }

 private:
  static std::vector<double> to_vector(const torch::Tensor& t) {
    auto cpu = t.cpu().contiguous();
    return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
  }
  template <class Work>
  void wait(const char* what, const Work& work) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw RuntimeError(describe_collective_failure(*this, std::string(what) + ": " + message_of(e)));
    }
  }
  Pg pg_;
  torch::Device device_;
};
#endif

}  // namespace

std::string describe_collective_failure(const Distributed& dist, const std::string& cause) {
  return "distributed: rank " + std::to_string(dist.rank()) + " of " + std::to_string(dist.world_size()) +
         " stopped: a collective operation failed (" + cause +
         "). Another process probably exited or was killed (see its log) or did not answer within "
         "train.distributed.timeout_seconds = " + std::to_string(static_cast<long>(dist.timeout_seconds())) +
         " s. Restart every process with --resume to continue from the last checkpoint.";
}

std::string describe_collective_failure(const Distributed& dist, const std::exception& cause) {
  return describe_collective_failure(dist, message_of(cause));
}

std::shared_ptr<Distributed> Distributed::connect(const LaunchEnv& env, const torch::Device& device,
                                                  const DistributedOptions& options) {
  if (!env.distributed()) return single();
  const std::string backend = choose_backend(options.backend, device);
#if BERTKIT_HAVE_C10D
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
  auto pg = make_process_group(backend, env, device, timeout);
  const torch::Device collective_device = backend == "nccl" ? device : torch::Device(torch::kCPU);
  return std::make_shared<C10dDistributed>(env, pg, backend, collective_device, options.timeout_seconds);
#else
  throw InputError("distributed: unreachable without c10d");
#endif
}

#if BERTKIT_HAVE_C10D
c10::intrusive_ptr<c10d::ProcessGroup> process_group_of(const Distributed& dist) {
  auto* c = dynamic_cast<const C10dDistributed*>(&dist);
  return c ? c->process_group() : c10::intrusive_ptr<c10d::ProcessGroup>();
}
#endif

}  // namespace bertkit
