//===- ArtifactValidationTest.cpp - Loading, verifying, introspecting ----===//

#include "TestUtil.h"

#include "winnow/support/ArtifactDigest.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace {

using namespace winnow::testing;

// Loading reads the code as data (entry points, ABI descriptors), so the
// artifacts hold the real TestEntries.c shared object.
const std::vector<uint8_t> &entriesSo() {
  static const std::vector<uint8_t> bytes = testEntriesSharedObject();
  return bytes;
}

winnow_status load(const std::vector<uint8_t> &bytes, ModulePtr &module) {
  winnow_module *raw = nullptr;
  winnow_status status =
      winnow_module_load_memory(bytes.data(), bytes.size(), &raw);
  module.reset(raw);
  return status;
}

winnow_status load(const ArtifactDef &def) {
  ModulePtr module;
  return load(buildArtifact(def), module);
}

TEST(ArtifactValidation, GoodArtifactIntrospection) {
  ModulePtr module;
  ASSERT_WINNOW_OK(load(buildArtifact(testEntriesArtifact(entriesSo())), module));

  winnow_module_info info;
  ASSERT_WINNOW_OK(winnow_module_get_info(module.get(), &info));
  EXPECT_EQ(info.format_major, 2u);
  EXPECT_EQ(info.format_minor, 0u);
  EXPECT_STREQ(info.producer, "winnow-tests");
  EXPECT_STREQ(info.source_name, "test_entries.mlir");
  EXPECT_EQ(info.num_functions, 6u);
  EXPECT_EQ(info.num_targets, 1u);

  winnow_target_info target;
  ASSERT_WINNOW_OK(winnow_module_get_target(module.get(), 0, &target));
  EXPECT_EQ(target.kind, WINNOW_TARGET_KIND_CPU);
  EXPECT_EQ(target.triple, hostTriple());
  EXPECT_STREQ(target.cpu, "x86-64");
  EXPECT_EQ(target.binary_size, entriesSo().size());
  EXPECT_WINNOW_ERROR(winnow_module_get_target(module.get(), 1, &target),
                      WINNOW_STATUS_OUT_OF_RANGE, "target index 1");

  size_t index = 0;
  ASSERT_WINNOW_OK(winnow_module_find_function(module.get(), "ragged", &index));
  EXPECT_EQ(index, 1u);
  EXPECT_WINNOW_ERROR(
      winnow_module_find_function(module.get(), "nope", &index),
      WINNOW_STATUS_NOT_FOUND,
      "function 'nope' not found in the module (available: add_one, ragged");

  winnow_function_info fn;
  ASSERT_WINNOW_OK(winnow_module_get_function(module.get(), 1, &fn));
  EXPECT_STREQ(fn.name, "ragged");
  EXPECT_EQ(fn.num_inputs, 2u);
  EXPECT_EQ(fn.num_results, 2u);

  winnow_tensor_spec spec;
  ASSERT_WINNOW_OK(winnow_module_get_input(module.get(), 1, 0, &spec));
  EXPECT_STREQ(spec.name, "scores");
  EXPECT_EQ(spec.dtype, WINNOW_DTYPE_F32);
  ASSERT_EQ(spec.rank, 2u);
  EXPECT_EQ(spec.shape[0], 2);
  EXPECT_EQ(spec.shape[1], 4);
  EXPECT_EQ(spec.count_result, -1);
  EXPECT_EQ(spec.dim_symbols, nullptr);
  EXPECT_EQ(fn.num_symbols, 0u);
  winnow_symbol_info symbol;
  EXPECT_WINNOW_ERROR(winnow_module_get_symbol(module.get(), 1, 0, &symbol),
                      WINNOW_STATUS_OUT_OF_RANGE,
                      "symbol index 0 is out of range (function 'ragged' has "
                      "0 symbols)");
  ASSERT_WINNOW_OK(winnow_module_get_result(module.get(), 1, 0, &spec));
  EXPECT_STREQ(spec.name, "indices");
  EXPECT_EQ(spec.count_result, 1);
  EXPECT_EQ(spec.ragged_axis, 1);
  ASSERT_WINNOW_OK(winnow_module_get_input(module.get(), 4, 0, &spec));
  EXPECT_EQ(spec.rank, 0u);
  EXPECT_EQ(spec.shape, nullptr);
  EXPECT_WINNOW_ERROR(winnow_module_get_result(module.get(), 1, 2, &spec),
                      WINNOW_STATUS_OUT_OF_RANGE,
                      "result index 2 is out of range (function 'ragged' has "
                      "2 results)");
  EXPECT_WINNOW_ERROR(winnow_module_get_function(module.get(), 6, &fn),
                      WINNOW_STATUS_OUT_OF_RANGE, "function index 6");
}

