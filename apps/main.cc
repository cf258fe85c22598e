// bertkit: the one binary. Subcommands live one per file in apps/ and
// register themselves (command.h); only here are exceptions caught.
#include "bertkit/core/malloc_tuning.h"
#include "bertkit/nn/cpu_threads.h"
#include "command.h"

int main(int argc, char** argv) {
  bertkit::tune_malloc_for_steps();
  bertkit::set_cpu_threads(0);  // OpenBLAS as many threads as LibTorch (OMP_NUM_THREADS, else the cores)
  return bertkit::cli::run(argc, argv);
}
