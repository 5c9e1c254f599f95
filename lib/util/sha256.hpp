#pragma once
// SHA-256 of a byte string, as 64 lowercase hex characters. A shard result records the sha256 of
// its scenario file's bytes so `merge` can refuse shards of different scenarios, and a scenario
// file edited since the shards ran (OpenSSL libcrypto's EVP digest does the hashing).
#include <string>
#include <string_view>

namespace llmd::util {

// "abc" -> "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" (FIPS 180-2).
std::string sha256_hex(std::string_view bytes);

}  // namespace llmd::util
