//===- ArtifactWriter.h - Serialise a .wnn artifact -------------*- C++ -*-===//

#ifndef WINNOW_TARGET_ARTIFACTWRITER_H
#define WINNOW_TARGET_ARTIFACTWRITER_H

#include "winnow/Target/Manifest.h"

#include <string>
#include <vector>

namespace winnow {

struct CpuBinaryBlob {
  std::string triple;
  std::string cpu;
  std::string sharedObject;
};

struct CudaBinaryBlob {
  /// Host triple and CPU of the host code.
  std::string triple;
  std::string cpu;
  std::string hostSharedObject;
  std::vector<std::string> cubinArchitectures;
  std::string ptxArchitecture;
  std::vector<std::string> kernels;
  /// Per function: workspace bytes, or -1 when unbounded.
  std::vector<int64_t> workspaceBytes;
};

struct ArtifactContents {
  std::string producer;
  std::string sourceName;
  llvm::SmallVector<FunctionSignature, 1> functions;
  llvm::SmallVector<CpuBinaryBlob> cpuBinaries;
  llvm::SmallVector<CudaBinaryBlob> cudaBinaries;
};

/// Serialises `contents` as a FlatBuffers `winnow.artifact.Artifact`
/// (runtime/schemas/winnow_artifact.fbs), format 2.0, sealed with the
/// SHA-256 of the whole file.
std::string serializeArtifact(const ArtifactContents &contents);

} // namespace winnow

#endif // WINNOW_TARGET_ARTIFACTWRITER_H