TEST(ArtifactValidation, LoadMemoryCopies) {
  std::vector<uint8_t> bytes = buildArtifact(addOneArtifact(addOneSharedObject()));
  ModulePtr module;
  ASSERT_WINNOW_OK(load(bytes, module));
  std::fill(bytes.begin(), bytes.end(), 0);
  winnow_function_info fn;
  ASSERT_WINNOW_OK(winnow_module_get_function(module.get(), 0, &fn));
  EXPECT_STREQ(fn.name, "add_one");
}

TEST(ArtifactValidation, RetainRelease) {
  ModulePtr module;
  ASSERT_WINNOW_OK(load(buildArtifact(addOneArtifact(addOneSharedObject())), module));
  winnow_module_retain(module.get());
  winnow_module_release(module.get());
  winnow_module_info info;
  EXPECT_WINNOW_OK(winnow_module_get_info(module.get(), &info));
  winnow_module_release(nullptr);
}

TEST(ArtifactValidation, WrongIdentifier) {
  std::vector<uint8_t> bytes = buildArtifact(addOneArtifact(addOneSharedObject()));
  std::memcpy(bytes.data() + 4, "NOPE", 4);
  ModulePtr module;
  EXPECT_WINNOW_ERROR(load(bytes, module), WINNOW_STATUS_INVALID_ARGUMENT,
                      "not a Winnow artifact: file identifier is 'NOPE', "
                      "expected 'WNNW'");
  bytes[5] = 0x01;
  EXPECT_WINNOW_ERROR(load(bytes, module), WINNOW_STATUS_INVALID_ARGUMENT,
                      "'N\\x01PE'");
}

TEST(ArtifactValidation, EmptyAndTiny) {
  ModulePtr module;
  EXPECT_WINNOW_ERROR(load(std::vector<uint8_t>{}, module),
                      WINNOW_STATUS_DATA_LOSS, "too small (0 bytes)");
  EXPECT_WINNOW_ERROR(load(std::vector<uint8_t>{1, 2, 3}, module),
                      WINNOW_STATUS_DATA_LOSS, "too small (3 bytes)");
}

TEST(ArtifactValidation, TruncatedAtManyLengths) {
  std::vector<uint8_t> bytes = buildArtifact(testEntriesArtifact(entriesSo()));
  // A FlatBuffer does not record its length, and the builder pads its end to
  // the buffer's alignment (at most 8), so dropping only that padding leaves
  // a complete artifact. Every shorter prefix loses referenced data.
  constexpr size_t kMaxTailPadding = 7;
  for (size_t length = 0; length < bytes.size(); ++length) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + length);
    ModulePtr module;
    StatusResult status(load(prefix, module));
    if (length + kMaxTailPadding >= bytes.size() && status.ok())
      continue;
    EXPECT_FALSE(status.ok()) << "length " << length;
    EXPECT_EQ(status.code(), WINNOW_STATUS_DATA_LOSS)
        << "length " << length << ": " << status.message();
  }
}

/// Flips bits of a good artifact `trials` times; with `reseal`, writes a
/// correct digest after each change so the flips reach the manifest and
/// code checks behind it. Returns how many changed files loaded.
int flipBitsAndLoad(bool reseal, int trials,
                    const std::vector<uint8_t> &original) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> position(0, original.size() * 8 - 1);
  int accepted = 0;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<uint8_t> bytes = original;
    int flips = 1 + trial % 4;
    for (int f = 0; f < flips; ++f) {
      size_t bit = position(rng);
      bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
    if (reseal)
      winnow::support::sealArtifact(bytes.data(), bytes.size());
    ModulePtr module;
    StatusResult status(load(bytes, module));
    if (!status.ok()) {
      EXPECT_FALSE(status.message().empty());
      continue;
    }
    // Whatever was accepted must be fully introspectable.
    ++accepted;
    winnow_module_info info;
    EXPECT_WINNOW_OK(winnow_module_get_info(module.get(), &info));
    for (size_t f = 0; f < info.num_functions; ++f) {
      winnow_function_info fn;
      EXPECT_WINNOW_OK(winnow_module_get_function(module.get(), f, &fn));
      for (size_t s = 0; s < fn.num_symbols; ++s) {
        winnow_symbol_info symbol;
        EXPECT_WINNOW_OK(winnow_module_get_symbol(module.get(), f, s, &symbol));
        EXPECT_GE(symbol.bound, 0);
      }
      for (size_t i = 0; i < fn.num_results; ++i) {
        winnow_tensor_spec spec;
        EXPECT_WINNOW_OK(winnow_module_get_result(module.get(), f, i, &spec));
        for (size_t d = 0; d < spec.rank; ++d) {
          if (spec.dim_symbols && spec.dim_symbols[d] >= 0) {
            EXPECT_EQ(spec.shape[d], -1);
            EXPECT_LT(static_cast<size_t>(spec.dim_symbols[d]), fn.num_symbols);
          } else {
            EXPECT_GE(spec.shape[d], 0);
          }
        }
      }
    }
  }
  return accepted;
}

