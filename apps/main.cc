// bertkit: the one binary. Subcommands live one per file in apps/ and
// register themselves (command.h); only here are exceptions caught.
#include "command.h"

int main(int argc, char** argv) { return bertkit::cli::run(argc, argv); }
