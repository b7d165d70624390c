//===- RunToolTest.cpp - winnow-run driven in-process --------------------===//

#include "RunTool.h"
#include "TestArtifacts.h"
#include "winnow/support/Float16.h"
#include "winnow/support/Npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace {

using namespace winnow::testing;
using winnow::support::NpyArray;

class RunTool : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // One directory per process: ctest runs each test in its own process,
    // in parallel, and they must not rewrite each other's artifacts.
    dir = new std::string(::testing::TempDir() + "/winnow_run_tool_test." +
                          std::to_string(::getpid()));
    std::filesystem::create_directories(*dir);
    std::vector<uint8_t> so = readFileBytes(WINNOW_TEST_ENTRIES_SO);
    ASSERT_TRUE(writeFileBytes(path("entries.wnn"),
                               buildArtifact(testEntriesArtifact(so))));
    ASSERT_TRUE(writeFileBytes(
        path("add_one.wnn"),
        buildArtifact(addOneArtifact(readFileBytes(WINNOW_TEST_ADD_ONE_SO)))));
    ASSERT_TRUE(writeFileBytes(
        path("dynamic.wnn"),
        buildArtifact(dynamicArtifact(readFileBytes(WINNOW_TEST_DYNAMIC_SO)))));
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*dir, ignored);
    delete dir;
  }

  static std::string path(const std::string &name) { return *dir + "/" + name; }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "winnow-run");
    std::vector<const char *> argv;
    for (const std::string &arg : args)
      argv.push_back(arg.c_str());
    std::ostringstream outStream, errStream;
    int code = winnow::run::runMain(static_cast<int>(argv.size()), argv.data(),
                                    outStream, errStream);
    out = outStream.str();
    err = errStream.str();
    return code;
  }

  static NpyArray readNpy(const std::string &file) {
    NpyArray array;
    std::string error;
    EXPECT_TRUE(winnow::support::readNpyFile(file, array, error)) << error;
    return array;
  }

  static void writeNpy(const std::string &file, const std::string &descr,
                       const std::vector<int64_t> &shape, const void *data,
                       size_t bytes) {
    std::string error;
    ASSERT_TRUE(
        winnow::support::writeNpyFile(file, descr, shape, data, bytes, error))
        << error;
  }

  static std::string *dir;
  std::string out, err;
};

std::string *RunTool::dir = nullptr;

TEST_F(RunTool, ListPrintsSignatures) {
  ASSERT_EQ(run({path("entries.wnn"), "--list"}), 0) << err;
  EXPECT_EQ(out,
            "format: 2.0\n"
            "producer: winnow-tests\n"
            "source: test_entries.mlir\n"
            "targets:\n"
            "  [0] cpu " +
                hostTriple() + " (cpu x86-64), " +
                std::to_string(readFileBytes(WINNOW_TEST_ENTRIES_SO).size()) +
                " bytes\n"
                "functions:\n"
                "  func @add_one(x: 2x3xf32) -> (y: 2x3xf32)\n"
                "  func @ragged(scores: 2x4xf32, keep: 2xi32) -> (indices: "
                "2x4xi32 [count: result 1], count: 2xi32)\n"
                "  func @copy_bf16(x: 4xbf16) -> (y: 4xbf16)\n"
                "  func @logical_not(m: 3xi1) -> (r: 3xi1)\n"
                "  func @double_scalar(x: i32) -> (y: i32)\n"
                "  func @describe(x: 2x3x4xf32) -> (d: 8xi64)\n");
  EXPECT_EQ(err, "");
}

TEST_F(RunTool, InlineInputAndSummary) {
  ASSERT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1,2,3,4,5,6.5"}), 0)
      << err;
  EXPECT_EQ(out, "y: 2x3xf32 sum=2.750000e+01\n");
}

TEST_F(RunTool, SplatAndScalar) {
  ASSERT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=0.5"}), 0) << err;
  EXPECT_EQ(out, "y: 2x3xf32 sum=9.000000e+00\n");
  ASSERT_EQ(
      run({path("entries.wnn"), "--function=double_scalar", "--input=i32=-21"}),
      0)
      << err;
  EXPECT_EQ(out, "y: i32 sum=-4.200000e+01 values=[-42]\n");
}

