//===- Manifest.h - Entry-point signatures of a compiled module -*- C++ -*-===//
//
// What the artifact's manifest says about each entry point, read from the
// tok-level IR before lowering (when tensors still carry their meaning).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_TARGET_MANIFEST_H
#define WINNOW_TARGET_MANIFEST_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace winnow {

/// Element types that may cross an entry-point boundary (mirrors the
/// artifact schema's DType).
enum class ElementType { f32, f16, bf16, f64, i1, i8, i16, i32, i64 };

struct TensorSignature {
  std::string name;
  ElementType elementType;
  /// -1 for a dynamic extent.
  llvm::SmallVector<int64_t> shape;
  /// Empty when every extent is static; else per extent the index in
  /// FunctionSignature::symbols of a dynamic extent, -1 for a static one.
  llvm::SmallVector<int32_t> dimSymbols;
  /// For a ragged result: the index of the result holding its `[B] i32`
  /// count; -1 otherwise.
  int32_t countResult = -1;
  /// The padded axis of a ragged result (its batch axis is the one before).
  int32_t raggedAxis = 1;
};

/// A dynamic extent of an entry point (`tok.bounds` on the function).
struct ExtentSymbol {
  std::string name;
  int64_t bound;
};

struct FunctionSignature {
  std::string name;
  llvm::SmallVector<ExtentSymbol> symbols;
  llvm::SmallVector<TensorSignature> inputs;
  llvm::SmallVector<TensorSignature> results;
};

/// The artifact schema's name of an element type ("f32", "bf16", "i1", ...).
const char *elementTypeName(ElementType type);

/// The ABI descriptor the code of `function` defines as
/// `__winnow_abi_<name>` and the runtime compares with the manifest
/// (winnow/support/EntryAbi.h).
std::string entryAbiDescriptor(const FunctionSignature &function);

/// Reads the signature of every public function of `module`. Fails, with a
/// diagnostic at the offending function, on anything the runtime cannot
/// pass: non-tensor arguments, dynamic extents without a bound (or other
/// than the leading one), unsupported element
/// types, names the artifact cannot hold (empty, over 1024 bytes, control
/// characters), or a module without any entry point.
mlir::FailureOr<llvm::SmallVector<FunctionSignature, 1>>
collectEntryPoints(mlir::ModuleOp module);

/// Removes the `tok.name` argument and result attributes once the manifest
/// has recorded them; later phases have no use for them.
void stripEntryPointNames(mlir::ModuleOp module);

} // namespace winnow

#endif // WINNOW_TARGET_MANIFEST_H
