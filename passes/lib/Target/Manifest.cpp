//===- Manifest.cpp - Entry-point signatures of a compiled module ---------===//

#include "winnow/Target/Manifest.h"

#include "winnow/Dialect/Tok/IR/TokOps.h"
#include "winnow/Dialect/Tok/Transforms/DynamicBatch.h"
#include "winnow/support/EntryAbi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace winnow {
namespace {

/// The argument/result attribute that names a tensor in the manifest.
constexpr llvm::StringLiteral kNameAttr = "tok.name";

std::optional<ElementType> toElementType(Type type) {
  if (type.isF32())
    return ElementType::f32;
  if (type.isF16())
    return ElementType::f16;
  if (type.isBF16())
    return ElementType::bf16;
  if (type.isF64())
    return ElementType::f64;
  if (type.isSignlessInteger(1))
    return ElementType::i1;
  if (type.isSignlessInteger(8))
    return ElementType::i8;
  if (type.isSignlessInteger(16))
    return ElementType::i16;
  if (type.isSignlessInteger(32))
    return ElementType::i32;
  if (type.isSignlessInteger(64))
    return ElementType::i64;
  return std::nullopt;
}

/// The runtime's rule for names in a manifest (ArtifactReader.cpp).
constexpr size_t kMaxNameBytes = 1024;

LogicalResult checkName(func::FuncOp func, StringRef name, StringRef what) {
  if (name.empty() || name.size() > kMaxNameBytes)
    return func.emitError() << what << " must be 1 to " << kMaxNameBytes
                            << " bytes long, got " << name.size();
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return func.emitError() << what << " '" << llvm::toHex(name)
                              << "' (hex) contains a control character";
  return success();
}

/// `batch` is the function's dynamic batch (symbol 0), if it has one;
/// getDynamicBatch checked that only leading extents are dynamic then.
FailureOr<TensorSignature>
toSignature(func::FuncOp func, Type type, StringAttr name, StringRef role,
            unsigned index, const std::optional<tok::DynamicBatch> &batch) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return func.emitError() << "entry point " << role << " " << index
                            << " must be a ranked tensor, got " << type;
  if (!tensor.hasStaticShape() && !batch)
    return func.emitError()
           << "entry point " << role << " " << index
           << " has a dynamic extent without a bound (declare it with "
              "tok.bounds), got "
           << type;
  std::optional<ElementType> elementType =
      toElementType(tensor.getElementType());
  if (!elementType)
    return func.emitError() << "entry point " << role << " " << index
                            << " has unsupported element type "
                            << tensor.getElementType();
  TensorSignature signature;
  signature.name =
      name ? name.str() : (role == "argument" ? "arg" : "result") +
                              std::to_string(index);
  if (failed(checkName(func, signature.name,
                       ("the name of entry point " + role + " " +
                        std::to_string(index))
                           .str())))
    return failure();
  signature.elementType = *elementType;
  for (int64_t extent : tensor.getShape())
    signature.shape.push_back(ShapedType::isDynamic(extent) ? -1 : extent);
  if (!tensor.hasStaticShape())
    for (int64_t extent : tensor.getShape())
      signature.dimSymbols.push_back(ShapedType::isDynamic(extent) ? 0 : -1);
  return signature;
}

/// The `[B] i32` count that says how many entries of `value` are valid, and
/// the axis it bounds, when `value` is a ragged result of a tok op
/// (tok::RaggedResultOpInterface).
std::pair<Value, int64_t> raggedCountOf(Value value) {
  auto ragged =
      dyn_cast_or_null<tok::RaggedResultOpInterface>(value.getDefiningOp());
  if (!ragged)
    return {Value(), 1};
  Value count = ragged.getCountFor(value);
  return {count, count ? ragged.getRaggedAxis(value) : 1};
}

} // namespace

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return "f32";
  case ElementType::f16:
    return "f16";
  case ElementType::bf16:
    return "bf16";
  case ElementType::f64:
    return "f64";
  case ElementType::i1:
    return "i1";
  case ElementType::i8:
    return "i8";
  case ElementType::i16:
    return "i16";
  case ElementType::i32:
    return "i32";
  case ElementType::i64:
    return "i64";
  }
  llvm_unreachable("unknown element type");
}

std::string entryAbiDescriptor(const FunctionSignature &function) {
  support::EntryAbiWriter abi;
  for (const ExtentSymbol &symbol : function.symbols)
    abi.addSymbol(symbol.name, symbol.bound);
  auto dimSymbols = [](const TensorSignature &tensor) {
    return tensor.dimSymbols.empty() ? nullptr : tensor.dimSymbols.data();
  };
  for (const TensorSignature &input : function.inputs)
    abi.addInput(elementTypeName(input.elementType), input.shape.data(),
                 input.shape.size(), dimSymbols(input));
  for (const TensorSignature &result : function.results)
    abi.addResult(elementTypeName(result.elementType), result.shape.data(),
                  result.shape.size(), result.countResult, result.raggedAxis,
                  dimSymbols(result));
  return abi.str();
}

FailureOr<SmallVector<FunctionSignature, 1>> collectEntryPoints(ModuleOp module) {
  SmallVector<FunctionSignature, 1> functions;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    FunctionSignature signature;
    signature.name = func.getSymName().str();
    if (failed(checkName(func, signature.name, "an entry point name")))
      return failure();
    FailureOr<std::optional<tok::DynamicBatch>> batch =
        tok::getDynamicBatch(func);
    if (failed(batch))
      return failure();
    if (*batch) {
      if (failed(checkName(func, (*batch)->name, "a dynamic extent's name")))
        return failure();
      signature.symbols.push_back({(*batch)->name, (*batch)->bound});
    }
    FunctionType type = func.getFunctionType();
    for (auto [i, input] : llvm::enumerate(type.getInputs())) {
      auto name = func.getArgAttrOfType<StringAttr>(i, kNameAttr);
      FailureOr<TensorSignature> arg =
          toSignature(func, input, name, "argument", i, *batch);
      if (failed(arg))
        return failure();
      signature.inputs.push_back(*arg);
    }
    for (auto [i, result] : llvm::enumerate(type.getResults())) {
      auto name = func.getResultAttrOfType<StringAttr>(i, kNameAttr);
      FailureOr<TensorSignature> res =
          toSignature(func, result, name, "result", i, *batch);
      if (failed(res))
        return failure();
      signature.results.push_back(*res);
    }
    // Ragged results name the returned count that bounds them.
    auto returnOp = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    for (auto [i, value] : llvm::enumerate(returnOp.getOperands())) {
      auto [count, axis] = raggedCountOf(value);
      if (!count)
        continue;
      auto it = llvm::find(returnOp.getOperands(), count);
      if (it == returnOp.getOperands().end())
        continue;
      signature.results[i].countResult =
          static_cast<int32_t>(it - returnOp.getOperands().begin());
      signature.results[i].raggedAxis = static_cast<int32_t>(axis);
    }
    functions.push_back(std::move(signature));
  }
  if (functions.empty())
    return module.emitError()
           << "module has no entry point: expected at least one public "
              "func.func with a body";
  return functions;
}

void stripEntryPointNames(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.removeArgAttr(i, kNameAttr);
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      func.removeResultAttr(i, StringAttr::get(module.getContext(), kNameAttr));
  }
}

} // namespace winnow
