#pragma once
// The admin listener: /healthz, /readyz (every source has sent its snapshot), /config (the
// routing table in use) and /metrics (Prometheus text). Runs on the control thread.

#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "duet/common/address.h"
#include "duet/common/http_server.h"

namespace duet::router {

// What the admin pages show, read on the control thread.
class AdminView {
 public:
  virtual ~AdminView() = default;
  // The routing table in use, as JSON.
  virtual nlohmann::json routing_table() const = 0;
  // One status object per source (SourceWatcher::status()).
  virtual nlohmann::json sources() const = 0;
  // True when every source has delivered a snapshot at least once.
  virtual bool ready() const = 0;
  // The Prometheus text of the router's metrics.
  virtual std::string metrics() const = 0;
};

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& control, const AdminView& view);

  // Binds and returns the TCP port (0 for a unix socket). Throws std::system_error.
  uint16_t listen(const Address& address);
  // Serves on a listening socket a predecessor handed over (handover.h); returns its port.
  uint16_t listen_on(int fd);
  // Its listening socket, for a successor; -1 when not listening.
  int listening_fd() const;
  void stop();

 private:
  void handle(const std::shared_ptr<duet::http::Exchange>& exchange) const;

  const AdminView& view_;
  duet::http::Server server_;
};

}  // namespace duet::router
