#include "router/proxy_request.h"

#include <cstring>

namespace duet::router {

namespace {

// `view` pointed into [from, from + size): the same bytes at `to`.
std::string_view rebased(std::string_view view, const std::byte* from, std::byte* to) {
  if (view.data() == nullptr) return view;
  auto offset = reinterpret_cast<const std::byte*>(view.data()) - from;
  return {reinterpret_cast<const char*>(to + offset), view.size()};
}

}  // namespace

ProxyRequest::ProxyRequest(const ProxyRequest& other)
    : block_size_(other.block_size_),
      field_count_(other.field_count_),
      method_(other.method_),
      target_override_(other.target_override_),
      version_(other.version_),
      body_(other.body_) {
  if (!other.block_) return;
  block_ = std::make_unique<std::byte[]>(block_size_);
  std::memcpy(block_.get(), other.block_.get(), block_size_);
  const std::byte* from = other.block_.get();
  auto* fields = reinterpret_cast<HeadField*>(block_.get());
  for (std::size_t i = 0; i < field_count_; ++i) {
    const HeadField& field = other.fields_[i];
    fields[i] = HeadField(field.name(), rebased(field.name_string(), from, block_.get()),
                          rebased(field.value(), from, block_.get()));
  }
  fields_ = fields;
  method_string_ = rebased(other.method_string_, from, block_.get());
  target_ = rebased(other.target_, from, block_.get());
}

ProxyRequest& ProxyRequest::operator=(const ProxyRequest& other) {
  if (this != &other) *this = ProxyRequest(other);
  return *this;
}

}  // namespace duet::router
