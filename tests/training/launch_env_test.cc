// LaunchEnv: the variables torchrun sets (all of them, as torchrun 2.x writes
// them for 2 nodes x 2 processes), a hand-written multi-node launch with
// NODE_RANK, and the contradictions a launcher can make.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "bertkit/core/error.h"
#include "bertkit/training/launch_env.h"

using namespace bertkit;

namespace {

using Vars = std::map<std::string, std::string>;

LaunchEnv parse(const Vars& vars) {
  return LaunchEnv::parse([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

// What torchrun --nnodes 2 --nproc-per-node 2 --max-restarts 3 gives the
// second process of the second node, after one restart.
Vars torchrun_node1_proc1() {
  return {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
          {"GROUP_RANK", "1"}, {"GROUP_WORLD_SIZE", "2"}, {"ROLE_RANK", "3"}, {"ROLE_WORLD_SIZE", "4"},
          {"ROLE_NAME", "default"}, {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29400"},
          {"TORCHELASTIC_RUN_ID", "bert-42"}, {"TORCHELASTIC_RESTART_COUNT", "1"},
          {"TORCHELASTIC_MAX_RESTARTS", "3"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
          {"TORCHELASTIC_ERROR_FILE", "/tmp/torchelastic/error.json"}, {"TORCH_NCCL_ASYNC_ERROR_HANDLING", "1"},
          {"OMP_NUM_THREADS", "1"}};
}

void expect_input_error(const Vars& vars, const std::string& fragment) {
  try {
    parse(vars);
    FAIL() << "expected an InputError containing \"" << fragment << "\"";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(LaunchEnv, NoVariablesIsOneProcess) {
  LaunchEnv e = parse({});
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
}

TEST(LaunchEnv, TorchrunsFullSetIsAccepted) {
  LaunchEnv e = parse(torchrun_node1_proc1());
  EXPECT_TRUE(e.distributed());
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.node_rank, 1);
  EXPECT_EQ(e.num_nodes, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29400);
  EXPECT_EQ(e.run_id, "bert-42");
  EXPECT_EQ(e.restart_count, 1);
  EXPECT_EQ(e.max_restarts, 3);
  EXPECT_TRUE(e.use_agent_store);
}

TEST(LaunchEnv, NodeRankDerivesTheRank) {
  // Two "nodes" of one process each: both have LOCAL_RANK 0, neither has RANK.
  Vars v = {{"WORLD_SIZE", "2"}, {"NODE_RANK", "1"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "1"},
            {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29611"}};
  LaunchEnv e = parse(v);
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.local_rank, 0);
  EXPECT_EQ(e.node_rank, 1);
  EXPECT_EQ(e.num_nodes, 2);
  // 2 nodes x 4 processes: node 1's third process is rank 6.
  LaunchEnv f = parse({{"WORLD_SIZE", "8"}, {"NODE_RANK", "1"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "4"},
                       {"MASTER_ADDR", "10.0.0.7"}});
  EXPECT_EQ(f.rank, 6);
}

TEST(LaunchEnv, OneNodeDefaultsLikeTorchrun) {
  LaunchEnv e = parse({{"WORLD_SIZE", "2"}, {"RANK", "1"}});
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.master_addr, "127.0.0.1");
  EXPECT_EQ(e.master_port, 29500);
  EXPECT_FALSE(e.use_agent_store);
}

TEST(LaunchEnv, ContradictionsNameTheVariables) {
  Vars v = torchrun_node1_proc1();
  v["RANK"] = "2";  // node 1, local rank 1 of 2 is rank 3
  expect_input_error(v, "RANK=2 is not node rank x LOCAL_WORLD_SIZE + LOCAL_RANK");
  v = torchrun_node1_proc1();
  v["NODE_RANK"] = "0";
  expect_input_error(v, "GROUP_RANK=1 but NODE_RANK=0");
  v = torchrun_node1_proc1();
  v["ROLE_RANK"] = "0";
  expect_input_error(v, "ROLE_RANK=0 but RANK=3");
  v = torchrun_node1_proc1();
  v["TORCHELASTIC_RESTART_COUNT"] = "4";
  expect_input_error(v, "TORCHELASTIC_RESTART_COUNT=4 exceeds TORCHELASTIC_MAX_RESTARTS=3");
  v = torchrun_node1_proc1();
  v["LOCAL_RANK"] = "2";
  expect_input_error(v, "LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2");
  v = torchrun_node1_proc1();
  v["TORCHELASTIC_USE_AGENT_STORE"] = "maybe";
  expect_input_error(v, "TORCHELASTIC_USE_AGENT_STORE=\"maybe\": expected True or False");
  expect_input_error({{"WORLD_SIZE", "2"}, {"RANK", "2"}}, "RANK=2 is not below WORLD_SIZE=2");
  expect_input_error({{"RANK", "1"}}, "RANK=1 but WORLD_SIZE is not set");
  expect_input_error({{"WORLD_SIZE", "2"}}, "RANK is not set");
  expect_input_error({{"WORLD_SIZE", "two"}}, "WORLD_SIZE=\"two\": expected an integer >= 1");
  expect_input_error({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT=70000: expected 1..65535");
  // Several nodes cannot guess rank 0's address.
  expect_input_error({{"WORLD_SIZE", "4"}, {"RANK", "2"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "2"}, {"NODE_RANK", "1"}},
                     "MASTER_ADDR is not set");
}
