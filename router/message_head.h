#pragma once
// A message head as duet-router holds it, a client's request or an engine's response: its
// bytes as they came, copied once, with each field a view into them. Beast's message kept
// each field in a node of its own, allocated, in an ordered set: allocating, filling and
// freeing those nodes was a tenth of a proxied request's instructions (callgrind,
// bench/README.md). Made by HeadParser (head_parser.h).

#include <boost/beast/http/field.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace duet::router {

// One header field: the enumerator of its name for the names duet-router acts on
// (field_name.h; unknown for every other name), the name as it was written, and the value
// without the whitespace around it.
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

class MessageHead {
 public:
  using Fields = std::span<const HeadField>;

  Fields fields() const noexcept { return {fields_, field_count_}; }
  unsigned version() const noexcept { return version_; }  // 10 or 11

 protected:
  MessageHead() = default;
  // Moves keep every view: the bytes stay where they are. A copy rebases them.
  MessageHead(MessageHead&&) noexcept = default;
  MessageHead& operator=(MessageHead&&) noexcept = default;
  MessageHead(const MessageHead& other);
  MessageHead& operator=(const MessageHead&) = delete;  // the derived copy rebases its views

  // What `view`, into `from`'s bytes, is in this copy of them.
  std::string_view rebased(std::string_view view, const MessageHead& from) const noexcept;

 private:
  friend class HeadParser;
  // One block: the fields, then the head's bytes they view.
  std::unique_ptr<std::byte[]> block_;
  std::size_t block_size_ = 0;
  const HeadField* fields_ = nullptr;
  std::size_t field_count_ = 0;
  unsigned version_ = 11;
};

}  // namespace duet::router
