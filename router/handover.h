#pragma once
// duet-router's reload without a refused connection (nginx's binary upgrade, HAProxy's
// seamless reload): the running router starts its successor — the program file as it is
// on disk now, with the same arguments — and hands it its listening sockets as inherited
// file descriptors, named in $DUET_ROUTER_LISTEN_FDS. The successor serves on them at once
// (connections waiting in the kernel's queue included) and, once its routing table is
// ready, writes one byte to the pipe named in $DUET_ROUTER_READY_FD; only then does the old
// router stop accepting and drain. No socket is closed or bound again in between.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace duet::router {

// A listening socket passed from one router to the next. `name` says which listener it is:
// `admin`, or `proxy:` and the listen address as the configuration writes it.
struct ListeningSocket {
  std::string name;
  int fd = -1;
};

// What a router started as a successor was given. Empty when started normally.
struct Inheritance {
  std::vector<ListeningSocket> sockets;
  int ready_fd = -1;  // write a byte when serving; -1: not a successor
  bool successor() const { return ready_fd >= 0; }

  // Takes (and removes) the proxy sockets named `proxy:<address>`; the caller owns them.
  std::vector<int> take(const std::string& name);
  // Closes what no listener took (the configuration dropped that listener).
  void close_rest();
};

// Reads and clears the variables an old router set; marks the descriptors close-on-exec.
// A descriptor that is not a listening stream socket is refused (std::runtime_error).
// Call first thing in main, before any thread.
Inheritance inherit_from_predecessor();

// The path of the running program, read once at startup: a package upgrade puts a new
// file at that path, which the successor then runs.
std::string own_program_path();

// Starts `program` with `args` (argv[1...]) and the sockets inherited; the successor
// writes a byte on `ready_write_fd` when it serves. Returns its pid. Throws std::system_error.
pid_t start_successor(const std::string& program, const std::vector<std::string>& args,
                      const std::vector<ListeningSocket>& sockets, int ready_write_fd);

}  // namespace duet::router
