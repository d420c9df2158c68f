#pragma once
// A client's request as duet-router holds it from its header to the engine: the head's bytes
// as they came, copied once, with each field a view into them, and the body read whole.
// Beast's message kept each field in a node of its own, allocated, in an ordered set:
// allocating, filling and freeing those nodes was a tenth of a proxied request's
// instructions (callgrind, bench/README.md). Made by RequestParser (request_parser.h).

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace duet::router {

// One header field: Beast's enumerator for its name (unknown for a name Beast has none for),
// the name as the client wrote it, and the value without the whitespace around it.
class HeadField {
 public:
  HeadField(boost::beast::http::field name, std::string_view name_string, std::string_view value)
      : name_(name), name_string_(name_string), value_(value) {}

  boost::beast::http::field name() const noexcept { return name_; }
  std::string_view name_string() const noexcept { return name_string_; }
  std::string_view value() const noexcept { return value_; }

 private:
  boost::beast::http::field name_;
  std::string_view name_string_;
  std::string_view value_;
};

class ProxyRequest {
 public:
  using Fields = std::span<const HeadField>;

  ProxyRequest() = default;
  // Moves keep every view: the head's bytes stay where they are. A copy rebases them.
  ProxyRequest(ProxyRequest&&) noexcept = default;
  ProxyRequest& operator=(ProxyRequest&&) noexcept = default;
  ProxyRequest(const ProxyRequest& other);
  ProxyRequest& operator=(const ProxyRequest& other);

  boost::beast::http::verb method() const noexcept { return method_; }
  std::string_view method_string() const noexcept { return method_string_; }
  std::string_view target() const noexcept {
    return target_override_ ? *target_override_ : target_;
  }
  // A resumed stream goes to another path than the client's (upstream_relay_impl.h).
  void target(std::string_view target) { target_override_.emplace(target); }
  unsigned version() const noexcept { return version_; }  // 10 or 11
  Fields fields() const noexcept { return {fields_, field_count_}; }
  std::string& body() noexcept { return body_; }
  const std::string& body() const noexcept { return body_; }

 private:
  friend class RequestParser;
  // One block: the fields, then the head's bytes they view.
  std::unique_ptr<std::byte[]> block_;
  std::size_t block_size_ = 0;
  const HeadField* fields_ = nullptr;
  std::size_t field_count_ = 0;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string_view method_string_;
  std::string_view target_;
  std::optional<std::string> target_override_;
  unsigned version_ = 11;
  std::string body_;
};

}  // namespace duet::router
