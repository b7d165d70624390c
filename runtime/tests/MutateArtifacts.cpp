//===- MutateArtifacts.cpp - Seeded damage to a real artifact, never a signal
//
// Usage: winnow-mutate-artifacts ARTIFACT.wnn [--count N] [--seed S]
//                                [--reseal] [--timeout-s T]
//
// Applies N seeded mutations (bit flips, byte overwrites, 32-bit field
// overwrites, truncations) to a compiled artifact and runs each damaged copy
// in a child process: load from memory, read every manifest entry, bind on
// the CPU and call every function with zero inputs, comparing the results
// with the undamaged artifact's. The parent counts how each ended.
//
// Without --reseal every change must be refused at load (the SHA-256 digest
// covers the whole file). With --reseal the digest is recomputed after each
// change, so the damage reaches the checks behind it (FlatBuffers verifier,
// manifest rules, the code's symbols and ABI descriptors); a copy whose
// embedded code was changed is then only loaded, never bound or run: damage
// inside machine code that carries a valid digest is what the digest is for.
//
// Exit status 0 when nothing crashed or hung and no damaged copy ran to a
// different result; 1 otherwise (each such case is printed with its seed).
//
//===----------------------------------------------------------------------===//

#include "TestArtifacts.h"
#include "TestHandles.h"
#include "winnow/artifact/winnow_artifact_generated.h"
#include "winnow/support/ArtifactDigest.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace winnow::testing;

