#pragma once
// A client's request as duet-router holds it from its header to the engine: the head
// (message_head.h) and the body read whole. Made by RequestParser (request_parser.h).

#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "router/message_head.h"

namespace duet::router {

class ProxyRequest : public MessageHead {
 public:
  ProxyRequest() = default;
  ProxyRequest(ProxyRequest&&) noexcept = default;
  ProxyRequest& operator=(ProxyRequest&&) noexcept = default;
  ProxyRequest(const ProxyRequest& other)
      : MessageHead(other),
        method_(other.method_),
        method_string_(rebased(other.method_string_, other)),
        target_(rebased(other.target_, other)),
        target_override_(other.target_override_),
        body_(other.body_) {}
  ProxyRequest& operator=(const ProxyRequest& other) { return *this = ProxyRequest(other); }

  boost::beast::http::verb method() const noexcept { return method_; }
  std::string_view method_string() const noexcept { return method_string_; }
  std::string_view target() const noexcept {
    return target_override_ ? *target_override_ : target_;
  }
  // A resumed stream goes to another path than the client's (upstream_relay_impl.h).
  void target(std::string_view target) { target_override_.emplace(target); }
  std::string& body() noexcept { return body_; }
  const std::string& body() const noexcept { return body_; }

 private:
  friend class RequestParser;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string_view method_string_;
  std::string_view target_;
  std::optional<std::string> target_override_;
  std::string body_;
};

}  // namespace duet::router
