// train.distributed in the run config: defaults, strict keys, ranges, and the
// backend a build can or cannot give.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/training/distributed.h"
#include "bertkit/training/run_config.h"

using namespace bertkit;
using json::Json;

namespace {

Json base() {
  return Json::parse(R"({"model": {"config": {"hidden_size": 32}}, "tokenizer": {"path": "vocab.txt"},
                         "task": {"type": "mlm"}, "output": {"dir": "out"}})");
}

std::string error_of(const Json& j) {
  try {
    RunConfig::from_json(j);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DistributedConfig, DefaultsAreDdps) {
  RunConfig c = RunConfig::from_json(base());
  EXPECT_EQ(c.train.distributed.backend, "auto");
  EXPECT_EQ(c.train.distributed.timeout_seconds, 300);
  EXPECT_FALSE(c.train.distributed.find_unused_parameters);
  EXPECT_EQ(c.train.distributed.bucket_cap_mb, 25);
  Json round = c.to_json();
  EXPECT_EQ(round["train"]["distributed"]["backend"], "auto");
}

TEST(DistributedConfig, KeysAreCheckedStrictly) {
  Json j = base();
  j["train"]["distributed"] = {{"backend", "mpi"}};
  EXPECT_NE(error_of(j).find("train.distributed.backend"), std::string::npos) << error_of(j);
  j["train"]["distributed"] = {{"timeout_seconds", 0}};
  EXPECT_NE(error_of(j).find("train.distributed.timeout_seconds: expected a number of seconds > 0"), std::string::npos);
  j["train"]["distributed"] = {{"timeout", 10}};
  EXPECT_NE(error_of(j).find("train.distributed: unknown key \"timeout\""), std::string::npos) << error_of(j);
  j["train"]["distributed"] = {{"backend", "gloo"}, {"timeout_seconds", 12.5}, {"bucket_cap_mb", 4}};
  RunConfig c = RunConfig::from_json(j);
  EXPECT_EQ(c.train.distributed.backend, "gloo");
  EXPECT_EQ(c.train.distributed.timeout_seconds, 12.5);
  EXPECT_EQ(c.train.distributed.bucket_cap_mb, 4);
}

TEST(DistributedConfig, NcclOnTheCpuIsAnInputError) {
  LaunchEnv env;
  env.world_size = 2;
  DistributedOptions o;
  o.backend = "nccl";
  // Without NCCL in the build the error says so; with it, NCCL needs a CUDA device.
  try {
    Distributed::connect(env, torch::kCPU, o);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_TRUE(m.find("has no NCCL") != std::string::npos || m.find("needs a CUDA device") != std::string::npos) << m;
  }
}
