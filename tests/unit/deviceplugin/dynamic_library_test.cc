#include "deviceplugin/dynamic_library.h"

#include <gtest/gtest.h>

namespace duet::deviceplugin {
namespace {

TEST(DynamicLibrary, MissingLibraryCarriesEveryDlerror) {
  auto lib = DynamicLibrary::open({"/nonexistent/libone.so", "libduet-none.so.7"});
  EXPECT_FALSE(lib.loaded());
  EXPECT_EQ(lib.name(), "/nonexistent/libone.so");
  EXPECT_NE(lib.error().find("/nonexistent/libone.so"), std::string::npos);
  EXPECT_NE(lib.error().find("libduet-none.so.7"), std::string::npos);
  EXPECT_EQ(lib.symbol("anything"), nullptr);
}

TEST(DynamicLibrary, LoadsTheFirstThatOpensAndBindsSymbols) {
  auto lib = DynamicLibrary::open({"/nonexistent/libnvidia-ml.so.1", FAKE_NVML_PATH});
  ASSERT_TRUE(lib.loaded()) << lib.error();
  EXPECT_EQ(lib.name(), FAKE_NVML_PATH);
  int (*init)() = nullptr;
  EXPECT_TRUE(lib.bind(init, "nvmlInit_v2"));
  int (*absent)() = nullptr;
  EXPECT_FALSE(lib.bind(absent, "nvmlNoSuchCall"));
  EXPECT_EQ(absent, nullptr);

  DynamicLibrary moved = std::move(lib);
  EXPECT_TRUE(moved.loaded());
  EXPECT_FALSE(lib.loaded());  // NOLINT(bugprone-use-after-move): moved-from is empty
}

}  // namespace
}  // namespace duet::deviceplugin
