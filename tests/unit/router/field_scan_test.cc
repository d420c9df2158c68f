#include "router/field_scan.h"

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>

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