const std::vector<uint8_t> &dynamicSo() {
  static const std::vector<uint8_t> bytes =
      readFileBytes(WINNOW_TEST_DYNAMIC_SO);
  return bytes;
}

TEST(ArtifactValidation, RandomBitFlipsAreAllCaughtByTheDigest) {
  EXPECT_EQ(flipBitsAndLoad(/*reseal=*/false, 5000,
                            buildArtifact(testEntriesArtifact(entriesSo()))),
            0);
}

TEST(ArtifactValidation, RandomBitFlipsBehindTheDigestDoNotCrash) {
  // Flips in the code's bytes, padding and informational strings keep the
  // file loadable; everything else must give a status.
  EXPECT_GT(flipBitsAndLoad(/*reseal=*/true, 5000,
                            buildArtifact(testEntriesArtifact(entriesSo()))),
            0);
  // The same with symbols and dim_symbols in the manifest.
  EXPECT_GT(flipBitsAndLoad(/*reseal=*/true, 5000,
                            buildArtifact(dynamicArtifact(dynamicSo()))),
            0);
}

TEST(ArtifactValidation, Digest) {
  std::vector<uint8_t> code = addOneSharedObject();
  std::vector<uint8_t> good = buildArtifact(addOneArtifact(code));
  ModulePtr module;
  ASSERT_WINNOW_OK(load(good, module));
  // One bit inside the embedded code.
  std::vector<uint8_t> bytes = good;
  size_t inCode = std::search(bytes.begin(), bytes.end(), code.begin(),
                              code.begin() + 64) -
                  bytes.begin();
  ASSERT_LT(inCode, bytes.size());
  bytes[inCode + 100] ^= 0x10;
  EXPECT_WINNOW_ERROR(load(bytes, module), WINNOW_STATUS_DATA_LOSS,
                      "corrupt artifact: SHA-256 digest mismatch: the file "
                      "was changed or damaged after winnow-compile wrote it");
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.digest = DigestKind::Zeros;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_DATA_LOSS,
                      "SHA-256 digest mismatch");
  def.digest = DigestKind::Omitted;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_DATA_LOSS,
                      "corrupt artifact: the artifact has no SHA-256 digest");
}

TEST(ArtifactValidation, ManifestMustDescribeTheCode) {
  std::string code = "the code of target 0 (cpu " + hostTriple() + ", x86-64)";
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs[0].shape = {3, 2};
  def.functions[0].results[0].shape = {3, 2};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 'add_one': the manifest "
                      "describes 'winnow-abi 1 (f32[3,2]) -> (f32[3,2])', but " +
                          code +
                          " was compiled for 'winnow-abi 1 (f32[2,3]) -> "
                          "(f32[2,3])'");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs[0].dtype = WINNOW_DTYPE_I32;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "describes 'winnow-abi 1 (i32[2,3]) -> (f32[2,3])'");
  // ../shared/reliability/wnn_results_count_3_to_0_segv.wnn: a function
  // whose results were dropped from the manifest.
  def = testEntriesArtifact(entriesSo());
  def.functions[1].results.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged': the manifest describes 'winnow-abi "
                      "1 (f32[2,4], i32[2]) -> ()'");
  // Ragged results are part of the signature.
  def = testEntriesArtifact(entriesSo());
  def.functions[1].results[0].countResult = -1;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "-> (i32[2,4], i32[2])', but");
  // A manifest that lost functions: the code describes entry points the
  // manifest does not list (found by winnow-mutate-artifacts --reseal).
  def = testEntriesArtifact(entriesSo());
  def.functions.erase(def.functions.begin() + 1);
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      code + " defines the entry point 'ragged', which the "
                             "manifest does not list");
  def.functions.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: the manifest lists no functions");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].name = "not_there";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      code + " does not define the entry point "
                             "'__winnow_entry_not_there' of function "
                             "'not_there'");
}

