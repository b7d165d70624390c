//===- CpuLoader.cpp - Host checks and in-memory dlopen for CPU targets --===//
//
// The shared object never touches the file system: it is written into an
// anonymous memfd and opened through /proc/self/fd, so there are no temp
// files to clean up or race on, and nothing is left behind after a crash.
//
//===----------------------------------------------------------------------===//

#include "CpuLoader.h"
#include "Status.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace winnow::runtime {

namespace {

#if defined(__x86_64__)
constexpr const char *kHostArch = "x86_64";
constexpr uint16_t kHostElfMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr const char *kHostArch = "aarch64";
constexpr uint16_t kHostElfMachine = EM_AARCH64;
#else
constexpr const char *kHostArch = "unsupported";
constexpr uint16_t kHostElfMachine = EM_NONE;
#endif

/// Maps the architecture component of a triple to our spelling.
std::string normalizeArch(const std::string &triple) {
  std::string arch = triple.substr(0, triple.find('-'));
  if (arch == "amd64" || arch == "x86-64")
    return "x86_64";
  if (arch == "arm64")
    return "aarch64";
  return arch;
}

#if defined(__x86_64__)
/// The x86-64 micro-architecture levels LLVM accepts as CPU names. Code built
/// for a level the host lacks would die with SIGILL, so refuse it up front.
/// Other CPU names (e.g. "skylake") cannot be checked and are accepted.
bool hostSupportsCpu(const std::string &cpu, std::string &missing) {
  __builtin_cpu_init();
  struct Feature {
    const char *name;
    bool present;
  };
  auto check = [&](std::initializer_list<Feature> features) {
    for (const Feature &f : features) {
      if (!f.present) {
        missing = f.name;
        return false;
      }
    }
    return true;
  };
  bool v2 = check({{"ssse3", __builtin_cpu_supports("ssse3") != 0},
                   {"sse4.2", __builtin_cpu_supports("sse4.2") != 0},
                   {"popcnt", __builtin_cpu_supports("popcnt") != 0}});
  if (cpu == "x86-64-v2")
    return v2;
  bool v3 = v2 && check({{"avx2", __builtin_cpu_supports("avx2") != 0},
                         {"fma", __builtin_cpu_supports("fma") != 0},
                         {"bmi2", __builtin_cpu_supports("bmi2") != 0}});
  if (cpu == "x86-64-v3")
    return v3;
  if (cpu == "x86-64-v4")
    return v3 && check({{"avx512f", __builtin_cpu_supports("avx512f") != 0},
                        {"avx512bw", __builtin_cpu_supports("avx512bw") != 0},
                        {"avx512cd", __builtin_cpu_supports("avx512cd") != 0},
                        {"avx512dq", __builtin_cpu_supports("avx512dq") != 0},
                        {"avx512vl", __builtin_cpu_supports("avx512vl") != 0}});
  return true;
}
#else
bool hostSupportsCpu(const std::string &, std::string &) { return true; }
#endif

winnow_status loadError(const std::string &what, const std::string &detail) {
  return makeStatus(WINNOW_STATUS_UNAVAILABLE,
                    "cannot load " + what + ": " + detail);
}

} // namespace

const char *hostArchitecture() { return kHostArch; }

bool isCpuTargetRunnable(const TargetSpec &target, std::string &reason) {
  std::string arch = normalizeArch(target.triple);
  if (arch != kHostArch) {
    reason = "built for " + arch + ", but this host is " + kHostArch;
    return false;
  }
  std::string missing;
  if (!hostSupportsCpu(target.cpu, missing)) {
    reason =
        "built for CPU '" + target.cpu + "', but this host lacks " + missing;
    return false;
  }
  return true;
}

winnow_status checkElfSharedObject(const uint8_t *bytes, size_t size,
                                   const std::string &what) {
  auto bad = [&](const std::string &detail) {
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      what + " is not a loadable shared object: " + detail);
  };
  if (size < sizeof(Elf64_Ehdr) || std::memcmp(bytes, ELFMAG, SELFMAG) != 0)
    return bad("missing ELF header");
  if (bytes[EI_CLASS] != ELFCLASS64 || bytes[EI_DATA] != ELFDATA2LSB)
    return bad("not a 64-bit little-endian ELF file");
  Elf64_Ehdr header;
  std::memcpy(&header, bytes, sizeof(header));
  if (header.e_type != ET_DYN)
    return bad("ELF type is " + std::to_string(header.e_type) +
               ", expected ET_DYN (shared object)");
  if (header.e_machine != kHostElfMachine)
    return bad("ELF machine is " + std::to_string(header.e_machine) +
               ", but this host (" + kHostArch + ") needs " +
               std::to_string(kHostElfMachine));
  return WINNOW_OK;
}

winnow_status dlopenFromMemory(const uint8_t *bytes, size_t size,
                               const std::string &what, void *&handle) {
  int fd = ::memfd_create("winnow-cpu-code", MFD_CLOEXEC);
  if (fd < 0)
    return loadError(what, std::string("memfd_create failed: ") +
                               std::strerror(errno));
  struct FdCloser {
    int fd;
    // dlopen keeps its own mapping, so the descriptor can go right after.
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return loadError(what, std::string("writing to memfd failed: ") +
                                 std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  // glibc's dlopen first looks for an object already loaded under the same
  // name, and a closed memfd's number is handed out again: while an earlier
  // artifact's code stays loaded from "/proc/self/fd/N", opening a new one at
  // N would return the old code. So the descriptor is duplicated to a number
  // no loaded object is named after (the duplicates close with `closer`).
  struct Duplicates {
    std::vector<int> fds;
    ~Duplicates() {
      for (int duplicate : fds)
        ::close(duplicate);
    }
  } duplicates;
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (int current = fd;;) {
    void *existing = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (!existing)
      break;
    ::dlclose(existing);
    if (duplicates.fds.size() >= 4096)
      return loadError(what, "no free descriptor name for the shared object");
    current = ::fcntl(fd, F_DUPFD_CLOEXEC, current + 1);
    if (current < 0)
      return loadError(what, std::string("duplicating the memfd failed: ") +
                                 std::strerror(errno));
    duplicates.fds.push_back(current);
    path = "/proc/self/fd/" + std::to_string(current);
  }
  handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *error = ::dlerror();
    return loadError(what, error ? error : "dlopen failed");
  }
  return WINNOW_OK;
}

} // namespace winnow::runtime
