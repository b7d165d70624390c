//===- ArtifactDigest.h - The SHA-256 digest of a .wnn artifact -*- C++ -*-===//
//
// An artifact's `sha256` field holds the SHA-256 of the whole file with the
// field's own 32 bytes read as zeros. The runtime checks it before it
// interprets anything else; tests and fuzzers use sealArtifact() to write a
// correct digest into a buffer they have changed, so that what they change
// reaches the validation behind the digest. (winnow-compile writes the
// digest with LLVM's SHA256, since the compiler does not link the runtime.)
//
// SHA-256 comes from OpenSSL's libcrypto (Debian's libssl-dev): a digest is
// not something to write by hand.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_SUPPORT_ARTIFACTDIGEST_H
#define WINNOW_SUPPORT_ARTIFACTDIGEST_H

#include <array>
#include <cstddef>
#include <cstdint>

namespace winnow::support {

inline constexpr size_t kSha256Bytes = 32;
using Sha256 = std::array<uint8_t, kSha256Bytes>;

/// SHA-256 of `bytes[0, size)` with `bytes[digestOffset, digestOffset + 32)`
/// read as zeros. Requires digestOffset + 32 <= size.
Sha256 artifactDigest(const uint8_t *bytes, size_t size, size_t digestOffset);

/// Whether `actual` equals the 32 bytes at `recorded`. Compared by
/// libcrypto (CRYPTO_memcmp), not memcmp: a coverage-guided fuzzer traces
/// the operands of memcmp in instrumented code and writes the expected
/// digest into its next input, which turns "any change fails the digest"
/// into "any change passes" (libFuzzer did so within 80 000 runs).
bool digestsEqual(const Sha256 &actual, const uint8_t *recorded);

/// Where the 32 digest bytes of an artifact are, when the buffer passes the
/// FlatBuffers verifier and has a 32-byte `sha256` field.
bool locateArtifactDigest(const uint8_t *bytes, size_t size,
                          size_t &digestOffset);

/// Writes the correct digest into an artifact in place; false (and nothing
/// written) when locateArtifactDigest() finds no digest field.
bool sealArtifact(uint8_t *bytes, size_t size);

} // namespace winnow::support

#endif // WINNOW_SUPPORT_ARTIFACTDIGEST_H
