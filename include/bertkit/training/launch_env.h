// Where this process stands in a multi-process run, read from the variables
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
// GROUP_WORLD_SIZE, ROLE_RANK, ROLE_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_*) or that a hand-written launcher sets (NODE_RANK with
// LOCAL_RANK and LOCAL_WORLD_SIZE instead of RANK). Every variable that is set
// is checked against the others, so a launcher mistake is an error naming the
// variables, not a run that hangs at the rendezvous.
#pragma once

#include <functional>
#include <string>

namespace bertkit {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  int node_rank = 0;            // GROUP_RANK (torchrun) or NODE_RANK
  int num_nodes = 1;            // GROUP_WORLD_SIZE, or WORLD_SIZE / LOCAL_WORLD_SIZE
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // torchrun's elastic agent: its run id, how often it restarted the workers
  // (after a failure: > 0 means resume from the last checkpoint) and the limit.
  std::string run_id;
  int restart_count = 0;
  int max_restarts = 0;
  // torchrun >= 2.x hosts the TCPStore itself at MASTER_ADDR:MASTER_PORT
  // (TORCHELASTIC_USE_AGENT_STORE): then rank 0 connects as a client.
  bool use_agent_store = false;

  bool distributed() const { return world_size > 1; }

  // From the process environment. InputError naming the variable(s) when one
  // is malformed or they contradict each other.
  static LaunchEnv from_environment();
  // The same from any lookup (nullptr = unset); what tests call.
  static LaunchEnv parse(const std::function<const char*(const char*)>& getenv);
};

}  // namespace bertkit
