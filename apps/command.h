// Subcommand registration. Each apps/<name>.cc declares its own options and
// registers itself:
//
//   static bertkit::cli::Registrar reg({"info", "Summarise a checkpoint", setup_info});
//
// where setup_info(CLI::App& sub) adds the options (bound to a struct the
// function owns, e.g. through a shared_ptr) and returns the action to run once
// parsing succeeded. The action returns the process exit code.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace bertkit::cli {

using Action = std::function<int()>;

struct Command {
  std::string name;
  std::string description;
  std::function<Action(CLI::App&)> setup;
  std::string group = "Commands";
};

std::vector<Command>& registry();

struct Registrar {
  explicit Registrar(Command c) { registry().push_back(std::move(c)); }
};

// Texts and file names are data: "[MASK]", "[Tim Cook]" or "notes]" reach the
// command as typed. CLI11 2.1 reads an argument that starts with '[' and ends
// with ']' as a list literal ("[a,b]" -> a, b) only for an option that takes
// several values per occurrence (allow_extra_args), which is also what lets a
// list positional take more than one argument. So:
//  - a list option takes one value per occurrence (`--set a=1 --set b=2`;
//    a delimiter, where set, still splits "a,b"): verbatim_values(opt);
//  - a list positional takes its first value through CLI11 (one value: never a
//    list literal) and the others as the command's free arguments, in order,
//    after parsing (an unknown option among them is still an error):
//    add_verbatim_positionals(sub, ...), on a subcommand build_parser made.
CLI::Option* verbatim_values(CLI::Option* opt);
CLI::Option* add_verbatim_positionals(CLI::App& sub, const std::string& name, std::vector<std::string>& values,
                                      const std::string& description);

// Build the full parser: `app` gets one subcommand per registered Command.
// Returns, via `selected`, the action of the subcommand that was parsed.
// Used by main() and by the parser tests.
void build_parser(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions);

// Parse argv and run the chosen subcommand, mapping exceptions to exit codes:
// usage/InputError -> 2, other errors -> 1. Used by main() and tests.
int run(int argc, const char* const* argv);

}  // namespace bertkit::cli
