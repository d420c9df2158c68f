// Stable hashes: the same value on every run, build and machine, which std::hash does not
// promise. For what is stored (checkpoint checksums), agreed between processes (duet-sim's
// token ids) or must not move on an upgrade (which canary bucket a user falls in).
#pragma once

#include <cstdint>
#include <string_view>

namespace duet {

inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// FNV-1a of one more byte or word.
constexpr uint64_t fnv1a_step(uint64_t h, uint64_t value) { return (h ^ value) * kFnvPrime; }

// FNV-1a of `bytes`, from `h` (the offset basis unless a caller must keep an older seed).
constexpr uint64_t fnv1a(std::string_view bytes, uint64_t h = kFnvOffsetBasis) {
  for (unsigned char c : bytes) h = fnv1a_step(h, c);
  return h;
}

// Spreads every input bit over the high and low bits (the first half of MurmurHash3's
// finalizer): FNV-1a's low bits depend on few input bits, and `% n` reads only those.
constexpr uint64_t spread(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

}  // namespace duet
