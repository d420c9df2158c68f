#pragma once
// Handles on the fake vendor libraries (fake_dcmi.cc, fake_nvml.cc) for tests: opened by path
// first, so the plugin's own dlopen of the same path shares their state.

#include <gtest/gtest.h>

#include "deviceplugin/dynamic_library.h"

namespace duet::test {

class FakeVendorLibrary {
 public:
  explicit FakeVendorLibrary(const char* path) : lib_(deviceplugin::DynamicLibrary::open({path})) {
    EXPECT_TRUE(lib_.loaded()) << lib_.error();
  }

  // Calls the test control `name` of the fake with `args`.
  template <typename Ret = void, typename... Args>
  Ret call(const char* name, Args... args) const {
    Ret (*fn)(Args...) = nullptr;
    if (!lib_.bind(fn, name)) throw std::runtime_error(std::string("fake lacks ") + name);
    return fn(args...);
  }

 private:
  deviceplugin::DynamicLibrary lib_;
};

}  // namespace duet::test