TEST(ArtifactValidation, CodeThatIsNotASharedObject) {
  EXPECT_WINNOW_ERROR(load(addOneArtifact({'j', 'u', 'n', 'k'})),
                      WINNOW_STATUS_DATA_LOSS,
                      "corrupt artifact: the code of target 0 (cpu " +
                          hostTriple() +
                          ", x86-64) is not a readable shared object: "
                          "missing ELF header");
  std::vector<uint8_t> so = addOneSharedObject();
  so.resize(sizeof(uint64_t) * 8);
  EXPECT_WINNOW_ERROR(load(addOneArtifact(so)), WINNOW_STATUS_DATA_LOSS,
                      "is not a readable shared object: the section header "
                      "table is outside the file");
}

TEST(ArtifactValidation, NamesAndTextAreChecked) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  // ../shared/reliability/wnn_embedded_nul_function_name.wnn
  def.functions[0].name = std::string("add_one\0evil", 12);
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 0 name contains the control "
                      "character 0x00 at byte 7");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].results[0].name = "y\n";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' result 0 name contains the control "
                      "character 0x0a at byte 1");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs[0].name = std::string(1025, 'x');
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' input 0 name is 1025 bytes long (at "
                      "most 1024)");
  def = addOneArtifact(addOneSharedObject());
  def.producer = std::string("winnow\0", 7);
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "producer contains the control character 0x00");
  def = addOneArtifact(addOneSharedObject());
  def.targets[0].cpu = "x86-64\x7f";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cpu): cpu contains the control character "
                      "0x7f");
  // Non-ASCII UTF-8 is fine in informational text.
  def = addOneArtifact(addOneSharedObject());
  def.sourceName = "pr\xc3\xbc" "fung.mlir";
  EXPECT_WINNOW_OK(load(def));
}

TEST(ArtifactValidation, ExtentsAndCountsAreBounded) {
  // ../shared/reliability/wnn_huge_result_extent_oom.wnn
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions[0].results[0].shape = {576460752303423496};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' result 0 'y': 576460752303423496xf32 "
                      "is 2305843009213693984 bytes, above the limit of 1 TiB");
  def.functions[0].results[0].shape = {std::vector<int64_t>(17, 1)};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' result 0 'y': rank 17 is above the "
                      "limit of 16");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs.assign(1025, def.functions[0].inputs[0]);
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' has 1025 inputs (at most 1024)");
}

TEST(ArtifactValidation, ReliabilityReproducersOfFormat1) {
  // The damaged files of ../shared/reliability were written in format 1,
  // which had no digest and no ABI descriptors: refused by version.
  for (const char *name :
       {"wnn_code_bitflip_heap_overflow.wnn", "wnn_embedded_nul_function_name.wnn",
        "wnn_huge_result_extent_oom.wnn", "wnn_results_count_3_to_0_segv.wnn"}) {
    std::vector<uint8_t> bytes =
        readFileBytes(std::string(WINNOW_TEST_DATA_DIR "/reliability/") + name);
    ModulePtr module;
    EXPECT_WINNOW_ERROR(load(bytes, module), WINNOW_STATUS_UNIMPLEMENTED,
                        "unsupported artifact format version 1 (this runtime "
                        "reads format 2.x)");
  }
}

TEST(ArtifactValidation, UnsupportedFormatMajor) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.formatMajor = 3;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_UNIMPLEMENTED,
                      "unsupported artifact format version 3 (this runtime "
                      "reads format 2.x)");
  def.formatMajor = 1;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_UNIMPLEMENTED,
                      "format version 1");
  def.formatMajor = 0;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_UNIMPLEMENTED,
                      "format version 0");
}

TEST(ArtifactValidation, NewerMinorIsAccepted) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.formatMinor = 7;
  ModulePtr module;
  ASSERT_WINNOW_OK(load(buildArtifact(def), module));
  winnow_module_info info;
  ASSERT_WINNOW_OK(winnow_module_get_info(module.get(), &info));
  EXPECT_EQ(info.format_minor, 7u);
}

TEST(ArtifactValidation, NegativeExtent) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs[0].shape = {2, -3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 'add_one' input 0 'x': "
                      "negative extent -3 in dimension 1");
}

TEST(ArtifactValidation, OverflowingShape) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions[0].results[0].shape = {INT64_MAX / 2, 4};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "overflows the address space");
}

TEST(ArtifactValidation, MissingNamesAndShapes) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions[0].omitName = true;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 0: missing name");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].results[0].omitName = true;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' result 0: missing name");
  def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs[0].omitShape = true;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' input 0 'x': missing shape");
}

TEST(ArtifactValidation, UnknownDType) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions[0].inputs[0].rawDType = 9;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "unknown dtype value 9");
}

