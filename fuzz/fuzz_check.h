#pragma once
// What every fuzz target shares: the check that ends a run when a property the code must
// keep breaks. abort() is what libFuzzer and fuzz/driver_main.cc report as a finding, with
// the input that caused it saved for replay.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace duet::fuzz {

[[noreturn]] inline void fail(const char* check, std::string_view detail) {
  std::fprintf(stderr, "fuzz check failed: %s\n  %.*s\n", check, static_cast<int>(detail.size()),
               detail.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace duet::fuzz

// `detail` (anything convertible to std::string_view) says what differed.
#define DUET_FUZZ_CHECK(condition, detail)                    \
  do {                                                        \
    if (!(condition)) ::duet::fuzz::fail(#condition, detail); \
  } while (0)
