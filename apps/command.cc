#include "command.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <torch/version.h>

#include "bertkit/core/error.h"
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

// CLI11 2.1 reads a value of a list option or positional that starts with '['
// and ends with ']' as a list literal ("[a,b]" -> a, b), so `predict "[MASK]"`
// got "MASK"; it has no setting that turns this off for a positional list
// (allow_extra_args(false) also stops a positional from taking more than one
// value). Texts are data: before parsing, every argument that ends in ']' gets
// a guard byte that UTF-8 text never holds, so CLI11 no longer sees a list, and
// every option removes the guard again before it stores the value.
constexpr char kListGuard = '\xFF';

bool ends_with_bracket(const std::string& s) { return !s.empty() && s.back() == ']'; }

std::string remove_guards(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), kListGuard), s.end());
  return s;
}

void unguard_option_values(CLI::App& app) {
  for (CLI::Option* opt : app.get_options())
    opt->transform([](std::string v) {
      if (v.size() >= 2 && v.back() == kListGuard && v[v.size() - 2] == ']') v.pop_back();
      return v;
    });
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) unguard_option_values(*sub);
}

std::vector<std::string> guard_bracketed_arguments(int argc, const char* const* argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (std::size_t i = 1; i < args.size(); ++i)
    if (ends_with_bracket(args[i])) args[i] += kListGuard;
  return args;
}

// app.exit(e) with the guards taken out of the message it prints.
int report_parse_result(CLI::App& app, const CLI::Error& e) {
  std::ostringstream out, err;
  int rc = app.exit(e, out, err);
  std::cout << remove_guards(out.str());
  std::cerr << remove_guards(err.str());
  return rc;
}

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

void build_parser(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
  auto& cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    sub->group(c.group);
    actions.emplace_back(sub, c.setup(*sub));
  }
  app.require_subcommand(1);
  unguard_option_values(app);
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
    build_parser(app, actions);
    check_command_name(app, argc, argv);
    std::vector<std::string> args = guard_bracketed_arguments(argc, argv);
    std::vector<const char*> guarded;
    for (const auto& a : args) guarded.push_back(a.c_str());
    app.parse(static_cast<int>(guarded.size()), guarded.data());
  } catch (const CLI::Success& e) {
    return report_parse_result(app, e);
  } catch (const CLI::ParseError& e) {
    int rc = report_parse_result(app, e);
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