TEST_F(RunTool, RaggedSummaryCoversOnlyValidRows) {
  ASSERT_EQ(run({path("entries.wnn"), "--function=ragged", "--input=2x4xf32=0",
                 "--input=2xi32=3,9"}),
            0)
      << err;
  // Batch 0 keeps 0,1,2 (sum 3), batch 1 keeps 0..3 (sum 6); the -1 padding
  // of batch 0 is not counted.
  EXPECT_EQ(out, "indices: 2x4xi32 counts=[3, 4] valid_sum=9.000000e+00\n"
                 "  batch 0: [0, 1, 2]\n"
                 "  batch 1: [0, 1, 2, 3]\n"
                 "count: 2xi32 sum=7.000000e+00 values=[3, 4]\n");
}

TEST_F(RunTool, PrintFullAndNone) {
  ASSERT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1,2,3,4,5,6.25",
                 "--print=full"}),
            0)
      << err;
  EXPECT_EQ(out, "y: 2x3xf32 =\n[[2, 3, 4],\n [5, 6, 7.25]]\n");
  ASSERT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1", "--print=none"}), 0);
  EXPECT_EQ(out, "");
}

TEST_F(RunTool, NpyInputAndOutputs) {
  float x[6] = {1, 2, 3, 4, 5, 6};
  writeNpy(path("x.npy"), "<f4", {2, 3}, x, sizeof(x));
  ASSERT_EQ(run({path("add_one.wnn"), "--input=@" + path("x.npy"),
                 "--output=@" + path("y.npy")}),
            0)
      << err;
  NpyArray y = readNpy(path("y.npy"));
  EXPECT_EQ(y.descr, "<f4");
  EXPECT_EQ(y.shape, (std::vector<int64_t>{2, 3}));
  float values[6];
  std::memcpy(values, y.data.data(), sizeof(values));
  EXPECT_FLOAT_EQ(values[5], 7.0f);

  std::string outDir = path("outs");
  std::filesystem::remove_all(outDir);
  ASSERT_EQ(run({path("entries.wnn"), "--function=ragged", "--input=2x4xf32=0",
                 "--input=2xi32=1,2", "--output-dir=" + outDir}),
            0)
      << err;
  NpyArray indices = readNpy(outDir + "/indices.npy");
  EXPECT_EQ(indices.descr, "<i4");
  NpyArray count = readNpy(outDir + "/count.npy");
  EXPECT_EQ(count.shape, (std::vector<int64_t>{2}));
}

TEST_F(RunTool, Bf16ConversionsAndOutputs) {
  // f32 .npy into a bf16 input: rounded to nearest even.
  float x[4] = {1.0f, 1.00390625f /* tie -> 1 */, -2.5f, 3.0f};
  writeNpy(path("xf.npy"), "<f4", {4}, x, sizeof(x));
  ASSERT_EQ(run({path("entries.wnn"), "--function=copy_bf16",
                 "--input=@" + path("xf.npy"), "--output=@" + path("yf.npy")}),
            0)
      << err;
  EXPECT_EQ(out, "y: 4xbf16 sum=2.500000e+00\n");
  NpyArray widened = readNpy(path("yf.npy"));
  EXPECT_EQ(widened.descr, "<f4");
  float values[4];
  std::memcpy(values, widened.data.data(), sizeof(values));
  EXPECT_EQ(values[1], 1.0f);
  EXPECT_EQ(values[2], -2.5f);

  // Raw bits in and out.
  uint16_t bits[4] = {0x3f80, 0x4000, 0xc040, 0x0000};
  writeNpy(path("xb.npy"), "<u2", {4}, bits, sizeof(bits));
  ASSERT_EQ(run({path("entries.wnn"), "--function=copy_bf16",
                 "--input=@" + path("xb.npy"), "--output=@" + path("yb.npy"),
                 "--raw-bf16"}),
            0)
      << err;
  NpyArray raw = readNpy(path("yb.npy"));
  EXPECT_EQ(raw.descr, "<u2");
  EXPECT_EQ(std::memcmp(raw.data.data(), bits, sizeof(bits)), 0);

  // <u2 is only bf16.
  uint16_t sixBits[6] = {};
  writeNpy(path("u2.npy"), "<u2", {2, 3}, sixBits, sizeof(sixBits));
  EXPECT_EQ(run({path("add_one.wnn"), "--input=@" + path("u2.npy")}), 1);
  EXPECT_NE(err.find("npy dtype '<u2' is only accepted as raw bf16 bits for a "
                     "bf16 input, but this input is f32"),
            std::string::npos)
      << err;
}

