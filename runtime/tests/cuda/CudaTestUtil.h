//===- CudaTestUtil.h - Fixture for tests on the fake CUDA driver --------===//
#ifndef WINNOW_RUNTIME_TESTS_CUDA_CUDATESTUTIL_H
#define WINNOW_RUNTIME_TESTS_CUDA_CUDATESTUTIL_H

#include "FakeCuda.h"
#include "TestUtil.h"

#include <cuda.h>

#include <cstdlib>

namespace winnow::testing {

/// Points the runtime at the fake driver (which this test program also
/// links, so both see the same state) and resets the fake's counters.
class CudaTest : public ::testing::Test {
protected:
  void SetUp() override {
    ::setenv("WINNOW_CUDA_DRIVER", WINNOW_FAKE_CUDA_DRIVER, 1);
    fakeCudaReset();
  }
  void TearDown() override { fakeCudaReset(); }

  static std::vector<uint8_t> hostObject(const char *path = WINNOW_TEST_CUDA_HOST) {
    return readFileBytes(path);
  }

  static DevicePtr createCuda(const char *name = "cuda") {
    return createDevice(name);
  }

  static winnow_status bind(const ArtifactDef &def, ExecutablePtr &out) {
    DevicePtr device = createCuda();
    return bindOn(device.get(), def, out);
  }

  static winnow_tensor tensor(winnow_dtype dtype,
                              const std::vector<int64_t> &shape, void *data,
                              size_t byteSize) {
    return winnow_tensor{dtype, shape.size(), shape.data(), data, byteSize};
  }
};

/// add_one of cudaTestArtifact (or the artifact() of a subclass) bound on
/// cuda:0, with two 64-byte device buffers: `dx` holding 1..6 as f32, `dy`
/// zeroed. Freed after the test.
class BoundAddOneTest : public CudaTest {
protected:
  virtual ArtifactDef artifact() { return cudaTestArtifact(hostObject()); }
  void SetUp() override {
    CudaTest::SetUp();
    device = createCuda();
    ASSERT_WINNOW_OK(bindOn(device.get(), artifact(), executable));
    ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), kBufferBytes, &dx));
    ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), kBufferBytes, &dy));
    float x[6] = {1, 2, 3, 4, 5, 6};
    float zeros[kBufferBytes / sizeof(float)] = {};
    ASSERT_WINNOW_OK(winnow_device_copy(device.get(), dx, x, sizeof(x)));
    ASSERT_WINNOW_OK(
        winnow_device_copy(device.get(), dy, zeros, sizeof(zeros)));
  }
  void TearDown() override {
    EXPECT_WINNOW_OK(winnow_device_free(device.get(), dx));
    EXPECT_WINNOW_OK(winnow_device_free(device.get(), dy));
    executable.reset();
    device.reset();
    CudaTest::TearDown();
  }

  static constexpr size_t kBufferBytes = 64;
  DevicePtr device;
  ExecutablePtr executable;
  void *dx = nullptr, *dy = nullptr;
};

} // namespace winnow::testing

#endif // WINNOW_RUNTIME_TESTS_CUDA_CUDATESTUTIL_H
