//===- ArtifactDigest.cpp - The SHA-256 digest of a .wnn artifact --------===//

#include "winnow/support/ArtifactDigest.h"

#include "winnow/artifact/winnow_artifact_generated.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <new>

namespace winnow::support {

Sha256 artifactDigest(const uint8_t *bytes, size_t size, size_t digestOffset) {
  static const uint8_t kZeros[kSha256Bytes] = {};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Sha256 digest{};
  unsigned length = 0;
  // libcrypto fails only when it cannot allocate.
  if (!context || !EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) ||
      !EVP_DigestUpdate(context.get(), bytes, digestOffset) ||
      !EVP_DigestUpdate(context.get(), kZeros, kSha256Bytes) ||
      !EVP_DigestUpdate(context.get(), bytes + digestOffset + kSha256Bytes,
                        size - digestOffset - kSha256Bytes) ||
      !EVP_DigestFinal_ex(context.get(), digest.data(), &length) ||
      length != kSha256Bytes)
    throw std::bad_alloc();
  return digest;
}

bool digestsEqual(const Sha256 &actual, const uint8_t *recorded) {
  return CRYPTO_memcmp(actual.data(), recorded, kSha256Bytes) == 0;
}

bool locateArtifactDigest(const uint8_t *bytes, size_t size,
                          size_t &digestOffset) {
  flatbuffers::Verifier verifier(bytes, size);
  if (!artifact::VerifyArtifactBuffer(verifier))
    return false;
  const flatbuffers::Vector<uint8_t> *field =
      artifact::GetArtifact(bytes)->sha256();
  if (!field || field->size() != kSha256Bytes)
    return false;
  digestOffset = static_cast<size_t>(field->data() - bytes);
  return true;
}

bool sealArtifact(uint8_t *bytes, size_t size) {
  size_t offset = 0;
  if (!locateArtifactDigest(bytes, size, offset))
    return false;
  Sha256 digest = artifactDigest(bytes, size, offset);
  std::memcpy(bytes + offset, digest.data(), kSha256Bytes);
  return true;
}

} // namespace winnow::support