TEST(ArtifactValidation, DuplicateFunction) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.functions.push_back(def.functions[0]);
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "duplicate function name 'add_one'");
}

TEST(ArtifactValidation, BadCountResult) {
  auto ragged = [] {
    ArtifactDef def = testEntriesArtifact(entriesSo());
    def.functions = {def.functions[1]};
    return def;
  };
  ArtifactDef def = ragged();
  def.functions[0].results[0].countResult = 2;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' result 0 'indices': count_result 2 "
                      "is out of range (the function has 2 results)");
  def.functions[0].results[0].countResult = -2;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "count_result -2 is out of range");
  def.functions[0].results[0].countResult = 0;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "points at the result itself");

  def = ragged();
  def.functions[0].results[1].dtype = WINNOW_DTYPE_I64;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "count_result 1 must point at a 2xi32 result, but "
                      "'count' is 2xi64");
  def = ragged();
  def.functions[0].results[1].shape = {3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "must point at a 2xi32 result, but 'count' is 3xi32");
  def = ragged();
  def.functions[0].results[0].shape = {2};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "a ragged result needs rank >= 2");
  def = ragged();
  def.functions[0].results[0].raggedAxis = 2;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "ragged_axis 2 must be in [1, 2)");
  def = ragged();
  def.functions[0].results[0].raggedAxis = 0;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "ragged_axis 0 must be in [1, 2)");
  def = ragged();
  def.functions[0].inputs[0].countResult = 1;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "input 0 'scores': count_result 1 is only allowed on "
                      "results");
}

TEST(ArtifactValidation, BadTargets) {
  ArtifactDef def = addOneArtifact(addOneSharedObject());
  def.targets[0].omitBinary = true;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 has no binary");
  def = addOneArtifact(addOneSharedObject());
  def.targets[0].triple = "";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cpu): missing target triple");
  def = addOneArtifact({});
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cpu): missing shared object");
}

TEST(ArtifactValidation, LoadFileErrors) {
  winnow_module *module = nullptr;
  EXPECT_WINNOW_ERROR(
      winnow_module_load_file("/nonexistent/dir/x.wnn", &module),
      WINNOW_STATUS_NOT_FOUND,
      "cannot open artifact '/nonexistent/dir/x.wnn': No such file");
  EXPECT_WINNOW_ERROR(winnow_module_load_file("/", &module),
                      WINNOW_STATUS_INVALID_ARGUMENT, "Is a directory");
  EXPECT_EQ(module, nullptr);
}

TEST(ArtifactValidation, LoadFileNamesThePathInErrors) {
  std::string path = ::testing::TempDir() + "/bad_identifier.wnn";
  std::vector<uint8_t> bytes = buildArtifact(addOneArtifact(addOneSharedObject()));
  std::memcpy(bytes.data() + 4, "ABCD", 4);
  ASSERT_TRUE(writeFileBytes(path, bytes));
  winnow_module *module = nullptr;
  EXPECT_WINNOW_ERROR(winnow_module_load_file(path.c_str(), &module),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      path + ": not a Winnow artifact");
}

} // namespace

