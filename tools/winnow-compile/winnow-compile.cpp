//===- winnow-compile.cpp - The Winnow compiler driver --------------------===//

#include "winnow/Tools/CompilerMain.h"

int main(int argc, char **argv) { return winnow::compilerMain(argc, argv); }