TEST_F(RunTool, BoolInputs) {
  ASSERT_EQ(run({path("entries.wnn"), "--function=logical_not",
                 "--input=3xi1=true,0,1"}),
            0)
      << err;
  EXPECT_EQ(out, "r: 3xi1 sum=1.000000e+00 values=[0, 1, 0]\n");
  EXPECT_EQ(run({path("entries.wnn"), "--function=logical_not",
                 "--input=3xi1=2,0,1"}),
            1);
  EXPECT_NE(err.find("i1 value must be 0, 1, true or false, got '2'"),
            std::string::npos)
      << err;
  uint8_t bad[3] = {0, 1, 2};
  writeNpy(path("bad_bool.npy"), "|b1", {3}, bad, sizeof(bad));
  EXPECT_EQ(run({path("entries.wnn"), "--function=logical_not",
                 "--input=@" + path("bad_bool.npy")}),
            1);
  EXPECT_NE(err.find("i1 values must be 0 or 1, found 2 at element 2"),
            std::string::npos)
      << err;
}

TEST_F(RunTool, InputErrors) {
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xi32=1"}), 1);
  EXPECT_EQ(err, "winnow-run: error: function 'add_one' input 0 'x': expected "
                 "dtype f32, got i32\n");
  EXPECT_EQ(run({path("add_one.wnn"), "--input=3x2xf32=1"}), 1);
  EXPECT_NE(err.find("expected shape 2x3xf32, got 3x2xf32"), std::string::npos)
      << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1,2"}), 1);
  EXPECT_NE(err.find("2x3xf32 needs 6 values (or one to fill it), got 2"),
            std::string::npos)
      << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf33=1"}), 1);
  EXPECT_NE(err.find("unknown dtype 'f33'"), std::string::npos) << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2xAx3xf32=1"}), 1);
  EXPECT_NE(err.find("invalid extent 'A'"), std::string::npos) << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1,2,3,4,5,x"}), 1);
  EXPECT_NE(err.find("value 5: expected a number, got 'x'"), std::string::npos)
      << err;
  EXPECT_EQ(run({path("entries.wnn"), "--function=double_scalar",
                 "--input=i32=3000000000"}),
            1);
  EXPECT_NE(err.find("value 3000000000 does not fit in i32"), std::string::npos)
      << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=@" + path("nope.npy")}), 1);
  EXPECT_NE(err.find("function 'add_one' input 0 'x': cannot open"),
            std::string::npos)
      << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1", "--input=i32=1"}),
            1);
  EXPECT_NE(err.find("takes 1 inputs (x: 2x3xf32), but 2 --input flags"),
            std::string::npos)
      << err;
  int32_t wrong[6] = {};
  writeNpy(path("wrong.npy"), "<i4", {2, 3}, wrong, sizeof(wrong));
  EXPECT_EQ(run({path("add_one.wnn"), "--input=@" + path("wrong.npy")}), 1);
  EXPECT_NE(err.find("expected dtype f32, but '" + path("wrong.npy") +
                     "' holds i32 (npy '<i4'); convert it with "
                     "`.astype(np.float32)` before saving"),
            std::string::npos)
      << err;
  // A directory where an .npy file is expected: named, not a stream error.
  std::filesystem::create_directories(path("dir.npy"));
  EXPECT_EQ(run({path("add_one.wnn"), "--input=@" + path("dir.npy")}), 1);
  EXPECT_NE(err.find("function 'add_one' input 0 'x': cannot read '" +
                     path("dir.npy") +
                     "': it is a directory, not an .npy file"),
            std::string::npos)
      << err;
}