namespace {

using namespace winnow::testing;

const std::vector<uint8_t> &cudaHostSo() {
  static const std::vector<uint8_t> bytes = readFileBytes(WINNOW_TEST_CUDA_HOST);
  return bytes;
}

ArtifactDef cudaDef() { return cudaTestArtifact(cudaHostSo()); }

TEST(ArtifactValidation, CudaTargetIntrospection) {
  ArtifactDef def = cudaDef();
  ModulePtr module;
  ASSERT_WINNOW_OK(load(buildArtifact(def), module));
  winnow_module_info info;
  ASSERT_WINNOW_OK(winnow_module_get_info(module.get(), &info));
  EXPECT_EQ(info.format_minor, 0u);
  winnow_target_info target;
  ASSERT_WINNOW_OK(winnow_module_get_target(module.get(), 0, &target));
  EXPECT_EQ(target.kind, WINNOW_TARGET_KIND_CUDA);
  EXPECT_EQ(target.triple, hostTriple());
  EXPECT_STREQ(target.cpu, "x86-64");
  EXPECT_EQ(target.binary_size, cudaHostSo().size());
  EXPECT_EQ(target.cuda_abi_version, 1u);
  ASSERT_EQ(target.num_cubin_architectures, 2u);
  EXPECT_STREQ(target.cubin_architectures[0], "sm_80");
  EXPECT_STREQ(target.cubin_architectures[1], "sm_90");
  EXPECT_STREQ(target.ptx_architecture, "sm_90");
  ASSERT_EQ(target.num_kernels, 2u);
  EXPECT_STREQ(target.kernels[0], "add_kernel");

  // A CPU target reports no CUDA fields.
  ASSERT_WINNOW_OK(load(buildArtifact(addOneArtifact(addOneSharedObject())), module));
  ASSERT_WINNOW_OK(winnow_module_get_target(module.get(), 0, &target));
  EXPECT_EQ(target.cuda_abi_version, 0u);
  EXPECT_EQ(target.num_kernels, 0u);
  EXPECT_EQ(target.kernels, nullptr);
  EXPECT_STREQ(target.ptx_architecture, "");
}

TEST(ArtifactValidation, BadCudaTargets) {
  ArtifactDef def = cudaDef();
  def.targets[0].triple = "";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cuda): missing host target triple");
  def = cudaTestArtifact({});
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cuda): missing host shared object");
  def = cudaDef();
  def.targets[0].cudaAbiVersion = 0;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cuda): missing CUDA host ABI version");
  def = cudaDef();
  def.targets[0].cubinArchitectures = {"sm_80", ""};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cuda): cubin architecture 1 is empty");
  def.targets[0].cubinArchitectures = {"compute_80"};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "cubin architecture 'compute_80' is not of the form "
                      "sm_<major><minor>");
  def = cudaDef();
  def.targets[0].ptxArchitecture = "sm_9";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "PTX architecture 'sm_9' is not of the form");
  def = cudaDef();
  def.targets[0].cubinArchitectures = {};
  def.targets[0].ptxArchitecture = "";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cuda): no device code");
  def = cudaDef();
  def.targets[0].kernels = {"k", ""};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "target 0 (cuda): kernel name 1 is empty");
  // A different, non-zero ABI version loads (the CPU targets of the artifact
  // stay usable); binding refuses it.
  def = cudaDef();
  def.targets[0].cudaAbiVersion = 2;
  EXPECT_WINNOW_OK(load(def));
  def.targets[0].cubinArchitectures = {"sm_90a", "sm_100f"};
  EXPECT_WINNOW_OK(load(def));
}

TEST(ArtifactValidation, WorkspaceSizes) {
  // One per function, each -1 (unknown) or a byte count up to 2^40.
  ArtifactDef def = cudaDef();
  def.targets[0].workspaceBytes = {256, 256};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "lists 2 workspace sizes for 5 functions");
  def.targets[0].workspaceBytes = {256, -2, 0, -1, 0};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "workspace size -2 of function 'add_two_big_smem' "
                      "(expected -1 or 0..1099511627776)");
  def.targets[0].workspaceBytes = {int64_t(1) << 41, 0, 0, 0, 0};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "workspace size 2199023255552 of function 'add_one'");
  def.targets[0].workspaceBytes = {256, 256, 256, -1, 0};
  ModulePtr module;
  ASSERT_WINNOW_OK(load(buildArtifact(def), module));
  winnow_target_info target;
  ASSERT_WINNOW_OK(winnow_module_get_target(module.get(), 0, &target));
  ASSERT_NE(target.workspace_bytes, nullptr);
  EXPECT_EQ(target.workspace_bytes[0], 256);
  EXPECT_EQ(target.workspace_bytes[3], -1);
  // Absent (an artifact from before workspace sizes): all unknown.
  ASSERT_WINNOW_OK(load(buildArtifact(cudaDef()), module));
  ASSERT_WINNOW_OK(winnow_module_get_target(module.get(), 0, &target));
  for (int f = 0; f < 5; ++f)
    EXPECT_EQ(target.workspace_bytes[f], -1);
}

} // namespace

