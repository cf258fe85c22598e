// bertkit: the one binary. Subcommands live one per file in apps/ and
// register themselves (command.h); only here are exceptions caught.
#include "bertkit/core/malloc_tuning.h"
#include "command.h"

int main(int argc, char** argv) {
  bertkit::tune_malloc_for_steps();
  return bertkit::cli::run(argc, argv);
}
