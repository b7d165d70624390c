//===- TestArtifacts.cpp - Build .wnn artifacts in tests -----------------===//

#include "TestArtifacts.h"
#include "winnow/artifact/winnow_artifact_generated.h"
#include "winnow/support/ArtifactDigest.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace winnow::testing {

namespace fb = winnow::artifact;

namespace {

flatbuffers::Offset<fb::TensorSpec> buildSpec(flatbuffers::FlatBufferBuilder &b,
                                              const TensorDef &def) {
  auto name = def.omitName ? 0 : b.CreateString(def.name);
  auto shape = def.omitShape ? 0 : b.CreateVector(def.shape);
  auto dimSymbols = def.dimSymbols.empty() ? 0 : b.CreateVector(def.dimSymbols);
  fb::TensorSpecBuilder spec(b);
  if (!def.omitName)
    spec.add_name(name);
  if (!def.omitShape)
    spec.add_shape(shape);
  spec.add_dtype(static_cast<fb::DType>(
      def.rawDType ? *def.rawDType : static_cast<uint8_t>(def.dtype)));
  spec.add_count_result(def.countResult);
  spec.add_ragged_axis(def.raggedAxis);
  if (!def.dimSymbols.empty())
    spec.add_dim_symbols(dimSymbols);
  return spec.Finish();
}

std::vector<flatbuffers::Offset<fb::TensorSpec>>
buildSpecs(flatbuffers::FlatBufferBuilder &b,
           const std::vector<TensorDef> &defs) {
  std::vector<flatbuffers::Offset<fb::TensorSpec>> specs;
  for (const TensorDef &def : defs)
    specs.push_back(buildSpec(b, def));
  return specs;
}

} // namespace

std::vector<uint8_t> buildArtifact(const ArtifactDef &def) {
  flatbuffers::FlatBufferBuilder b;
  // format_major defaults to 1 and would otherwise be elided; tests read the
  // bytes as written, defaults included.
  b.ForceDefaults(true);
  std::vector<flatbuffers::Offset<fb::Function>> functions;
  for (const FunctionDef &fn : def.functions) {
    auto inputs = b.CreateVector(buildSpecs(b, fn.inputs));
    auto results = b.CreateVector(buildSpecs(b, fn.results));
    auto name = fn.omitName ? 0 : b.CreateString(fn.name);
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Symbol>>>
        symbols;
    if (!fn.symbols.empty()) {
      std::vector<flatbuffers::Offset<fb::Symbol>> list;
      for (const SymbolDef &symbol : fn.symbols)
        list.push_back(fb::CreateSymbol(
            b, symbol.omitName ? 0 : b.CreateString(symbol.name),
            symbol.bound));
      symbols = b.CreateVector(list);
    }
    functions.push_back(fb::CreateFunction(b, name, inputs, results, symbols));
  }
  std::vector<flatbuffers::Offset<fb::Target>> targets;
  for (const TargetDef &target : def.targets) {
    if (target.omitBinary) {
      targets.push_back(fb::CreateTarget(b));
      continue;
    }
    if (target.kind == TargetKind::Cuda) {
      std::vector<flatbuffers::Offset<flatbuffers::String>> archs, kernels;
      for (const std::string &arch : target.cubinArchitectures)
        archs.push_back(b.CreateString(arch));
      for (const std::string &kernel : target.kernels)
        kernels.push_back(b.CreateString(kernel));
      auto cuda = fb::CreateCudaBinaryDirect(
          b, target.triple.c_str(), target.cpu.c_str(), &target.sharedObject,
          target.cudaAbiVersion, &archs, target.ptxArchitecture.c_str(),
          &kernels,
          target.workspaceBytes.empty() ? nullptr : &target.workspaceBytes);
      targets.push_back(
          fb::CreateTarget(b, fb::TargetBinary_CudaBinary, cuda.Union()));
      continue;
    }
    auto cpu = fb::CreateCpuBinaryDirect(
        b, target.triple.c_str(), target.cpu.c_str(), &target.sharedObject);
    targets.push_back(
        fb::CreateTarget(b, fb::TargetBinary_CpuBinary, cpu.Union()));
  }
  // CreateString(std::string) keeps embedded NULs, which tests need.
  auto producer = b.CreateString(def.producer);
  auto sourceName = b.CreateString(def.sourceName);
  auto functionVector = b.CreateVector(functions);
  auto targetVector = b.CreateVector(targets);
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> digest;
  if (def.digest != DigestKind::Omitted)
    digest = b.CreateVector(std::vector<uint8_t>(support::kSha256Bytes, 0));
  auto root = fb::CreateArtifact(b, def.formatMajor, def.formatMinor,
                                 producer, sourceName, functionVector,
                                 targetVector, digest);
  fb::FinishArtifactBuffer(b, root);
  std::vector<uint8_t> bytes(b.GetBufferPointer(),
                             b.GetBufferPointer() + b.GetSize());
  if (def.digest == DigestKind::Sealed && !support::sealArtifact(bytes.data(), bytes.size())) {
    std::fprintf(stderr, "test setup: cannot seal the artifact\n");
    std::abort();
  }
  return bytes;
}

