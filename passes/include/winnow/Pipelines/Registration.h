//===- Registration.h - Dialects and passes Winnow's tools know -*- C++ -*-===//

#ifndef WINNOW_PASSES_REGISTRATION_H
#define WINNOW_PASSES_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace winnow {
/// Registers the tok dialect and the upstream dialects Winnow's input and
/// pipelines use (and only those), with their interface implementations.
void registerWinnowDialects(mlir::DialectRegistry &registry);

/// Registers Winnow's passes, its named pipelines and the upstream passes
/// the pipelines are built from.
void registerWinnowPasses();
} // namespace winnow

#endif // WINNOW_PASSES_REGISTRATION_H
