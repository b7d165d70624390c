//===- winnow-run.cpp - Run a compiled Winnow artifact from the shell ----===//

#include "RunTool.h"

#include <iostream>

int main(int argc, char **argv) {
  return winnow::run::runMain(argc, argv, std::cout, std::cerr);
}
