// natgate: the command line for a running natgated (status, up, down, reload).
#include <iostream>

#include "tools/cli/cli_app.h"

int main(int argc, char** argv) {
  return natgate::cli::run_cli(std::vector<std::string>(argv, argv + argc), std::cout, std::cerr);
}