namespace {

/// How a child ended; the exit code carries it.
enum Outcome : int {
  Same = 0,           // ran, every result identical to the original's
  LoadRefused = 10,   // winnow_module_load_memory gave a status
  BindRefused = 11,   // winnow_executable_create gave a status
  CallRefused = 12,   // winnow_call gave a status
  LoadedOnly = 20,    // loaded and introspected; code changed, not run
  Different = 30,     // ran to a different result: a silent change
};

struct Options {
  const char *path = nullptr;
  int count = 1000;
  uint32_t seed = 1;
  bool reseal = false;
  int timeoutSeconds = 20;
};

using Bytes = std::vector<uint8_t>;
/// Every result of every function, in order.
using Results = std::vector<Bytes>;

/// [begin, end) byte ranges of the embedded code.
std::vector<std::pair<size_t, size_t>> codeRanges(const Bytes &bytes) {
  namespace fb = winnow::artifact;
  std::vector<std::pair<size_t, size_t>> ranges;
  const fb::Artifact *artifact = fb::GetArtifact(bytes.data());
  if (!artifact->targets())
    return ranges;
  for (const fb::Target *target : *artifact->targets()) {
    const flatbuffers::Vector<uint8_t> *code = nullptr;
    if (auto *cpu = target->binary_as_CpuBinary())
      code = cpu->shared_object();
    else if (auto *cuda = target->binary_as_CudaBinary())
      code = cuda->host_shared_object();
    if (code) {
      size_t begin = static_cast<size_t>(code->data() - bytes.data());
      ranges.push_back({begin, begin + code->size()});
    }
  }
  return ranges;
}

/// Applies mutation `index` of the seeded sequence; returns a description.
std::string mutate(Bytes &bytes, uint32_t seed, int index) {
  std::mt19937_64 rng((uint64_t(seed) << 32) ^ uint64_t(index));
  auto at = [&](size_t n) { return size_t(rng() % n); };
  static const uint32_t kFieldValues[] = {
      0, 1, 2, 3, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000,
      0xffffffff, 0xfffffff0};
  char text[128];
  switch (index % 4) {
  case 0: { // 1 to 4 bit flips
    int flips = 1 + int(rng() % 4);
    size_t first = 0;
    for (int f = 0; f < flips; ++f) {
      size_t bit = at(bytes.size() * 8);
      first = f == 0 ? bit / 8 : first;
      bytes[bit / 8] ^= uint8_t(1u << (bit % 8));
    }
    std::snprintf(text, sizeof(text), "%d bit flip(s), first at byte %zu",
                  flips, first);
    break;
  }
  case 1: { // one byte overwritten
    static const uint8_t kByteValues[] = {0, 1, 0x7f, 0x80, 0xff};
    size_t position = at(bytes.size());
    uint8_t value = kByteValues[at(sizeof(kByteValues))];
    bytes[position] = value;
    std::snprintf(text, sizeof(text), "byte %zu := 0x%02x", position, value);
    break;
  }
  case 2: { // an aligned 32-bit field overwritten (offsets, counts, sizes)
    size_t position = at(bytes.size() / 4) * 4;
    uint32_t value = kFieldValues[at(sizeof(kFieldValues) / 4)];
    std::memcpy(&bytes[position], &value, 4);
    std::snprintf(text, sizeof(text), "u32 at %zu := 0x%x", position, value);
    break;
  }
  default: { // truncation
    size_t length = at(bytes.size());
    bytes.resize(length);
    std::snprintf(text, sizeof(text), "truncated to %zu bytes", length);
    break;
  }
  }
  return text;
}

/// Zero inputs for every function and the results of one call each.
/// Returns false, with the reason in `message`, at the first failing step.
Outcome runAll(const Bytes &bytes, bool mayRun, Results &results,
               std::string &message) {
  winnow_module *module = nullptr;
  StatusResult loaded(
      winnow_module_load_memory(bytes.data(), bytes.size(), &module));
  if (!loaded.ok()) {
    message = loaded.message();
    return LoadRefused;
  }
  ModulePtr owner(module);
  winnow_module_info info;
  if (!StatusResult(winnow_module_get_info(module, &info)).ok())
    std::abort(); // A loaded module always answers.
  for (size_t t = 0; t < info.num_targets; ++t) {
    winnow_target_info target;
    if (!StatusResult(winnow_module_get_target(module, t, &target)).ok())
      std::abort();
  }
  if (!mayRun)
    return LoadedOnly;
  winnow_device *rawDevice = nullptr;
  if (!StatusResult(winnow_device_create("cpu", &rawDevice)).ok())
    std::abort();
  DevicePtr device(rawDevice);
  winnow_executable *rawExecutable = nullptr;
  StatusResult bound(
      winnow_executable_create(module, device.get(), &rawExecutable));
  if (!bound.ok()) {
    message = bound.message();
    return BindRefused;
  }
  ExecutablePtr executable(rawExecutable);
  for (size_t f = 0; f < info.num_functions; ++f) {
    winnow_function_info fn;
    if (!StatusResult(winnow_module_get_function(module, f, &fn)).ok())
      std::abort();
    std::vector<std::vector<int64_t>> shapes;
    std::vector<Bytes> buffers;
    std::vector<winnow_tensor> tensors;
    size_t count = fn.num_inputs + fn.num_results;
    shapes.reserve(count);
    buffers.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      bool isInput = i < fn.num_inputs;
      winnow_tensor_spec spec;
      StatusResult got(isInput ? winnow_module_get_input(module, f, i, &spec)
                               : winnow_module_get_result(
                                     module, f, i - fn.num_inputs, &spec));
      if (!got.ok())
        std::abort();
      shapes.emplace_back(spec.shape, spec.shape + spec.rank);
      size_t bytesNeeded = winnow_dtype_element_size(spec.dtype);
      for (int64_t extent : shapes.back())
        bytesNeeded *= size_t(extent);
      if (bytesNeeded > (size_t(1) << 30)) {
        message = "a tensor of more than 1 GiB";
        return CallRefused;
      }
      buffers.emplace_back(bytesNeeded, 0);
      tensors.push_back({spec.dtype, spec.rank, shapes.back().data(),
                         buffers.back().data(), bytesNeeded});
    }
    StatusResult called(winnow_call_by_index(
        executable.get(), f, tensors.data(), fn.num_inputs,
        tensors.data() + fn.num_inputs, fn.num_results));
    if (!called.ok()) {
      message = called.message();
      return CallRefused;
    }
    for (size_t r = 0; r < fn.num_results; ++r)
      results.push_back(buffers[fn.num_inputs + r]);
  }
  return Same;
}

/// Which check refused a load, from its message.
std::string refusalKind(const std::string &message) {
  static const std::pair<const char *, const char *> kKinds[] = {
      {"digest", "SHA-256 digest"},
      {"too small", "size"},
      {"not a Winnow artifact", "identifier"},
      {"format version", "format version"},
      {"root table", "FlatBuffers verifier"},
      {"FlatBuffers", "FlatBuffers verifier"},
      {"readable shared object", "code (ELF)"},
      {"entry point", "code (entry points)"},
      {"ABI descriptor", "code (ABI descriptor)"},
      {"the manifest describes", "code (ABI descriptor)"},
  };
  for (const auto &[needle, kind] : kKinds)
    if (message.find(needle) != std::string::npos)
      return kind;
  return "manifest rules";
}