namespace {

//===----------------------------------------------------------------------===//
// Dynamic extents (format 2.1)
//===----------------------------------------------------------------------===//

TEST(ArtifactValidation, DynamicExtentsIntrospection) {
  ModulePtr module;
  ASSERT_WINNOW_OK(load(buildArtifact(dynamicArtifact(dynamicSo())), module));
  winnow_module_info info;
  ASSERT_WINNOW_OK(winnow_module_get_info(module.get(), &info));
  EXPECT_EQ(info.format_major, 2u);
  EXPECT_EQ(info.format_minor, 1u);
  EXPECT_EQ(info.num_functions, 3u);

  winnow_function_info fn;
  ASSERT_WINNOW_OK(winnow_module_get_function(module.get(), 2, &fn));
  EXPECT_STREQ(fn.name, "outer");
  ASSERT_EQ(fn.num_symbols, 2u);
  winnow_symbol_info symbol;
  ASSERT_WINNOW_OK(winnow_module_get_symbol(module.get(), 2, 0, &symbol));
  EXPECT_STREQ(symbol.name, "m");
  EXPECT_EQ(symbol.bound, 3);
  ASSERT_WINNOW_OK(winnow_module_get_symbol(module.get(), 2, 1, &symbol));
  EXPECT_STREQ(symbol.name, "n");
  EXPECT_EQ(symbol.bound, 5);
  EXPECT_WINNOW_ERROR(winnow_module_get_symbol(module.get(), 2, 2, &symbol),
                      WINNOW_STATUS_OUT_OF_RANGE,
                      "symbol index 2 is out of range (function 'outer' has 2 "
                      "symbols)");
  EXPECT_WINNOW_ERROR(winnow_module_get_symbol(module.get(), 3, 0, &symbol),
                      WINNOW_STATUS_OUT_OF_RANGE, "function index 3");
  EXPECT_WINNOW_ERROR(winnow_module_get_symbol(module.get(), 2, 0, nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "argument 'out_info' is null");

  winnow_tensor_spec spec;
  ASSERT_WINNOW_OK(winnow_module_get_result(module.get(), 2, 0, &spec));
  EXPECT_STREQ(spec.name, "c");
  ASSERT_EQ(spec.rank, 2u);
  EXPECT_EQ(spec.shape[0], -1);
  EXPECT_EQ(spec.shape[1], -1);
  ASSERT_NE(spec.dim_symbols, nullptr);
  EXPECT_EQ(spec.dim_symbols[0], 0);
  EXPECT_EQ(spec.dim_symbols[1], 1);
  ASSERT_WINNOW_OK(winnow_module_get_input(module.get(), 1, 0, &spec));
  EXPECT_STREQ(spec.name, "scores");
  EXPECT_EQ(spec.shape[0], -1);
  EXPECT_EQ(spec.shape[1], 4);
  ASSERT_NE(spec.dim_symbols, nullptr);
  EXPECT_EQ(spec.dim_symbols[0], 0);
  EXPECT_EQ(spec.dim_symbols[1], -1);
  ASSERT_WINNOW_OK(winnow_module_get_result(module.get(), 1, 0, &spec));
  EXPECT_EQ(spec.count_result, 1);
}

/// dynamicArtifact() with only the function `name`, for the corruption
/// cases below (each keeps the code, so only the manifest is wrong).
ArtifactDef dynamicFunction(const std::string &name) {
  ArtifactDef def = dynamicArtifact(dynamicSo());
  for (const FunctionDef &function : def.functions)
    if (function.name == name) {
      def.functions = {function};
      return def;
    }
  std::abort();
}

TEST(ArtifactValidation, DimSymbolsMustMatchTheShape) {
  ArtifactDef def = dynamicFunction("add_one_rows");
  def.functions[0].inputs[0].dimSymbols = {0};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 'add_one_rows' input 0 "
                      "'x': dim_symbols has 1 entries for rank 2");
  // A dynamic extent without a symbol, with dim_symbols absent or -1 there.
  def = dynamicFunction("add_one_rows");
  def.functions[0].inputs[0].dimSymbols.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows' input 0 'x': dimension 0 is "
                      "dynamic (-1) but dim_symbols names no symbol for it");
  def = dynamicFunction("add_one_rows");
  def.functions[0].results[0].dimSymbols = {-1, -1};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows' result 0 'y': dimension 0 is "
                      "dynamic (-1) but dim_symbols names no symbol for it");
  // A symbol named by a static extent.
  def = dynamicFunction("add_one_rows");
  def.functions[0].results[0].shape = {4, 3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows' result 0 'y': dimension 0 "
                      "names the symbol 'batch' but its extent is 4 (a "
                      "dynamic extent is -1)");
  def = dynamicFunction("add_one_rows");
  def.functions[0].inputs[0].dimSymbols = {0, 0};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "input 0 'x': dimension 1 names the symbol 'batch' but "
                      "its extent is 3");
  // Symbol indices out of range, both ways.
  def = dynamicFunction("add_one_rows");
  def.functions[0].inputs[0].dimSymbols = {1, -1};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows' input 0 'x': dim_symbols[0] is "
                      "1, out of range (function 'add_one_rows' has 1 "
                      "symbols)");
  def.functions[0].inputs[0].dimSymbols = {-2, -1};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "dim_symbols[0] is -2, out of range");
  // dim_symbols without any symbol.
  def = dynamicFunction("add_one_rows");
  def.functions[0].symbols.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "input 0 'x': dim_symbols[0] is 0, out of range "
                      "(function 'add_one_rows' has 0 symbols)");
  // Other negative extents keep their message.
  def = dynamicFunction("add_one_rows");
  def.functions[0].inputs[0].shape = {-1, -3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "input 0 'x': negative extent -3 in dimension 1");
}

