//===- CompilerMain.h - The winnow-compile driver as a library --*- C++ -*-===//

#ifndef WINNOW_TOOLS_COMPILERMAIN_H
#define WINNOW_TOOLS_COMPILERMAIN_H

namespace winnow {
/// Parses the command line and runs the compiler; returns the exit code.
int compilerMain(int argc, char **argv);
} // namespace winnow

#endif // WINNOW_TOOLS_COMPILERMAIN_H
