//===- CudaBindingTest.cpp - Binding CUDA targets: selection and errors --===//

#include "CudaTestUtil.h"

namespace {

using namespace winnow::testing;

TEST_F(CudaTest, KernelJitFailureReportsTheLog) {
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(
      bind(cudaTestArtifact(hostObject(WINNOW_TEST_CUDA_HOST_JIT)),
           executable),
      WINNOW_STATUS_FAILED_PRECONDITION,
      "loading the kernels of target 0 (cuda " + hostTriple() +
          ", sm_80 sm_90 + ptx sm_90) on device 'cuda:0' (Winnow Fake GPU): "
          "mgpuModuleLoadJIT: cuModuleLoadDataEx failed: "
          "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed); JIT log: "
          "ptxas fatal   : fake JIT cannot compile this PTX");
  EXPECT_EQ(executable, nullptr);
  EXPECT_EQ(fakeCudaLiveModules(), 0);
  EXPECT_EQ(fakeCudaLiveStreams(), 0);
}

TEST_F(CudaTest, ModuleLoadFailure) {
  ExecutablePtr executable;
  fakeCudaFailCall("cuModuleLoadData", 1, CUDA_ERROR_NO_BINARY_FOR_GPU);
  EXPECT_WINNOW_ERROR(bind(cudaTestArtifact(hostObject()), executable),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "mgpuModuleLoad: cuModuleLoadData failed:");
  EXPECT_EQ(fakeCudaLiveStreams(), 0);
}

TEST_F(CudaTest, HostObjectAbiVersionMismatch) {
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(
      bind(cudaTestArtifact(hostObject(WINNOW_TEST_CUDA_HOST_ABI7)),
           executable),
      WINNOW_STATUS_FAILED_PRECONDITION,
      "implements CUDA host ABI version 7, but this runtime implements "
      "version 1");
}

TEST_F(CudaTest, ManifestAbiVersionMismatch) {
  ArtifactDef def = cudaTestArtifact(hostObject());
  def.targets[0].cudaAbiVersion = 2;
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(bind(def, executable), WINNOW_STATUS_FAILED_PRECONDITION,
                      "no CUDA target of the artifact runs on device 'cuda:0'; "
                      "target 0 (cuda " +
                          hostTriple() +
                          ", sm_80 sm_90 + ptx sm_90): generated for CUDA "
                          "host ABI version 2, but this runtime implements "
                          "version 1");
}

TEST_F(CudaTest, MissingTableSymbol) {
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(
      bind(cudaTestArtifact(hostObject(WINNOW_TEST_CUDA_HOST_NO_TABLE)),
           executable),
      WINNOW_STATUS_NOT_FOUND,
      "does not export '__winnow_cuda_table' (see cuda_host_abi.h)");
}

// Loading reads the host code as data, so a missing entry point or a host
// object that is not ELF fails before anything is mapped.
winnow_status loadStatus(const ArtifactDef &def) {
  std::vector<uint8_t> bytes = buildArtifact(def);
  winnow_module *raw = nullptr;
  winnow_status status =
      winnow_module_load_memory(bytes.data(), bytes.size(), &raw);
  winnow_module_release(raw);
  return status;
}

TEST_F(CudaTest, MissingEntryPoint) {
  ArtifactDef def = cudaTestArtifact(hostObject());
  FunctionDef absent = def.functions[1];
  absent.name = "absent";
  def.functions.push_back(absent);
  EXPECT_WINNOW_ERROR(loadStatus(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "does not define the entry point '__winnow_entry_absent'");
}

TEST_F(CudaTest, HostObjectThatIsNotElf) {
  EXPECT_WINNOW_ERROR(
      loadStatus(cudaTestArtifact({'n', 'o', 't', ' ', 'e', 'l', 'f'})),
      WINNOW_STATUS_DATA_LOSS,
      "the code of target 0 (cuda " + hostTriple() +
          ", sm_80 sm_90 + ptx sm_90) is not a readable shared object: "
          "missing ELF header");
}

TEST_F(CudaTest, NoCudaTarget) {
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(
      bind(addOneArtifact(readFileBytes(WINNOW_TEST_ADD_ONE_SO)), executable),
      WINNOW_STATUS_FAILED_PRECONDITION,
      "the artifact has no CUDA target (it has target 0 (cpu " + hostTriple() +
          ", x86-64)), so it cannot run on device 'cuda:0'");
}

TEST_F(CudaTest, CpuDeviceRejectsCudaOnlyArtifact) {
  winnow_device *raw = nullptr;
  ASSERT_WINNOW_OK(winnow_device_create("cpu", &raw));
  DevicePtr cpu(raw);
  ExecutablePtr executable;
  EXPECT_WINNOW_ERROR(
      bindOn(cpu.get(), cudaTestArtifact(hostObject()), executable),
      WINNOW_STATUS_FAILED_PRECONDITION, "the artifact has no CPU target");
}

TEST_F(CudaTest, ArchitectureSelection) {
  ExecutablePtr executable;
  // sm_86 runs the sm_80 cubin.
  fakeCudaSetComputeCapability(8, 6);
  EXPECT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  // A newer GPU JIT-compiles the sm_90 PTX.
  fakeCudaSetComputeCapability(12, 0);
  EXPECT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  // Nothing runs on sm_75.
  fakeCudaSetComputeCapability(7, 5);
  EXPECT_WINNOW_ERROR(bind(cudaTestArtifact(hostObject()), executable),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "no code for this GPU (Winnow Fake GPU, sm_75)");
  // sm_90a cubins run on sm_90 only.
  ArtifactDef def = cudaTestArtifact(hostObject());
  def.targets[0].cubinArchitectures = {"sm_90a"};
  def.targets[0].ptxArchitecture = "";
  fakeCudaSetComputeCapability(10, 0);
  EXPECT_WINNOW_ERROR(bind(def, executable), WINNOW_STATUS_FAILED_PRECONDITION,
                      "no code for this GPU (Winnow Fake GPU, sm_100)");
  fakeCudaSetComputeCapability(9, 0);
  EXPECT_WINNOW_OK(bind(def, executable));
}

TEST_F(CudaTest, PicksTheFirstRunnableCudaTarget) {
  ArtifactDef def = cudaTestArtifact(hostObject());
  // Every target defines every function, so the CPU target holds code with
  // the same entry points (the host object itself will do).
  TargetDef cpu{hostTriple(), "x86-64", hostObject()};
  TargetDef foreign = def.targets[0];
  foreign.triple = foreignTriple();
  def.targets = {cpu, foreign, def.targets[0]};
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(def, executable));
  size_t index = 0;
  ASSERT_WINNOW_OK(winnow_executable_get_target_index(executable.get(), &index));
  EXPECT_EQ(index, 2u);
}

} // namespace