TEST(ArtifactValidation, SymbolsAreChecked) {
  ArtifactDef def = dynamicFunction("outer");
  def.functions[0].symbols[0].omitName = true;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 'outer' symbol 0: missing "
                      "name");
  def.functions[0].symbols[0] = {"", 3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'outer' symbol 0: missing name");
  def.functions[0].symbols[0] = {std::string(1025, 'm'), 3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'outer' symbol 0 name is 1025 bytes long (at "
                      "most 1024)");
  def.functions[0].symbols[0] = {std::string("m\0n", 3), 3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'outer' symbol 0 name contains the control "
                      "character 0x00 at byte 1");
  def.functions[0].symbols[1] = {"m", 5};
  def.functions[0].symbols[0] = {"m", 3};
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 'outer': duplicate symbol "
                      "name 'm'");
  def = dynamicFunction("outer");
  def.functions[0].symbols[1].bound = -1;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'outer' symbol 1 'n': negative bound -1");
  // A bound of 0 is valid (every call is empty); the code was compiled for
  // another bound, which the ABI descriptor catches.
  def.functions[0].symbols[1].bound = 0;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'outer': the manifest describes 'winnow-abi 1 "
                      "[m<=3, n<=0] (f32[m], f32[n]) -> (f32[m,n])', but the "
                      "code of target 0 (cpu " +
                          hostTriple() +
                          ", x86-64) was compiled for 'winnow-abi 1 [m<=3, "
                          "n<=5] (f32[m], f32[n]) -> (f32[m,n])'");
}

TEST(ArtifactValidation, EverySymbolIsAnInputExtent) {
  // n named only by the result: no call could bind it.
  ArtifactDef def = dynamicFunction("outer");
  def.functions[0].inputs[1].shape = {5};
  def.functions[0].inputs[1].dimSymbols.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "invalid artifact: function 'outer' symbol 1 'n' is the "
                      "extent of no input (a call could not bind it)");
  // A symbol nothing names.
  def = dynamicFunction("add_one_rows");
  def.functions[0].symbols.push_back({"unused", 7});
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows' symbol 1 'unused' is the "
                      "extent of no input");
}

TEST(ArtifactValidation, DynamicTensorsAreBoundedAtTheirBounds) {
  ArtifactDef def = dynamicFunction("add_one_rows");
  def.functions[0].symbols[0].bound = int64_t(1) << 40;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows' input 0 'x': batchx3xf32 "
                      "(1099511627776x3xf32 at the bounds) is 13194139533312 "
                      "bytes, above the limit of 1 TiB");
  def.functions[0].symbols[0].bound = INT64_MAX;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "input 0 'x': tensor size batchx3xf32 "
                      "(9223372036854775807x3xf32 at the bounds) overflows "
                      "the address space");
}

TEST(ArtifactValidation, DynamicCountResults) {
  // The count of a ragged result whose batch is dynamic has that symbol.
  ArtifactDef def = dynamicFunction("keep_first");
  def.functions[0].results[1].shape = {4};
  def.functions[0].results[1].dimSymbols.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'keep_first' result 0 'indices': count_result "
                      "1 must point at a batchxi32 result, but 'count' is "
                      "4xi32");
  def = dynamicFunction("keep_first");
  def.functions[0].results[0].raggedAxis = 2;
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "ragged_axis 2 must be in [1, 2) for batchx4xi32");
}

TEST(ArtifactValidation, DynamicExtentsMustMatchTheCode) {
  // The code names batch in x; a manifest with a static extent there
  // describes another entry point.
  ArtifactDef def = dynamicFunction("add_one_rows");
  for (TensorDef *tensor :
       {&def.functions[0].inputs[0], &def.functions[0].results[0]}) {
    tensor->shape = {4, 3};
    tensor->dimSymbols.clear();
  }
  def.functions[0].symbols.clear();
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one_rows': the manifest describes "
                      "'winnow-abi 1 (f32[4,3]) -> (f32[4,3])', but");
  def = dynamicFunction("add_one_rows");
  def.functions[0].symbols[0].name = "rows";
  EXPECT_WINNOW_ERROR(load(def), WINNOW_STATUS_INVALID_ARGUMENT,
                      "describes 'winnow-abi 1 [rows<=4] (f32[rows,3]) -> "
                      "(f32[rows,3])', but");
}

} // namespace
