// testssl.sh (Debian's package; the command is `testssl`) against duet-router's TLS listener
// with minVersion "1.2": no protocol below 1.2, TLS 1.2 suites all ECDHE + AEAD (no RSA key
// exchange, CBC, NULL, EXPORT, RC4, 3DES), no client-initiated renegotiation. About 20 s:
// ctest label `testssl`. Skipped when testssl is not installed (tools/install-deps.sh adds it).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "support/duetd_harness.h"
#include "tls_router_test.h"

namespace duet::router {
namespace {

using nlohmann::json;

// The testssl command on PATH; empty when there is none.
std::string find_testssl() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    for (const char* name : {"testssl", "testssl.sh"})
      if (auto candidate = std::filesystem::path(dir) / name; std::filesystem::exists(candidate))
        return candidate.string();
  return {};
}

// testssl's findings by id, e.g. "TLS1_1" -> "not offered".
std::map<std::string, std::string> findings(const std::filesystem::path& file) {
  std::map<std::string, std::string> out;
  for (const auto& finding : json::parse(std::ifstream(file)))
    out[finding["id"]] = finding["finding"];
  return out;
}

class RouterTestssl : public TlsRouterTest {
 protected:
  void SetUp() override {
    testssl_ = find_testssl();
    if (testssl_.empty())
      GTEST_SKIP() << "testssl is not installed (Debian package testssl.sh; tools/install-deps.sh)";
    TlsRouterTest::SetUp();
  }
  std::string testssl_;
};

TEST_F(RouterTestssl, FindsNoOldProtocolNoWeakCipherAndNoRenegotiation) {
  auto report = dir_ / "testssl.json";
  // Only the checks that matter here; --fast uses the local openssl for the cipher list.
  auto run = duet::test::run_command(
      {testssl_, "--quiet", "--fast", "--color", "0", "--warnings", "off", "--protocols", "--std",
       "--renegotiation", "--cipher-per-proto", "--jsonfile", report.string(),
       "127.0.0.1:" + std::to_string(port())},
      {}, std::chrono::seconds(100));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto found = findings(report);

  for (const char* protocol : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"})
    EXPECT_EQ(found[protocol], "not offered") << protocol;
  EXPECT_EQ(found["TLS1_2"], "offered");
  EXPECT_TRUE(found["TLS1_3"].starts_with("offered")) << found["TLS1_3"];

  for (const char* weak : {"cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT",
                           "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"})
    EXPECT_EQ(found[weak], "not offered") << weak << " (AVERAGE: CBC)";
  EXPECT_EQ(found["cipherlist_STRONG"], "offered");

  // Each TLS 1.2 suite taken: "TLS 1.2  xc02f  ECDHE-RSA-AES128-GCM-SHA256  ECDH 253  AESGCM ...".
  int tls12 = 0;
  for (const auto& [id, finding] : found) {
    if (!id.starts_with("cipher-")) continue;
    EXPECT_TRUE(id.starts_with("cipher-tls1_2_") || id.starts_with("cipher-tls1_3_")) << finding;
    if (!id.starts_with("cipher-tls1_2_")) continue;
    ++tls12;
    std::istringstream fields(finding);
    std::string tls, version, hex, name, exchange, bits, cipher;
    fields >> tls >> version >> hex >> name >> exchange >> bits >> cipher;
    EXPECT_EQ(exchange, "ECDH") << finding;
    EXPECT_TRUE(cipher == "AESGCM" || cipher == "CHACHA20") << finding;
  }
  EXPECT_GE(tls12, 1) << run.out;

  // RFC 5746 secure renegotiation is announced (so no insecure renegotiation), and a client
  // cannot start one.
  EXPECT_EQ(found["secure_renego"], "supported");
  EXPECT_EQ(found["secure_client_renego"], "not vulnerable");
}

}  // namespace
}  // namespace duet::router
