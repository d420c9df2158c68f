#include "router/field_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http.hpp>
#include <cctype>
#include <string>

#include "router/field_name.h"

namespace duet::router {
namespace {

namespace http = boost::beast::http;

TEST(FieldScan, FindsTheFirstFieldInHeaderOrderByEnumeratorOrByText) {
  http::fields fields;
  fields.insert("X-Canary", "first");
  fields.insert(http::field::content_length, "4");
  fields.insert("x-canary", "second");
  fields.insert(http::field::content_length, "04");
  ASSERT_NE(first_field(fields, http::field::content_length), nullptr);
  EXPECT_EQ(first_field(fields, http::field::content_length)->value(), "4");
  EXPECT_EQ(field_value(fields, std::string_view("X-CANARY")), "first");
  EXPECT_EQ(field_value(fields, std::string_view("content-length")), "4");  // a known name as text
  EXPECT_EQ(first_field(fields, http::field::expect), nullptr);
  EXPECT_EQ(field_value(fields, http::field::expect), "");
  EXPECT_EQ(field_value(fields, std::string_view("x-canar")), "");
  // The same answers as Beast's own lookups.
  EXPECT_EQ(fields[http::field::content_length], field_value(fields, http::field::content_length));
  EXPECT_EQ(fields["x-canary"], field_value(fields, std::string_view("x-canary")));
}

// field_of names the fields the router acts on as Beast does, in any case, and no other.
TEST(FieldName, KnowsTheRoutersFieldsAsBeastDoesAndNoOther) {
  const http::field acted_on[] = {
      http::field::te,           http::field::host,           http::field::expect,
      http::field::upgrade,      http::field::trailer,        http::field::connection,
      http::field::keep_alive,   http::field::content_type,   http::field::authorization,
      http::field::content_length, http::field::proxy_connection, http::field::transfer_encoding,
      http::field::proxy_authorization};
  for (http::field f : acted_on) {
    std::string name(http::to_string(f));
    EXPECT_EQ(field_of(name), f) << name;
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(field_of(name), f) << name;
    name.pop_back();
    EXPECT_EQ(field_of(name), http::field::unknown) << name;
  }
  // Every other name Beast knows is unknown here.
  std::size_t others = 0;
  for (unsigned i = 1; i <= static_cast<unsigned>(http::field::xref); ++i) {
    auto f = static_cast<http::field>(i);
    if (std::find(std::begin(acted_on), std::end(acted_on), f) != std::end(acted_on)) continue;
    EXPECT_EQ(field_of(http::to_string(f)), http::field::unknown) << http::to_string(f);
    ++others;
  }
  EXPECT_GT(others, 300u);
  // Case folds only letters: '^' and '~', '_' and DEL differ by the same bit.
  EXPECT_EQ(field_of("Keep^alive"), http::field::unknown);
  EXPECT_EQ(field_of("keep_alive"), http::field::unknown);
  EXPECT_EQ(field_of(""), http::field::unknown);
  EXPECT_EQ(field_of("x-duet-decision"), http::field::unknown);
}

TEST(FieldScan, KeepAliveAsBeastDecidesIt) {
  const char* connections[] = {nullptr,          "close", "keep-alive", "Keep-Alive, Upgrade",
                               "upgrade, CLOSE", "x"};
  for (unsigned version : {10u, 11u}) {
    for (const char* connection : connections) {
      http::request<http::empty_body> request(http::verb::get, "/", version);
      if (connection) request.set(http::field::connection, connection);
      EXPECT_EQ(keeps_alive(request, version), request.keep_alive())
          << "HTTP/" << version / 10 << "." << version % 10
          << " Connection: " << (connection ? connection : "(none)");
    }
  }
}

}  // namespace
}  // namespace duet::router
