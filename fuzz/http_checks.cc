#include "http_checks.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cctype>

#include "duet/common/hash.h"

namespace duet::fuzz {

FieldList grouped_as_beast(const FieldList& fields) {
  FieldList out;
  for (const auto& field : fields) {
    auto last = std::find_if(out.rbegin(), out.rend(),
                             [&](const auto& f) { return iequal(f.first, field.first); });
    out.insert(last == out.rend() ? out.end() : last.base(), field);
  }
  return out;
}

bool beast_refuses_what_is_dropped(boost::system::error_code ec, bool chunked) {
  namespace http = boost::beast::http;
  return ec == http::error::bad_chunk_extension ||
         (chunked && (ec == http::error::bad_transfer_encoding ||
                      ec == http::error::bad_content_length ||
                      ec == http::error::multiple_content_length || ec == http::error::bad_value ||
                      ec == http::error::bad_field));
}

std::string to_text(const FieldList& fields) {
  std::string out;
  for (const auto& [name, value] : fields)
    out.append(name).append(": ").append(value).append(" | ");
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool listed_in(std::string_view name, std::string_view list) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (iequal(trim(list.substr(0, comma)), name)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool is_hop_by_hop(std::string_view name, const FieldList& message) {
  for (std::string_view fixed :
       {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"})
    if (iequal(name, fixed)) return true;
  for (const auto& [field, value] : message)
    if (iequal(field, "connection") && listed_in(name, value)) return true;
  return false;
}

uint64_t input_hash(std::string_view input) { return fnv1a(input); }

std::vector<std::size_t> cut_points(uint64_t hash, std::size_t size) {
  std::vector<std::size_t> offsets;
  if (size < 2 * kMinRead) return offsets;
  for (int i = 0; i < 3; ++i, hash >>= 16)
    offsets.push_back(kMinRead + (hash & 0xffff) % (size - 2 * kMinRead + 1));
  std::sort(offsets.begin(), offsets.end());
  std::vector<std::size_t> cuts;  // in [kMinRead, size - kMinRead], kMinRead apart
  for (std::size_t at : offsets)
    if (cuts.empty() || at >= cuts.back() + kMinRead) cuts.push_back(at);
  return cuts;
}

std::vector<std::string_view> cut(std::string_view bytes, const std::vector<std::size_t>& cuts) {
  std::vector<std::string_view> pieces;
  std::size_t from = 0;
  for (std::size_t at : cuts) {
    pieces.push_back(bytes.substr(from, at - from));
    from = at;
  }
  pieces.push_back(bytes.substr(from));
  return pieces;
}

}  // namespace duet::fuzz
