#include "engine/instance/log_rotation.h"

#include <unistd.h>

#include <filesystem>

namespace duet::engine {

namespace fs = std::filesystem;

namespace {
std::string numbered(const std::string& path, int n) { return path + "." + std::to_string(n); }
}  // namespace

bool rotate_if_larger(const std::string& path, const LogRotation& rotation) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || size <= rotation.max_bytes || rotation.keep < 1) return false;
  fs::remove(numbered(path, rotation.keep), ec);
  for (int n = rotation.keep - 1; n >= 1; --n) fs::rename(numbered(path, n), numbered(path, n + 1), ec);
  fs::copy_file(path, numbered(path, 1), fs::copy_options::overwrite_existing, ec);
  if (ec) return false;
  return ::truncate(path.c_str(), 0) == 0;
}

}  // namespace duet::engine
