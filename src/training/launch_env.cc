#include "bertkit/training/launch_env.h"

#include <cstdlib>
#include <optional>

#include "bertkit/core/error.h"

namespace bertkit {

namespace {

using Lookup = std::function<const char*(const char*)>;

std::optional<int> env_int(const Lookup& getenv, const char* name, int min_value) {
  const char* v = getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < min_value || x > 1000000000L)
    throw InputError(std::string("distributed: ") + name + "=\"" + v + "\": expected an integer >= " +
                     std::to_string(min_value));
  return static_cast<int>(x);
}

std::string var(const char* name, int value) { return std::string(name) + "=" + std::to_string(value); }

[[noreturn]] void inconsistent(const std::string& what) {
  throw InputError("distributed: inconsistent launch variables: " + what +
                   " (torchrun sets them consistently; a hand-written launcher must too)");
}

bool env_bool(const Lookup& getenv, const char* name) {
  const char* v = getenv(name);
  if (!v || !*v) return false;
  const std::string s = v;
  if (s == "True" || s == "true" || s == "1") return true;
  if (s == "False" || s == "false" || s == "0") return false;
  throw InputError(std::string("distributed: ") + name + "=\"" + s + "\": expected True or False");
}

// Node rank: torchrun's GROUP_RANK, or NODE_RANK of other launchers; both must agree.
std::optional<int> node_rank_of(const Lookup& getenv) {
  auto group = env_int(getenv, "GROUP_RANK", 0);
  auto node = env_int(getenv, "NODE_RANK", 0);
  if (group && node && *group != *node) inconsistent(var("GROUP_RANK", *group) + " but " + var("NODE_RANK", *node));
  return group ? group : node;
}

void check_elastic(const Lookup& getenv, LaunchEnv& e) {
  if (const char* id = getenv("TORCHELASTIC_RUN_ID")) e.run_id = id;
  e.restart_count = env_int(getenv, "TORCHELASTIC_RESTART_COUNT", 0).value_or(0);
  auto max_restarts = env_int(getenv, "TORCHELASTIC_MAX_RESTARTS", 0);
  e.max_restarts = max_restarts.value_or(0);
  if (max_restarts && e.restart_count > *max_restarts)
    inconsistent(var("TORCHELASTIC_RESTART_COUNT", e.restart_count) + " exceeds " +
                 var("TORCHELASTIC_MAX_RESTARTS", *max_restarts));
  e.use_agent_store = env_bool(getenv, "TORCHELASTIC_USE_AGENT_STORE");
}

}  // namespace

LaunchEnv LaunchEnv::parse(const Lookup& getenv) {
  LaunchEnv e;
  auto world = env_int(getenv, "WORLD_SIZE", 1);
  auto rank = env_int(getenv, "RANK", 0);
  auto local_rank = env_int(getenv, "LOCAL_RANK", 0);
  auto local_world = env_int(getenv, "LOCAL_WORLD_SIZE", 1);
  auto groups = env_int(getenv, "GROUP_WORLD_SIZE", 1);
  auto node_rank = node_rank_of(getenv);
  if (!world) {
    if (rank && *rank > 0) inconsistent(var("RANK", *rank) + " but WORLD_SIZE is not set");
    check_elastic(getenv, e);
    return e;  // a single process
  }
  e.world_size = *world;
  e.local_world_size = local_world.value_or(groups && *world % *groups == 0 ? *world / *groups : *world);
  e.num_nodes = groups.value_or(e.world_size % e.local_world_size == 0 ? e.world_size / e.local_world_size : 0);
  e.node_rank = node_rank.value_or(0);
  if (rank) {
    e.rank = *rank;
  } else if (e.world_size > 1) {
    if (!local_rank || !node_rank)
      throw InputError("distributed: WORLD_SIZE=" + std::to_string(e.world_size) +
                       " but RANK is not set (set RANK, or NODE_RANK with LOCAL_RANK and LOCAL_WORLD_SIZE; "
                       "torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)");
    e.rank = e.node_rank * e.local_world_size + *local_rank;
  }
  e.local_rank = local_rank.value_or(e.rank % e.local_world_size);

  if (e.rank >= e.world_size) inconsistent(var("RANK", e.rank) + " is not below " + var("WORLD_SIZE", e.world_size));
  if (e.local_world_size > e.world_size)
    inconsistent(var("LOCAL_WORLD_SIZE", e.local_world_size) + " exceeds " + var("WORLD_SIZE", e.world_size));
  if (e.local_rank >= e.local_world_size)
    inconsistent(var("LOCAL_RANK", e.local_rank) + " is not below " + var("LOCAL_WORLD_SIZE", e.local_world_size));
  if (e.num_nodes > 0 && e.node_rank >= e.num_nodes)
    inconsistent("node rank " + std::to_string(e.node_rank) + " (GROUP_RANK/NODE_RANK) is not below the " +
                 std::to_string(e.num_nodes) + " nodes (GROUP_WORLD_SIZE, or WORLD_SIZE / LOCAL_WORLD_SIZE)");
  // Nodes with the same number of processes: ranks are node-major, as torchrun assigns them.
  if (e.num_nodes > 0 && e.num_nodes * e.local_world_size == e.world_size &&
      e.rank != e.node_rank * e.local_world_size + e.local_rank)
    inconsistent(var("RANK", e.rank) + " is not node rank x LOCAL_WORLD_SIZE + LOCAL_RANK = " +
                 std::to_string(e.node_rank) + " x " + std::to_string(e.local_world_size) + " + " +
                 std::to_string(e.local_rank));
  auto role_rank = env_int(getenv, "ROLE_RANK", 0);
  auto role_world = env_int(getenv, "ROLE_WORLD_SIZE", 1);
  if (role_world && *role_world == e.world_size && role_rank && *role_rank != e.rank)
    inconsistent(var("ROLE_RANK", *role_rank) + " but " + var("RANK", e.rank) + " in the one role of " +
                 var("ROLE_WORLD_SIZE", *role_world));
  if (role_rank && role_world && *role_rank >= *role_world)
    inconsistent(var("ROLE_RANK", *role_rank) + " is not below " + var("ROLE_WORLD_SIZE", *role_world));

  const char* addr = getenv("MASTER_ADDR");
  if (addr && *addr) e.master_addr = addr;
  else if (e.num_nodes != 1 && e.world_size > 1)
    throw InputError("distributed: MASTER_ADDR is not set: with several nodes every process needs the address of "
                     "rank 0's node");
  e.master_port = env_int(getenv, "MASTER_PORT", 1).value_or(29500);
  if (e.master_port > 65535) throw InputError("distributed: " + var("MASTER_PORT", e.master_port) + ": expected 1..65535");
  check_elastic(getenv, e);
  return e;
}

LaunchEnv LaunchEnv::from_environment() {
  return parse([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace bertkit