TEST_F(RunTool, OutputErrors) {
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1", "--output=@a.npy",
                 "--output=@b.npy"}),
            1);
  EXPECT_NE(err.find("has 1 results (y: 2x3xf32), but 2 --output flags"),
            std::string::npos)
      << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1", "--output=a.npy"}),
            1);
  EXPECT_NE(err.find("--output expects '@path.npy', got 'a.npy'"),
            std::string::npos)
      << err;
  EXPECT_EQ(run({path("add_one.wnn"), "--input=2x3xf32=1", "--output=@a.npy",
                 "--output-dir=d"}),
            1);
  EXPECT_NE(err.find("cannot be combined"), std::string::npos) << err;
}

TEST_F(RunTool, FunctionSelection) {
  EXPECT_EQ(run({path("entries.wnn"), "--input=i32=1"}), 1);
  EXPECT_NE(err.find("the artifact has 6 functions (add_one, ragged, "
                     "copy_bf16, logical_not, double_scalar, describe); "
                     "choose one with --function=NAME"),
            std::string::npos)
      << err;
  EXPECT_EQ(run({path("entries.wnn"), "--function=nope"}), 1);
  EXPECT_NE(err.find("function 'nope' not found"), std::string::npos) << err;
}

TEST_F(RunTool, HelpDocumentsTheOutputFormat) {
  ASSERT_EQ(run({"--help"}), 0);
  EXPECT_NE(out.find("valid_sum"), std::string::npos);
  EXPECT_NE(out.find("--raw-bf16"), std::string::npos);
  EXPECT_NE(out.find("Dynamic extents"), std::string::npos);
}

TEST_F(RunTool, ListShowsSymbolsAndDynamicExtents) {
  ASSERT_EQ(run({path("dynamic.wnn"), "--list"}), 0) << err;
  std::string functions = out.substr(out.find("functions:"));
  EXPECT_EQ(functions,
            "functions:\n"
            "  func @add_one_rows(x: batchx3xf32) -> (y: batchx3xf32)\n"
            "    symbols: batch <= 4\n"
            "  func @keep_first(scores: batchx4xf32, keep: batchxi32) -> "
            "(indices: batchx4xi32 [count: result 1], count: batchxi32)\n"
            "    symbols: batch <= 4\n"
            "  func @outer(a: mxf32, b: nxf32) -> (c: mxnxf32)\n"
            "    symbols: m <= 3, n <= 5\n");
  EXPECT_EQ(out.substr(0, out.find('\n')), "format: 2.1");
}

TEST_F(RunTool, ResultsTakeTheValuesTheInputsBind) {
  ASSERT_EQ(run({path("dynamic.wnn"), "--function=add_one_rows",
                 "--input=3x3xf32=1", "--print=full"}),
            0)
      << err;
  EXPECT_EQ(out, "y: 3x3xf32 =\n[[2, 2, 2],\n [2, 2, 2],\n [2, 2, 2]]\n");
  // An empty batch.
  ASSERT_EQ(
      run({path("dynamic.wnn"), "--function=add_one_rows", "--input=0x3xf32="}),
      0)
      << err;
  EXPECT_EQ(out, "y: 0x3xf32 sum=0.000000e+00\n");
  ASSERT_EQ(run({path("dynamic.wnn"), "--function=keep_first",
                 "--input=2x4xf32=0", "--input=2xi32=1,3"}),
            0)
      << err;
  EXPECT_EQ(out, "indices: 2x4xi32 counts=[1, 3] valid_sum=3.000000e+00\n"
                 "  batch 0: [0]\n"
                 "  batch 1: [0, 1, 2]\n"
                 "count: 2xi32 sum=4.000000e+00 values=[1, 3]\n");
  ASSERT_EQ(run({path("dynamic.wnn"), "--function=outer", "--input=2xf32=1,2",
                 "--input=0xf32="}),
            0)
      << err;
  EXPECT_EQ(out, "c: 2x0xf32 sum=0.000000e+00\n");
}

