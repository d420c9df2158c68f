// Which scope a node-API request needs and which scopes grant it (daemon/api/api_scope.h).
#include "daemon/api/api_scope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace duet::daemon {
namespace {

using boost::beast::http::verb;
using nlohmann::json;

TEST(ApiScope, MethodAndPathNameTheScope) {
  EXPECT_EQ(required_scope(verb::get, "/apis/v1/watch"), Scope::read);
  EXPECT_EQ(required_scope(verb::head, "/metrics"), Scope::read);
  EXPECT_EQ(required_scope(verb::post, "/apis/v1/traffic"), Scope::report);
  EXPECT_EQ(required_scope(verb::post, "/apis/v1/traffic/x"), Scope::write);
  EXPECT_EQ(required_scope(verb::post, "/apis/v1/apply"), Scope::write);
  EXPECT_EQ(required_scope(verb::delete_, "/apis/v1/routes/r"), Scope::write);
  EXPECT_EQ(required_scope(verb::put, "/anything/new"), Scope::write);  // a new endpoint writes
}

TEST(ApiScope, WriteIncludesReadAndReportAdminIncludesAll) {
  auto claims = [](const char* scope) { return json{{"scope", scope}}; };
  EXPECT_TRUE(grants(claims("duet.read"), Scope::read));
  EXPECT_FALSE(grants(claims("duet.read"), Scope::report));
  EXPECT_FALSE(grants(claims("duet.read"), Scope::write));
  EXPECT_TRUE(grants(claims("duet.read duet.report"), Scope::report));
  EXPECT_FALSE(grants(claims("duet.report"), Scope::read));
  EXPECT_TRUE(grants(claims("duet.write"), Scope::read));
  EXPECT_TRUE(grants(claims("duet.write"), Scope::report));
  EXPECT_FALSE(grants(claims("duet.write"), Scope::admin));
  for (auto s : {Scope::read, Scope::report, Scope::write, Scope::admin})
    EXPECT_TRUE(grants(claims("openid duet.admin"), s));
}

TEST(ApiScope, OnlyWholeNamesInAStringClaimCount) {
  EXPECT_FALSE(grants(json::object(), Scope::read));
  EXPECT_FALSE(grants(json{{"scope", "duet.readx"}}, Scope::read));
  EXPECT_FALSE(grants(json{{"scope", "xduet.read"}}, Scope::read));
  EXPECT_FALSE(grants(json{{"scope", "duet.read,duet.write"}}, Scope::write));
  EXPECT_FALSE(grants(json{{"scope", json::array({"duet.write"})}}, Scope::write));
  EXPECT_FALSE(grants(json{{"scope", 7}}, Scope::read));
  EXPECT_TRUE(grants(json{{"scope", "  duet.read  "}}, Scope::read));
}

}  // namespace
}  // namespace duet::daemon
