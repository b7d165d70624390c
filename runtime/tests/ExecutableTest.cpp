//===- ExecutableTest.cpp - Devices, binding and end-to-end calls --------===//
//
// Runs TestEntries.c (built by CMake as a real shared object and embedded in
// an artifact here) through the whole load -> bind -> call path.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <cstring>
#include <elf.h>
#include <thread>

namespace {

using namespace winnow::testing;

winnow_tensor tensor(winnow_dtype dtype, const std::vector<int64_t> &shape,
                     void *data, size_t byteSize) {
  return winnow_tensor{dtype, shape.size(), shape.data(), data, byteSize};
}

TEST(Device, CpuAndCuda) {
  winnow_device *device = nullptr;
  ASSERT_WINNOW_OK(winnow_device_create("cpu", &device));
  const char *name = nullptr;
  ASSERT_WINNOW_OK(winnow_device_get_name(device, &name));
  EXPECT_STREQ(name, "cpu");

  winnow_device_info info;
  ASSERT_WINNOW_OK(winnow_device_get_info(device, &info));
  EXPECT_EQ(info.kind, WINNOW_DEVICE_KIND_CPU);
  EXPECT_STREQ(info.name, "cpu");
  EXPECT_EQ(info.ordinal, -1);
  winnow_device_release(device);

  device = nullptr;
  EXPECT_WINNOW_ERROR(winnow_device_create("tpu", &device),
                      WINNOW_STATUS_INVALID_ARGUMENT, "unknown device 'tpu'");
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda:1234567890", &device),
                      WINNOW_STATUS_INVALID_ARGUMENT, "unknown device");
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda:x", &device),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "unknown device 'cuda:x' (expected 'cpu', 'cuda' or "
                      "'cuda:N')");
  EXPECT_EQ(device, nullptr);
}

TEST(Device, CudaWithoutDriver) {
  ::setenv("WINNOW_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  winnow_device *device = nullptr;
#ifdef WINNOW_RUNTIME_HAS_CUDA
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda", &device),
                      WINNOW_STATUS_UNAVAILABLE,
                      "no CUDA driver: /nonexistent/libcuda.so.1 could not be "
                      "loaded (/nonexistent/libcuda.so.1: cannot open shared "
                      "object file");
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda:1", &device),
                      WINNOW_STATUS_UNAVAILABLE, "no CUDA driver");
#else
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda", &device),
                      WINNOW_STATUS_UNIMPLEMENTED,
                      "CUDA devices are not supported by this runtime build");
#endif
  EXPECT_EQ(device, nullptr);
  ::unsetenv("WINNOW_CUDA_DRIVER");
}

TEST(Device, CpuMemoryAndEvents) {
  DevicePtr device = createCpu();
  void *data = nullptr;
  ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 100, &data));
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u);
  const char text[] = "hello";
  ASSERT_WINNOW_OK(winnow_device_copy(device.get(), data, text, sizeof(text)));
  EXPECT_STREQ(static_cast<char *>(data), "hello");
  ASSERT_WINNOW_OK(winnow_device_free(device.get(), data));
  ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 0, &data));
  EXPECT_EQ(data, nullptr);
  winnow_event *event = nullptr;
  EXPECT_WINNOW_ERROR(winnow_event_create(device.get(), &event),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "events exist on CUDA devices only (device 'cpu')");
}

TEST(Executable, DeviceCallOnCpu) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(
      bindDef(addOneArtifact(addOneSharedObject()), executable));
  std::vector<int64_t> shape = {2, 3};
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  ASSERT_WINNOW_OK(winnow_call_device(executable.get(), "add_one", &input, 1,
                                      &output, 1, nullptr));
  EXPECT_FLOAT_EQ(y[5], 7.0f);
  int stream = 0;
  EXPECT_WINNOW_ERROR(winnow_call_device_by_index(executable.get(), 0, &input,
                                                  1, &output, 1, &stream),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "a stream was passed, but the executable runs on device "
                      "'cpu', which has no streams (pass NULL)");
}