ArtifactDef testEntriesArtifact(std::vector<uint8_t> sharedObject) {
  ArtifactDef def;
  def.functions = {
      {"add_one",
       {{"x", WINNOW_DTYPE_F32, {2, 3}}},
       {{"y", WINNOW_DTYPE_F32, {2, 3}}}},
      {"ragged",
       {{"scores", WINNOW_DTYPE_F32, {2, 4}}, {"keep", WINNOW_DTYPE_I32, {2}}},
       {{"indices", WINNOW_DTYPE_I32, {2, 4}, 1},
        {"count", WINNOW_DTYPE_I32, {2}}}},
      {"copy_bf16",
       {{"x", WINNOW_DTYPE_BF16, {4}}},
       {{"y", WINNOW_DTYPE_BF16, {4}}}},
      {"logical_not",
       {{"m", WINNOW_DTYPE_I1, {3}}},
       {{"r", WINNOW_DTYPE_I1, {3}}}},
      {"double_scalar",
       {{"x", WINNOW_DTYPE_I32, {}}},
       {{"y", WINNOW_DTYPE_I32, {}}}},
      {"describe",
       {{"x", WINNOW_DTYPE_F32, {2, 3, 4}}},
       {{"d", WINNOW_DTYPE_I64, {8}}}},
  };
  def.targets = {{hostTriple(), "x86-64", std::move(sharedObject)}};
  return def;
}

ArtifactDef addOneArtifact(std::vector<uint8_t> sharedObject) {
  ArtifactDef def = testEntriesArtifact(std::move(sharedObject));
  def.functions.resize(1);
  return def;
}

TensorDef dynamicTensor(std::string name, winnow_dtype dtype,
                        std::vector<int64_t> shape,
                        std::vector<int32_t> dimSymbols, int32_t countResult) {
  TensorDef def;
  def.name = std::move(name);
  def.dtype = dtype;
  def.shape = std::move(shape);
  def.dimSymbols = std::move(dimSymbols);
  def.countResult = countResult;
  return def;
}

ArtifactDef dynamicArtifact(std::vector<uint8_t> sharedObject) {
  ArtifactDef def;
  def.formatMinor = 1;
  FunctionDef addOneRows{
      "add_one_rows",
      {dynamicTensor("x", WINNOW_DTYPE_F32, {-1, 3}, {0, -1})},
      {dynamicTensor("y", WINNOW_DTYPE_F32, {-1, 3}, {0, -1})}};
  addOneRows.symbols = {{"batch", 4}};
  FunctionDef keepFirst{
      "keep_first",
      {dynamicTensor("scores", WINNOW_DTYPE_F32, {-1, 4}, {0, -1}),
       dynamicTensor("keep", WINNOW_DTYPE_I32, {-1}, {0})},
      {dynamicTensor("indices", WINNOW_DTYPE_I32, {-1, 4}, {0, -1}, 1),
       dynamicTensor("count", WINNOW_DTYPE_I32, {-1}, {0})}};
  keepFirst.symbols = {{"batch", 4}};
  FunctionDef outer{"outer",
                    {dynamicTensor("a", WINNOW_DTYPE_F32, {-1}, {0}),
                     dynamicTensor("b", WINNOW_DTYPE_F32, {-1}, {1})},
                    {dynamicTensor("c", WINNOW_DTYPE_F32, {-1, -1}, {0, 1})}};
  outer.symbols = {{"m", 3}, {"n", 5}};
  def.functions = {addOneRows, keepFirst, outer};
  def.targets = {{hostTriple(), "x86-64", std::move(sharedObject)}};
  return def;
}

ArtifactDef parallelArtifact(std::vector<uint8_t> sharedObject) {
  ArtifactDef def;
  def.functions = {
      {"thread_ids",
       {{"x", WINNOW_DTYPE_F32, {64}}},
       {{"outer", WINNOW_DTYPE_I64, {64}}, {"inner", WINNOW_DTYPE_I64, {64}}}}};
  def.targets = {{hostTriple(), "x86-64", std::move(sharedObject)}};
  return def;
}

ArtifactDef cudaTestArtifact(std::vector<uint8_t> hostObject) {
  ArtifactDef def;
  def.functions = {
      {"add_one",
       {{"x", WINNOW_DTYPE_F32, {2, 3}}},
       {{"y", WINNOW_DTYPE_F32, {2, 3}}}},
      {"add_two_big_smem",
       {{"x", WINNOW_DTYPE_F32, {4}}},
       {{"y", WINNOW_DTYPE_F32, {4}}}},
      {"fault", {{"x", WINNOW_DTYPE_F32, {4}}}, {{"y", WINNOW_DTYPE_F32, {4}}}},
      {"missing_kernel",
       {{"x", WINNOW_DTYPE_F32, {4}}},
       {{"y", WINNOW_DTYPE_F32, {4}}}},
      {"fill", {{"x", WINNOW_DTYPE_I32, {4}}}, {{"y", WINNOW_DTYPE_I32, {4}}}},
  };
  TargetDef target;
  target.kind = TargetKind::Cuda;
  target.triple = hostTriple();
  target.cpu = "x86-64";
  target.sharedObject = std::move(hostObject);
  def.targets = {std::move(target)};
  return def;
}

ArtifactDef cudaWorkspaceTestArtifact(std::vector<uint8_t> hostObject) {
  ArtifactDef def = cudaTestArtifact(std::move(hostObject));
  // What winnow-compile records: each scratch allocation rounded up to 256
  // bytes; fill allocates nothing.
  def.targets[0].workspaceBytes = {256, 256, 256, 256, 0};
  return def;
}

std::string hostTriple() {
#if defined(__aarch64__)
  return "aarch64-unknown-linux-gnu";
#else
  return "x86_64-unknown-linux-gnu";
#endif
}

std::string foreignTriple() {
#if defined(__aarch64__)
  return "x86_64-unknown-linux-gnu";
#else
  return "aarch64-unknown-linux-gnu";
#endif
}

std::vector<uint8_t> readFileBytes(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "test setup: cannot read '%s'\n", path.c_str());
    std::abort();
  }
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
}

bool writeFileBytes(const std::string &path,
                    const std::vector<uint8_t> &bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char *>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(file);
}

} // namespace winnow::testing
