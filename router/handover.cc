#include "router/handover.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace duet::router {

namespace {

// The variables and, for the environment of execve, each with its '='. Strings are built
// by appending: GCC 12 at -O2 warns (-Warray-bounds, falsely) on `std::string(a) + "="`.
constexpr std::string_view kListenFdsAssign = "DUET_ROUTER_LISTEN_FDS=";  // fd=name;fd=name...
constexpr std::string_view kReadyFdAssign = "DUET_ROUTER_READY_FD=";
const std::string kListenFds(kListenFdsAssign.substr(0, kListenFdsAssign.size() - 1));
const std::string kReadyFd(kReadyFdAssign.substr(0, kReadyFdAssign.size() - 1));

[[noreturn]] void refuse(std::string_view what, std::string_view why) {
  std::string message(what);
  message.append(": ").append(why);
  throw std::runtime_error(message);
}

int parse_fd(std::string_view text, std::string_view what) {
  int fd = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
  if (ec != std::errc() || end != text.data() + text.size() || fd < 3)
    refuse(what, std::string("not a file descriptor: ").append(text));
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
    refuse(what, std::string("descriptor ").append(std::to_string(fd)).append(" is not open"));
  return fd;
}

bool listening_stream_socket(int fd) {
  int type = 0, accepting = 0;
  socklen_t size = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM) return false;
  size = sizeof accepting;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) == 0 && accepting == 1;
}

}  // namespace

std::vector<int> Inheritance::take(const std::string& name) {
  std::vector<int> taken;
  std::erase_if(sockets, [&](const ListeningSocket& s) {
    if (s.name != name) return false;
    taken.push_back(s.fd);
    return true;
  });
  return taken;
}

void Inheritance::close_rest() {
  for (const auto& s : sockets) ::close(s.fd);
  sockets.clear();
}

Inheritance inherit_from_predecessor() {
  Inheritance inherited;
  if (const char* ready = std::getenv(kReadyFd.c_str())) inherited.ready_fd = parse_fd(ready, kReadyFd);
  if (const char* list = std::getenv(kListenFds.c_str())) {
    std::string_view rest = list;
    while (!rest.empty()) {
      auto entry = rest.substr(0, rest.find(';'));
      rest.remove_prefix(std::min(rest.size(), entry.size() + 1));
      auto equals = entry.find('=');
      if (equals == std::string_view::npos)
        refuse(kListenFds, std::string("expected FD=NAME, got ").append(entry));
      int fd = parse_fd(entry.substr(0, equals), kListenFds);
      if (!listening_stream_socket(fd))
        refuse(kListenFds, std::string("descriptor ").append(std::to_string(fd)).append(" is not a listening socket"));
      inherited.sockets.push_back({std::string(entry.substr(equals + 1)), fd});
    }
  }
  ::unsetenv(kListenFds.c_str());
  ::unsetenv(kReadyFd.c_str());
  // systemd's watchdog pings count from the main process; this one becomes it.
  if (inherited.successor() && std::getenv("WATCHDOG_PID"))
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  return inherited;
}

std::string own_program_path() {
  char path[4096];
  auto n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return {};
  std::string text(path, static_cast<std::size_t>(n));
  // The file was replaced (a package upgrade) before this was read: its path is what counts.
  constexpr std::string_view kDeleted = " (deleted)";
  if (text.ends_with(kDeleted)) text.resize(text.size() - kDeleted.size());
  return text;
}

pid_t start_successor(const std::string& program, const std::vector<std::string>& args,
                      const std::vector<ListeningSocket>& sockets, int ready_write_fd) {
  // Everything is built before fork(): the child of a threaded process may only make
  // async-signal-safe calls (fcntl, execve, _exit).
  std::vector<std::string> strings{program};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  std::string fds(kListenFdsAssign);
  for (const auto& s : sockets) fds.append(std::to_string(s.fd)).append("=").append(s.name).append(";");
  if (!sockets.empty()) fds.pop_back();
  std::string ready(kReadyFdAssign);
  ready.append(std::to_string(ready_write_fd));
  std::vector<std::string> environment{fds, ready};
  for (char** e = environ; *e; ++e) {
    std::string_view entry = *e;
    if (!entry.starts_with(kListenFdsAssign) && !entry.starts_with(kReadyFdAssign))
      environment.emplace_back(entry);
  }
  std::vector<char*> envp;
  for (auto& s : environment) envp.push_back(s.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    for (const auto& s : sockets) ::fcntl(s.fd, F_SETFD, 0);  // inherited across execve
    ::fcntl(ready_write_fd, F_SETFD, 0);
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace duet::router