TEST_F(RunTool, DynamicNpyInputsAndOutputs) {
  float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  writeNpy(path("rows.npy"), "<f4", {4, 3}, x, sizeof(x));
  ASSERT_EQ(run({path("dynamic.wnn"), "--function=add_one_rows",
                 "--input=@" + path("rows.npy"),
                 "--output=@" + path("rows_out.npy")}),
            0)
      << err;
  NpyArray y = readNpy(path("rows_out.npy"));
  EXPECT_EQ(y.shape, (std::vector<int64_t>{4, 3}));
  float values[12];
  std::memcpy(values, y.data.data(), sizeof(values));
  EXPECT_EQ(values[11], 12.0f);
}

TEST_F(RunTool, SymbolErrorsComeBeforeTheCall) {
  EXPECT_EQ(run({path("dynamic.wnn"), "--function=add_one_rows",
                 "--input=5x3xf32=1"}),
            1);
  EXPECT_EQ(err, "winnow-run: error: function 'add_one_rows': batch is 5 in "
                 "x, above its bound 4\n");
  EXPECT_EQ(run({path("dynamic.wnn"), "--function=keep_first",
                 "--input=2x4xf32=0", "--input=3xi32=1"}),
            1);
  EXPECT_EQ(err, "winnow-run: error: function 'keep_first': batch is 2 in "
                 "scores but 3 in keep\n");
  EXPECT_EQ(
      run({path("dynamic.wnn"), "--function=keep_first", "--input=2x4xf32=0"}),
      1);
  EXPECT_NE(err.find("takes 2 inputs (scores: batchx4xf32, keep: batchxi32), "
                     "but 1 --input flags"),
            std::string::npos)
      << err;
  // The runtime's other checks still apply to dynamic tensors.
  EXPECT_EQ(run({path("dynamic.wnn"), "--function=add_one_rows",
                 "--input=2x3xi32=1"}),
            1);
  EXPECT_EQ(err, "winnow-run: error: function 'add_one_rows' input 0 'x': "
                 "expected dtype f32, got i32\n");
}

TEST_F(RunTool, BenchWithDynamicExtents) {
  ASSERT_EQ(run({path("dynamic.wnn"), "--function=add_one_rows",
                 "--input=2x3xf32=1", "--bench=3"}),
            0)
      << err;
  EXPECT_NE(out.find("bench: 3 calls"), std::string::npos) << out;
  EXPECT_NE(out.find("y: 2x3xf32 sum=1.200000e+01"), std::string::npos) << out;
}

} // namespace

#ifdef WINNOW_FAKE_CUDA_DRIVER
namespace {

/// fakeCudaFailCall of the fake driver the runtime loads: the test opens
/// the same library (dlopen returns the loaded instance) instead of linking
/// it.
void failFakeCudaCall(const char *symbol, int nth, int result) {
  void *library = ::dlopen(WINNOW_FAKE_CUDA_DRIVER, RTLD_NOW);
  ASSERT_NE(library, nullptr) << ::dlerror();
  auto fail = reinterpret_cast<void (*)(const char *, int, int)>(
      ::dlsym(library, "fakeCudaFailCall"));
  ASSERT_NE(fail, nullptr) << ::dlerror();
  fail(symbol, nth, result);
  // Kept open: the injected failure lives in the library's state.
}

// --device=cuda on the runtime's fake CUDA driver (runtime/tests/cuda).
class RunToolCuda : public RunTool {
protected:
  void SetUp() override {
    ::setenv("WINNOW_CUDA_DRIVER", WINNOW_FAKE_CUDA_DRIVER, 1);
    ASSERT_TRUE(writeFileBytes(
        path("cuda.wnn"),
        buildArtifact(cudaTestArtifact(readFileBytes(WINNOW_TEST_CUDA_HOST)))));
  }
  void TearDown() override { ::unsetenv("WINNOW_CUDA_DRIVER"); }
};

TEST_F(RunToolCuda, ListShowsTheCudaTarget) {
  ASSERT_EQ(run({path("cuda.wnn"), "--list"}), 0) << err;
  EXPECT_NE(out.find("format: 2.0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  [0] cuda sm_80 sm_90 + ptx sm_90, host " +
                     hostTriple() + " (cpu x86-64), host ABI 1, "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("      kernels: add_kernel, fault_kernel\n"),
            std::string::npos)
      << out;
}

TEST_F(RunToolCuda, RunsOnTheDevice) {
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cuda", "--function=add_one",
                 "--input=2x3xf32=1,2,3,4,5,6"}),
            0)
      << err;
  EXPECT_EQ(out, "y: 2x3xf32 sum=2.700000e+01\n");
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cuda:0", "--function=fault",
                 "--input=4xf32=0"}),
            1);
  EXPECT_EQ(err, "winnow-run: error: function 'fault' on device 'cuda:0': "
                 "mgpuLaunchKernel: cuLaunchKernel failed: "
                 "CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)\n");
}

