#include "command.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include <torch/version.h>

#include "bertkit/core/error.h"
#include "bertkit/nn/cpu_threads.h"
#include "bertkit/tasks/registry.h"
#include "bertkit/training/distributed.h"
#include "bertkit/version.h"
#include "build_info.h"

namespace bertkit::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

// A top-level subcommand: keeps the arguments CLI11 matched to no option (the
// free arguments of add_verbatim_positionals) with what CLI11 took them for.
class CommandApp : public CLI::App {
 public:
  CommandApp(std::string description, std::string name) : CLI::App(std::move(description), std::move(name)) {}

  // The free arguments in command-line order; CLI::ExtrasError for unknown options.
  std::vector<std::string> free_arguments() const {
    std::vector<std::string> texts, unknown;
    for (const auto& [kind, arg] : missing_) {
      if (kind == CLI::detail::Classifier::NONE) texts.push_back(arg);
      else if (kind != CLI::detail::Classifier::POSITIONAL_MARK) unknown.push_back(arg);
    }
    if (!unknown.empty()) throw CLI::ExtrasError(get_name(), unknown);
    return texts;
  }
};

// OMP_NUM_THREADS as OpenMP reads it: positive integers, comma-separated (one per
// nesting level). libgomp only warns about any other value and goes on with all
// cores, so a typo would pass unseen; say so before anything runs.
void check_omp_num_threads() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v || !*v) return;
  const std::string s = v;
  bool ok = true;
  std::size_t digits = 0;
  for (std::size_t i = 0; ok && i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      ok = digits > 0 && std::strtol(s.c_str() + i - digits, nullptr, 10) > 0;
      digits = 0;
    } else {
      ok = std::isdigit(static_cast<unsigned char>(s[i])) && ++digits <= 6;
    }
  }
  if (!ok)
    throw InputError("environment: OMP_NUM_THREADS=\"" + s +
                     "\": expected a positive integer (or a comma-separated list of them, one per OpenMP nesting level)");
}

// CLI11 answers `bertkit fly` with "A subcommand is required"; name the word instead.
void check_command_name(CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2 || argv[1][0] == '-') return;
  std::string names;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == argv[1]) return;
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  throw InputError(std::string("unknown command '") + argv[1] + "' (expected one of: " + names + ")");
}

}  // namespace

CLI::Option* verbatim_values(CLI::Option* opt) { return opt->allow_extra_args(false); }

CLI::Option* add_verbatim_positionals(CLI::App& sub, const std::string& name, std::vector<std::string>& values,
                                      const std::string& description) {
  auto* command = dynamic_cast<CommandApp*>(&sub);
  if (command == nullptr) throw std::logic_error("add_verbatim_positionals: " + sub.get_name() + " is not a command");
  CLI::Option* opt = verbatim_values(sub.add_option(name, values, description));
  sub.allow_extras();
  sub.callback([command, &values] {
    for (auto& text : command->free_arguments()) values.push_back(std::move(text));
  });
  return opt;
}

void build_parser(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
  auto& cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(std::make_shared<CommandApp>(c.description, c.name));
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
  register_builtin_tasks();
  CLI::App app{"bertkit: pretrain, fine-tune, evaluate, run and export BERT models (LibTorch, no Python)"};
  app.set_version_flag("--version", version_line());
  std::vector<std::pair<CLI::App*, Action>> actions;
  try {
    check_omp_num_threads();
    set_cpu_threads(0);  // OpenBLAS and LibTorch share the cores (nn/cpu_threads.h)
    build_parser(app, actions);
    check_command_name(app, argc, argv);
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
