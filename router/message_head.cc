#include "router/message_head.h"

#include <cstring>

namespace duet::router {

MessageHead::MessageHead(const MessageHead& other)
    : block_size_(other.block_size_), field_count_(other.field_count_), version_(other.version_) {
  if (!other.block_) return;
  block_ = std::make_unique_for_overwrite<std::byte[]>(block_size_);
  std::memcpy(block_.get(), other.block_.get(), block_size_);
  auto* fields = reinterpret_cast<HeadField*>(block_.get());
  for (std::size_t i = 0; i < field_count_; ++i) {
    const HeadField& field = other.fields_[i];
    fields[i] =
        HeadField(field.name(), rebased(field.name_string(), other), rebased(field.value(), other));
  }
  fields_ = fields;
}

std::string_view MessageHead::rebased(std::string_view view,
                                      const MessageHead& from) const noexcept {
  if (view.data() == nullptr || !from.block_) return view;
  auto offset = reinterpret_cast<const std::byte*>(view.data()) - from.block_.get();
  return {reinterpret_cast<const char*>(block_.get() + offset), view.size()};
}

}  // namespace duet::router
