//===- ArtifactWriter.cpp - Serialise a .wnn artifact ---------------------===//

#include "winnow/Target/ArtifactWriter.h"

#include "winnow/runtime/cuda_host_abi.h"

#include "llvm/Support/SHA256.h"

#include <array>
#include <cstring>

// flatc's generated verifier switches over every union member and still
// has a default label; LLVM's warning flags object to that.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wcovered-switch-default"
#endif
#include "winnow/artifact/winnow_artifact_generated.h"
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

namespace winnow {
namespace {
namespace fb = winnow::artifact;

/// The artifact format this writer produces (the runtime's
/// WINNOW_ARTIFACT_FORMAT_MAJOR must match).
constexpr uint32_t kFormatMajor = 2;
constexpr uint32_t kFormatMinor = 1; // 2.1: dynamic extents
constexpr size_t kSha256Bytes = 32;

fb::DType toSchema(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return fb::DType_f32;
  case ElementType::f16:
    return fb::DType_f16;
  case ElementType::bf16:
    return fb::DType_bf16;
  case ElementType::f64:
    return fb::DType_f64;
  case ElementType::i1:
    return fb::DType_i1;
  case ElementType::i8:
    return fb::DType_i8;
  case ElementType::i16:
    return fb::DType_i16;
  case ElementType::i32:
    return fb::DType_i32;
  case ElementType::i64:
    return fb::DType_i64;
  }
  llvm_unreachable("unknown element type");
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::TensorSpec>>>
writeTensors(flatbuffers::FlatBufferBuilder &builder,
             llvm::ArrayRef<TensorSignature> tensors) {
  std::vector<flatbuffers::Offset<fb::TensorSpec>> specs;
  for (const TensorSignature &tensor : tensors) {
    std::vector<int64_t> shape(tensor.shape.begin(), tensor.shape.end());
    std::vector<int32_t> dimSymbols(tensor.dimSymbols.begin(),
                                    tensor.dimSymbols.end());
    specs.push_back(fb::CreateTensorSpecDirect(
        builder, tensor.name.c_str(), toSchema(tensor.elementType), &shape,
        tensor.countResult, tensor.raggedAxis,
        dimSymbols.empty() ? nullptr : &dimSymbols));
  }
  return builder.CreateVector(specs);
}
} // namespace

std::string serializeArtifact(const ArtifactContents &contents) {
  flatbuffers::FlatBufferBuilder builder(1 << 16);
  std::vector<flatbuffers::Offset<fb::Function>> functions;
  for (const FunctionSignature &function : contents.functions) {
    auto inputs = writeTensors(builder, function.inputs);
    auto results = writeTensors(builder, function.results);
    std::vector<flatbuffers::Offset<fb::Symbol>> symbols;
    for (const ExtentSymbol &symbol : function.symbols)
      symbols.push_back(
          fb::CreateSymbolDirect(builder, symbol.name.c_str(), symbol.bound));
    functions.push_back(fb::CreateFunction(
        builder, builder.CreateString(function.name), inputs, results,
        symbols.empty() ? 0 : builder.CreateVector(symbols)));
  }
  std::vector<flatbuffers::Offset<fb::Target>> targets;
  for (const CpuBinaryBlob &cpu : contents.cpuBinaries) {
    // 16-byte alignment keeps the embedded ELF image cheap to map.
    builder.ForceVectorAlignment(cpu.sharedObject.size(), sizeof(uint8_t), 16);
    auto bytes = builder.CreateVector(
        reinterpret_cast<const uint8_t *>(cpu.sharedObject.data()),
        cpu.sharedObject.size());
    auto binary = fb::CreateCpuBinary(builder, builder.CreateString(cpu.triple),
                                      builder.CreateString(cpu.cpu), bytes);
    targets.push_back(fb::CreateTarget(builder, fb::TargetBinary_CpuBinary,
                                       binary.Union()));
  }
  for (const CudaBinaryBlob &cuda : contents.cudaBinaries) {
    builder.ForceVectorAlignment(cuda.hostSharedObject.size(), sizeof(uint8_t),
                                 16);
    auto bytes = builder.CreateVector(
        reinterpret_cast<const uint8_t *>(cuda.hostSharedObject.data()),
        cuda.hostSharedObject.size());
    auto binary = fb::CreateCudaBinary(
        builder, builder.CreateString(cuda.triple),
        builder.CreateString(cuda.cpu), bytes, WINNOW_CUDA_HOST_ABI_VERSION,
        builder.CreateVectorOfStrings(cuda.cubinArchitectures),
        builder.CreateString(cuda.ptxArchitecture),
        builder.CreateVectorOfStrings(cuda.kernels),
        builder.CreateVector(cuda.workspaceBytes));
    targets.push_back(fb::CreateTarget(builder, fb::TargetBinary_CudaBinary,
                                       binary.Union()));
  }
  // The digest is written as zeros, hashed with the rest of the file, then
  // filled in (the schema's sha256 field).
  auto digest = builder.CreateVector(std::vector<uint8_t>(kSha256Bytes, 0));
  auto artifact = fb::CreateArtifact(
      builder, kFormatMajor, kFormatMinor,
      builder.CreateString(contents.producer),
      builder.CreateString(contents.sourceName),
      builder.CreateVector(functions), builder.CreateVector(targets), digest);
  fb::FinishArtifactBuffer(builder, artifact);
  std::string bytes(reinterpret_cast<const char *>(builder.GetBufferPointer()),
                    builder.GetSize());
  auto *data = reinterpret_cast<uint8_t *>(bytes.data());
  const flatbuffers::Vector<uint8_t> *field = fb::GetArtifact(data)->sha256();
  size_t offset = static_cast<size_t>(field->data() - data);
  std::array<uint8_t, kSha256Bytes> sum =
      llvm::SHA256::hash(llvm::ArrayRef<uint8_t>(data, bytes.size()));
  std::memcpy(data + offset, sum.data(), kSha256Bytes);
  return bytes;
}

} // namespace winnow