TEST_F(RunToolCuda, BenchUsesCudaEvents) {
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cuda", "--function=add_one",
                 "--input=2x3xf32=1", "--bench=3", "--print=none"}),
            0)
      << err;
  // Four conditions, the targets' one (cold L2, graph replay) first.
  std::vector<std::string> lines;
  std::istringstream stream(out);
  for (std::string line; std::getline(stream, line);)
    lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << out;
  const char *conditions[] = {"cold L2, graph replay", "cold L2, direct call",
                              "warm L2, graph replay", "warm L2, direct call"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i].rfind("bench: 3 calls, median ", 0), 0u) << lines[i];
    EXPECT_NE(lines[i].find(std::string(" (CUDA events on cuda:0, device "
                                        "tensors, ") +
                            conditions[i] + ")"),
              std::string::npos)
        << lines[i];
  }
  EXPECT_EQ(err, "");
}

TEST_F(RunToolCuda, BenchWithoutGraphsStillTimesDirectCalls) {
  // 900 is CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED (cuda.h is not included).
  failFakeCudaCall("cuStreamBeginCapture_v2", 1, 900);
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cuda", "--function=add_one",
                 "--input=2x3xf32=1", "--bench=2", "--print=none"}),
            0)
      << err;
  EXPECT_EQ(err.rfind("winnow-run: warning: graph replay not measured: "
                      "function 'add_one' on device 'cuda:0': capturing a "
                      "CUDA graph: cuStreamBeginCapture failed: "
                      "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
                      0),
            0u)
      << err;
  EXPECT_NE(out.find("cold L2, direct call)\nbench: "), std::string::npos)
      << out;
  EXPECT_EQ(out.find("graph replay"), std::string::npos) << out;
}

TEST_F(RunToolCuda, BenchLaunchesTimesEachKernel) {
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cuda", "--function=add_one",
                 "--input=2x3xf32=1", "--bench-launches=3", "--print=none"}),
            0)
      << err;
  EXPECT_EQ(out.rfind("launches: 3 calls, 1 launches per call (CUDA events "
                      "around each launch on cuda:0, L2 flushed before each "
                      "call)\n  launch 0 add_kernel grid 1x1x1 block 128x1x1 "
                      "smem 0: median ",
                      0),
            0u)
      << out;
  EXPECT_NE(out.find("\n  sum of medians "), std::string::npos) << out;
}

TEST_F(RunToolCuda, BenchLaunchesNeedsACudaDevice) {
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cpu", "--function=add_one",
                 "--input=2x3xf32=1", "--bench-launches=3"}),
            1);
  EXPECT_EQ(err, "winnow-run: error: --bench-launches times kernel launches "
                 "and needs a CUDA device (--device=cuda), not 'cpu'\n");
  EXPECT_EQ(out, "");
}

TEST_F(RunToolCuda, NoDriver) {
  ::setenv("WINNOW_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  ASSERT_EQ(run({path("cuda.wnn"), "--device=cuda", "--function=add_one",
                 "--input=2x3xf32=1"}),
            1);
  EXPECT_EQ(err.rfind("winnow-run: error: no CUDA driver: "
                      "/nonexistent/libcuda.so.1 could not be loaded (",
                      0),
            0u)
      << err;
}

} // namespace
#endif
