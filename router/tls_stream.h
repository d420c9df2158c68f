#pragma once
// The client streams: sessions and relays are instantiated for a plain listener's and a
// TLS listener's.

#include "router/tls_socket.h"

namespace duet::router {

using PlainStream = TimedSocket;
using TlsStream = TlsSocket;

}  // namespace duet::router
