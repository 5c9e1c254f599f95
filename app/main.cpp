// Thin entry point: everything lives in lib/cli (testable); this only forwards argv.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return llmd::cli::run(argc, argv); }
