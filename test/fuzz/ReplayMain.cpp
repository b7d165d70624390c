//===- ReplayMain.cpp - Run a fuzz target over files, without libFuzzer ---===//
//
// The fuzz targets are also built as plain programs (when WINNOW_FUZZERS is
// off) that feed each file named on the command line, or each file of each
// directory named, to LLVMFuzzerTestOneInput once: the test suite replays
// the seed corpora and every input that once crashed a target, so the
// targets build and pass in every configuration.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);

namespace {
int replay(const std::filesystem::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  int errors = 0, inputs = 0;
  for (int i = 1; i < argc; ++i) {
    // libFuzzer's flags (-runs=0, -dict=...) mean nothing here.
    if (argv[i][0] == '-')
      continue;
    std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto &entry : std::filesystem::recursive_directory_iterator(path))
        if (entry.is_regular_file())
          errors += replay(entry.path()), ++inputs;
    } else {
      errors += replay(path), ++inputs;
    }
  }
  std::printf("replayed %d inputs\n", inputs);
  return errors ? 1 : 0;
}
