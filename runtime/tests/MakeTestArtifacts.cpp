//===- MakeTestArtifacts.cpp - Write the .wnn files the winnow-run tests use
//===//
//
// Usage: winnow-make-test-artifacts TEST_ENTRIES.so ADD_ONE.so DYNAMIC.so
//            OUTPUT_DIR [CUDA_HOST.so]
// With the fake-driver host object (runtime/tests/cuda) it also writes
// cuda_fake.wnn, for command-line tests on the fake CUDA driver.

#include "TestArtifacts.h"

#include <cstdio>
#include <filesystem>

using namespace winnow::testing;

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr,
                 "usage: %s TEST_ENTRIES.so ADD_ONE.so DYNAMIC.so OUTPUT_DIR "
                 "[CUDA_HOST.so]\n",
                 argv[0]);
    return 1;
  }
  std::vector<uint8_t> so = readFileBytes(argv[1]);
  std::vector<uint8_t> addOneSo = readFileBytes(argv[2]);
  std::vector<uint8_t> dynamicSo = readFileBytes(argv[3]);
  std::string dir = argv[4];
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  ArtifactDef wrongArch = addOneArtifact(addOneSo);
  wrongArch.targets[0].triple = foreignTriple();
  ArtifactDef notElf = addOneArtifact({'n', 'o', 't', ' ', 'e', 'l', 'f'});
  std::vector<uint8_t> truncated = buildArtifact(addOneArtifact(addOneSo));
  truncated.resize(truncated.size() / 2);
  bool ok =
      writeFileBytes(dir + "/test_entries.wnn",
                     buildArtifact(testEntriesArtifact(so))) &&
      writeFileBytes(dir + "/add_one.wnn",
                     buildArtifact(addOneArtifact(addOneSo))) &&
      writeFileBytes(dir + "/dynamic.wnn",
                     buildArtifact(dynamicArtifact(dynamicSo))) &&
      writeFileBytes(dir + "/wrong_arch.wnn", buildArtifact(wrongArch)) &&
      writeFileBytes(dir + "/not_elf.wnn", buildArtifact(notElf)) &&
      writeFileBytes(dir + "/truncated.wnn", truncated) &&
      (argc < 6 ||
       writeFileBytes(dir + "/cuda_fake.wnn",
                      buildArtifact(cudaTestArtifact(readFileBytes(argv[5])))));
  if (!ok) {
    std::fprintf(stderr, "cannot write test artifacts to '%s'\n", dir.c_str());
    return 1;
  }
  return 0;
}