bool parse(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    const char *v = nullptr;
    if (arg == "--reseal")
      options.reseal = true;
    else if (arg == "--count" && (v = value()))
      options.count = std::atoi(v);
    else if (arg == "--seed" && (v = value()))
      options.seed = uint32_t(std::strtoul(v, nullptr, 10));
    else if (arg == "--timeout-s" && (v = value()))
      options.timeoutSeconds = std::atoi(v);
    else if (arg[0] != '-' && !options.path)
      options.path = argv[i];
    else
      return false;
  }
  return options.path && options.count > 0 && options.timeoutSeconds > 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s ARTIFACT.wnn [--count N] [--seed S] [--reseal] "
                 "[--timeout-s T]\n",
                 argv[0]);
    return 2;
  }
  Bytes original = readFileBytes(options.path);
  Results expected;
  std::string message;
  if (runAll(original, true, expected, message) != Same) {
    std::fprintf(stderr, "the undamaged artifact does not run: %s\n",
                 message.c_str());
    return 2;
  }
  std::vector<std::pair<size_t, size_t>> code = codeRanges(original);

  std::map<std::string, int> counts;
  int failures = 0;
  for (int index = 0; index < options.count; ++index) {
    Bytes bytes = original;
    std::string what = mutate(bytes, options.seed, index);
    if (options.reseal)
      winnow::support::sealArtifact(bytes.data(), bytes.size());
    if (bytes == original) {
      ++counts["unchanged (mutation wrote the same bytes)"];
      continue;
    }
    bool codeChanged = bytes.size() != original.size();
    for (auto [begin, end] : code)
      for (size_t i = begin; i < end && i < bytes.size() && !codeChanged; ++i)
        codeChanged = bytes[i] != original[i];
    int pipeEnds[2];
    if (pipe(pipeEnds) != 0) {
      std::perror("pipe");
      return 2;
    }
    pid_t child = fork();
    if (child < 0) {
      std::perror("fork");
      return 2;
    }
    if (child == 0) {
      close(pipeEnds[0]);
      alarm(unsigned(options.timeoutSeconds));
      Results results;
      std::string reason;
      Outcome outcome =
          runAll(bytes, !(options.reseal && codeChanged), results, reason);
      if (outcome == Same && results != expected)
        outcome = Different;
      ssize_t written = write(pipeEnds[1], reason.data(), reason.size());
      (void)written;
      _exit(outcome);
    }
    close(pipeEnds[1]);
    std::string childMessage;
    char buffer[4096];
    for (ssize_t n; (n = read(pipeEnds[0], buffer, sizeof(buffer))) > 0;)
      childMessage.append(buffer, size_t(n));
    close(pipeEnds[0]);
    int status = 0;
    waitpid(child, &status, 0);

    std::string outcome;
    bool failed = false;
    if (WIFSIGNALED(status)) {
      failed = true;
      outcome = WTERMSIG(status) == SIGALRM
                    ? "HANG (killed after the timeout)"
                    : std::string("CRASH (signal ") +
                          strsignal(WTERMSIG(status)) + ")";
    } else {
      switch (WEXITSTATUS(status)) {
      case LoadRefused: {
        std::string kind = refusalKind(childMessage);
        outcome = "refused at load: " + kind;
        // Without resealing, nothing changed may get past the digest.
        static const std::set<std::string> kBeforeTheDigest = {
            "SHA-256 digest", "size", "identifier", "format version",
            "FlatBuffers verifier"};
        failed = !options.reseal && !kBeforeTheDigest.count(kind);
        break;
      }
      case BindRefused:
        outcome = "loaded, refused at bind";
        failed = !options.reseal;
        break;
      case CallRefused:
        outcome = "loaded, call refused";
        failed = !options.reseal;
        break;
      case LoadedOnly:
        outcome = "loaded (code changed: not run)";
        break;
      case Same:
        outcome = "loaded and ran, results identical";
        failed = !options.reseal;
        break;
      case Different:
        outcome = "RAN TO A DIFFERENT RESULT";
        failed = true;
        break;
      default:
        outcome = "unexpected exit status " +
                  std::to_string(WEXITSTATUS(status));
        failed = true;
      }
    }
    ++counts[outcome];
    if (failed) {
      ++failures;
      std::printf("FAIL mutation %d (seed %u, %s): %s%s%s\n", index,
                  options.seed, what.c_str(), outcome.c_str(),
                  childMessage.empty() ? "" : ": ", childMessage.c_str());
    }
  }
  std::printf("%d mutations of %s (seed %u%s):\n", options.count,
              options.path, options.seed,
              options.reseal ? ", digest recomputed after each" : "");
  for (const auto &[outcome, n] : counts)
    std::printf("  %6d  %s\n", n, outcome.c_str());
  std::printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
