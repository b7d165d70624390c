//===- TokInterfaces.cpp - What passes ask of tok ops ---------------------===//

#include "winnow/Dialect/Tok/IR/TokInterfaces.h"

#include "winnow/Dialect/Tok/IR/TokInterfaces.cpp.inc"
