#include "daemon/api/log_follower.h"

#include <filesystem>
#include <fstream>

#include "duet/common/http_error.h"

namespace duet::daemon {

namespace {
constexpr std::chrono::milliseconds kPollEvery{200};
constexpr std::size_t kPieceBytes = 64 * 1024;
// A client that reads slower than the engine writes is not sent more until it catches up.
constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;

uint64_t size_of(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

std::string read_range(const std::string& path, uint64_t from, uint64_t to) {
  std::ifstream in(path, std::ios::binary);
  std::string data(to - from, '\0');
  in.seekg(static_cast<std::streamoff>(from));
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

// Where the last `lines` lines of `path` start.
uint64_t tail_offset(const std::string& path, uint64_t size, uint64_t lines) {
  auto text = read_range(path, 0, size);
  std::size_t seen = 0;
  auto pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;  // the final newline ends the last line
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++seen == lines) return pos;
    --pos;
  }
  return 0;
}
}  // namespace

void LogFollower::serve(std::shared_ptr<http::Exchange> exchange, std::string path, bool follow,
                        std::optional<uint64_t> tail_lines) {
  if (!std::filesystem::exists(path))
    throw HttpError(404, "no log for \"" + std::filesystem::path(path).stem().string() + "\" (no such replica)");
  auto size = size_of(path);
  uint64_t from = tail_lines ? tail_offset(path, size, *tail_lines) : 0;
  if (!follow) return exchange->reply(http::bhttp::status::ok, read_range(path, from, size), "text/plain");
  http::ResponseHeader header(http::bhttp::status::ok, 11);
  header.set(http::bhttp::field::content_type, "text/plain");
  header.set(http::bhttp::field::cache_control, "no-cache");
  exchange->begin_stream(std::move(header));
  auto follower = std::make_shared<LogFollower>(std::move(exchange), std::move(path), from);
  follower->send_new_bytes();
  follower->poll();
}

LogFollower::LogFollower(std::shared_ptr<http::Exchange> exchange, std::string path, uint64_t offset)
    : exchange_(std::move(exchange)),
      path_(std::move(path)),
      offset_(offset),
      timer_(exchange_->executor()) {}

void LogFollower::poll() {
  timer_.expires_after(kPollEvery);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->exchange_->client_gone()) return;
    self->send_new_bytes();
    self->poll();
  });
}

void LogFollower::send_new_bytes() {
  auto size = size_of(path_);
  if (size < offset_) offset_ = 0;  // rotated: the file was copied away and truncated
  while (offset_ < size && exchange_->queued_bytes() < kMaxQueuedBytes) {
    auto piece = read_range(path_, offset_, std::min<uint64_t>(size, offset_ + kPieceBytes));
    if (piece.empty()) return;
    offset_ += piece.size();
    exchange_->send(piece);
  }
}

}  // namespace duet::daemon