TEST(Executable, AddOneEndToEnd) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(
      bindDef(testEntriesArtifact(testEntriesSharedObject()), executable));
  size_t targetIndex = 99;
  ASSERT_WINNOW_OK(
      winnow_executable_get_target_index(executable.get(), &targetIndex));
  EXPECT_EQ(targetIndex, 0u);

  std::vector<int64_t> shape = {2, 3};
  float x[6] = {0, 1, 2, 3, 4, 5.5f};
  float y[6] = {};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1));
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(y[i], x[i] + 1) << i;

  std::memset(y, 0, sizeof(y));
  ASSERT_WINNOW_OK(
      winnow_call_by_index(executable.get(), 0, &input, 1, &output, 1));
  EXPECT_FLOAT_EQ(y[5], 6.5f);
  EXPECT_WINNOW_ERROR(
      winnow_call_by_index(executable.get(), 6, &input, 1, &output, 1),
      WINNOW_STATUS_OUT_OF_RANGE, "function index 6 is out of range");
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_two", &input, 1, &output, 1),
      WINNOW_STATUS_NOT_FOUND, "function 'add_two' not found");
}

TEST(Executable, ExecutableOutlivesModuleAndDeviceHandles) {
  ModulePtr module = loadDef(addOneArtifact(addOneSharedObject()));
  DevicePtr device = createCpu();
  winnow_executable *raw = nullptr;
  ASSERT_WINNOW_OK(winnow_executable_create(module.get(), device.get(), &raw));
  ExecutablePtr executable(raw);
  module.reset();
  device.reset();
  const winnow_module *owner = nullptr;
  ASSERT_WINNOW_OK(winnow_executable_get_module(executable.get(), &owner));
  winnow_function_info fn;
  ASSERT_WINNOW_OK(winnow_module_get_function(owner, 0, &fn));
  EXPECT_STREQ(fn.name, "add_one");
  std::vector<int64_t> shape = {2, 3};
  float x[6] = {}, y[6] = {};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1));
  EXPECT_FLOAT_EQ(y[0], 1.0f);
}

// Two artifacts with different code loaded at once: the second must get its
// own code, although its memfd gets the number the first one's had (glibc
// matches loaded objects by name before it opens anything).
TEST(Executable, TwoArtifactsLoadedAtOnceKeepTheirOwnCode) {
  ExecutablePtr addOne, entries;
  ASSERT_WINNOW_OK(bindDef(addOneArtifact(addOneSharedObject()), addOne));
  ASSERT_WINNOW_OK(
      bindDef(testEntriesArtifact(testEntriesSharedObject()), entries));
  ExecutablePtr third;
  ASSERT_WINNOW_OK(bindDef(addOneArtifact(addOneSharedObject()), third));
  std::vector<int64_t> shape = {2, 3};
  float x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  for (winnow_executable *executable :
       {addOne.get(), entries.get(), third.get()}) {
    std::memset(y, 0, sizeof(y));
    ASSERT_WINNOW_OK(winnow_call(executable, "add_one", &input, 1, &output, 1));
    EXPECT_FLOAT_EQ(y[5], 6.0f);
  }
}

TEST(Executable, TwoExecutablesOfOneModule) {
  ModulePtr module = loadDef(addOneArtifact(addOneSharedObject()));
  DevicePtr device = createCpu();
  winnow_executable *a = nullptr, *b = nullptr;
  ASSERT_WINNOW_OK(winnow_executable_create(module.get(), device.get(), &a));
  ASSERT_WINNOW_OK(winnow_executable_create(module.get(), device.get(), &b));
  winnow_executable_release(a);
  std::vector<int64_t> shape = {2, 3};
  float x[6] = {}, y[6] = {};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  ASSERT_WINNOW_OK(winnow_call(b, "add_one", &input, 1, &output, 1));
  EXPECT_FLOAT_EQ(y[3], 1.0f);
  winnow_executable_release(b);
}

