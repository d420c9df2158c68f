#include "duet/common/file_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace duet {

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  // POSIX reads: std::filebuf throws when read(2) fails (ESRCH for a process that just ended).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  while (true) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace duet
