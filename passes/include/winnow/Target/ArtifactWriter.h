//===- ArtifactWriter.h - Serialise a .wnn artifact -------------*- C++ -*-===//

#ifndef WINNOW_TARGET_ARTIFACTWRITER_H
#define WINNOW_TARGET_ARTIFACTWRITER_H

#include "winnow/Target/Manifest.h"

#include <string>

namespace winnow {

struct CpuBinaryBlob {
  std::string triple;
  std::string cpu;
  std::string sharedObject;
};

struct ArtifactContents {
  std::string producer;
  std::string sourceName;
  llvm::SmallVector<FunctionSignature, 1> functions;
  llvm::SmallVector<CpuBinaryBlob> cpuBinaries;
};

/// Serialises `contents` as a FlatBuffers `winnow.artifact.Artifact`
/// (runtime/schemas/winnow_artifact.fbs), format 1.0.
std::string serializeArtifact(const ArtifactContents &contents);

} // namespace winnow

#endif // WINNOW_TARGET_ARTIFACTWRITER_H
