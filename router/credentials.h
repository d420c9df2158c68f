#pragma once
// What the router proves its identity and checks its clients with: the TLS context of each
// listener and the JWT verifier. Loaded at start, again on SIGHUP and when one of their
// files changes; each load is a new immutable Credentials that the workers swap in, so a
// connection already open keeps the context it started with and none is dropped.

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duet/jwt.h"
#include "router/config.h"

namespace duet::router {

struct Credentials {
  // One per config.listen entry, in order; null for a plain HTTP listener.
  std::vector<std::shared_ptr<boost::asio::ssl::context>> tls;
  std::shared_ptr<const jwt::Verifier> verifier;  // null: auth.jwt is not configured
  bool jwt_required = false;
};

// Reads every certificate, key and JWT key file. Throws ConfigError naming the file.
std::shared_ptr<const Credentials> load_credentials(const RouterConfig& config);

// The TLS client context of an https source, its CA pinned; null for other sources. Made
// per connection, so that rotated files are picked up. Throws tls::TlsError naming the file.
std::shared_ptr<boost::asio::ssl::context> source_tls(const SourceConfig& source);

// Reloads the credentials on SIGHUP (reload()) and when a file they come from changes (its
// size, mtime or inode, checked every `poll`), and hands each new set to `on_reload`. A set
// that fails to load is logged and the one in use stays. Control thread only.
class CredentialWatcher {
 public:
  using OnReload = std::function<void(std::shared_ptr<const Credentials>)>;

  CredentialWatcher(boost::asio::io_context& io, const RouterConfig& config, OnReload on_reload,
                    std::chrono::milliseconds poll = std::chrono::seconds(1));

  void start();
  void stop();
  // Loads everything again now; `why` goes to the log line.
  void reload(const char* why);

 private:
  struct Stamp {
    std::string path;
    struct stat st {};
    bool present = false;
  };
  void do_poll();
  void on_poll(boost::system::error_code ec);
  bool stamps_changed();

  const RouterConfig& config_;
  OnReload on_reload_;
  std::chrono::milliseconds poll_;
  boost::asio::steady_timer timer_;
  std::vector<Stamp> stamps_;
  bool stopped_ = false;
};

}  // namespace duet::router
