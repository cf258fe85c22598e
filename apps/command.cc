#include "command.h"

#include <algorithm>
#include <iostream>

#include <torch/version.h>

#include "bertkit/core/error.h"
#include "bertkit/training/distributed.h"
#include "bertkit/version.h"
#include "build_info.h"

namespace bertkit::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

void build_parser(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
  auto& cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    sub->group(c.group);
    actions.emplace_back(sub, c.setup(*sub));
  }
  app.require_subcommand(1);
}

std::string version_line() {
  const std::string backends = distributed_backends();
  return std::string("bertkit ") + BERTKIT_VERSION_STRING + " (LibTorch " + TORCH_VERSION +
         "; data parallel: " + (backends.empty() ? "none, single process only" : backends) + ")";
}

int run(int argc, const char* const* argv) {
  CLI::App app{"bertkit: pretrain, fine-tune, evaluate, run and export BERT models (LibTorch, no Python)"};
  app.set_version_flag("--version", version_line());
  std::vector<std::pair<CLI::App*, Action>> actions;
  try {
    build_parser(app, actions);
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action ? action() : 0;
    return 2;
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bertkit::cli