TEST(Executable, RaggedBf16BoolScalarAndDescriptor) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(
      bindDef(testEntriesArtifact(testEntriesSharedObject()), executable));

  // ragged: keep 3 of batch 0, 9 (clamped to 4) of batch 1.
  float scores[8] = {};
  int32_t keep[2] = {3, 9};
  int32_t indices[8];
  int32_t count[2];
  std::vector<int64_t> s24 = {2, 4}, s2 = {2};
  winnow_tensor inputs[] = {
      tensor(WINNOW_DTYPE_F32, s24, scores, sizeof(scores)),
      tensor(WINNOW_DTYPE_I32, s2, keep, sizeof(keep))};
  winnow_tensor outputs[] = {
      tensor(WINNOW_DTYPE_I32, s24, indices, sizeof(indices)),
      tensor(WINNOW_DTYPE_I32, s2, count, sizeof(count))};
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "ragged", inputs, 2, outputs, 2));
  EXPECT_EQ(count[0], 3);
  EXPECT_EQ(count[1], 4);
  const int32_t expected[8] = {0, 1, 2, -1, 0, 1, 2, 3};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(indices[i], expected[i]) << i;

  // copy_bf16
  uint16_t bx[4] = {0x3f80, 0x4000, 0xbf80, 0x7fc0}, by[4] = {};
  std::vector<int64_t> s4 = {4};
  winnow_tensor bin = tensor(WINNOW_DTYPE_BF16, s4, bx, sizeof(bx));
  winnow_tensor bout = tensor(WINNOW_DTYPE_BF16, s4, by, sizeof(by));
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "copy_bf16", &bin, 1, &bout, 1));
  EXPECT_EQ(std::memcmp(bx, by, sizeof(bx)), 0);

  // logical_not
  uint8_t m[3] = {1, 0, 1}, r[3] = {7, 7, 7};
  std::vector<int64_t> s3 = {3};
  winnow_tensor min = tensor(WINNOW_DTYPE_I1, s3, m, sizeof(m));
  winnow_tensor mout = tensor(WINNOW_DTYPE_I1, s3, r, sizeof(r));
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "logical_not", &min, 1, &mout, 1));
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[1], 1);
  EXPECT_EQ(r[2], 0);

  // double_scalar: rank 0, NULL shape allowed.
  int32_t sx = 21, sy = 0;
  winnow_tensor sin{WINNOW_DTYPE_I32, 0, nullptr, &sx, sizeof(sx)};
  winnow_tensor sout{WINNOW_DTYPE_I32, 0, nullptr, &sy, sizeof(sy)};
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "double_scalar", &sin, 1, &sout, 1));
  EXPECT_EQ(sy, 42);

  // describe: the descriptor the runtime builds for a dense 2x3x4 tensor.
  float dx[24] = {};
  int64_t d[8] = {};
  std::vector<int64_t> s234 = {2, 3, 4}, s8 = {8};
  winnow_tensor din = tensor(WINNOW_DTYPE_F32, s234, dx, sizeof(dx));
  winnow_tensor dout = tensor(WINNOW_DTYPE_I64, s8, d, sizeof(d));
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "describe", &din, 1, &dout, 1));
  const int64_t expectedDescriptor[8] = {1, 0, 2, 3, 4, 12, 4, 1};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(d[i], expectedDescriptor[i]) << i;
}

TEST(Executable, ConcurrentCalls) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(
      bindDef(addOneArtifact(addOneSharedObject()), executable));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int64_t> shape = {2, 3};
      for (int iter = 0; iter < 200; ++iter) {
        float x[6], y[6];
        for (int i = 0; i < 6; ++i)
          x[i] = static_cast<float>(t * 1000 + iter + i);
        winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
        winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
        winnow_status status =
            winnow_call(executable.get(), "add_one", &input, 1, &output, 1);
        if (status != WINNOW_OK || y[5] != x[5] + 1)
          ++failures[t];
        winnow_status_free(status);
      }
    });
  }
  for (std::thread &thread : threads)
    thread.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(Executable, WrongArchitecture) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.targets[0].triple = foreignTriple();
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(bindDef(def, executable),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "no CPU target of the artifact runs on this host");
  EXPECT_WINNOW_ERROR(
      bindDef(def, executable), WINNOW_STATUS_FAILED_PRECONDITION,
      "target 0 (cpu " + foreignTriple() + ", x86-64): built for");
  EXPECT_EQ(executable, nullptr);
}

TEST(Executable, PicksTheTargetForTheHost) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.targets.insert(def.targets.begin(),
                     TargetDef{foreignTriple(), "", addOneSharedObject()});
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bindDef(def, executable));
  size_t index = 0;
  ASSERT_WINNOW_OK(
      winnow_executable_get_target_index(executable.get(), &index));
  EXPECT_EQ(index, 1u);
}

TEST(Executable, NoTargets) {
  ArtifactDef def = addOneArtifact({});
  def.targets.clear();
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(bindDef(def, executable),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "the artifact has no CPU target (it has 0 targets), so "
                      "it cannot run on device 'cpu'");
}

TEST(Executable, DlopenFailureIsReported) {
  // Symbols the loader can read, but no program headers to map: loading
  // accepts it (it reads the code as data), the dynamic loader does not.
  std::vector<uint8_t> so = addOneSharedObject();
  Elf64_Ehdr header;
  std::memcpy(&header, so.data(), sizeof(header));
  header.e_phoff = so.size();
  std::memcpy(so.data(), &header, sizeof(header));
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(bindDef(addOneArtifact(so), executable),
                      WINNOW_STATUS_UNAVAILABLE,
                      "cannot load the shared object of target 0");
}

} // namespace
