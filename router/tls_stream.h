#pragma once
// The client streams: sessions and relays are instantiated for a plain listener's and a
// TLS listener's.

#include <boost/beast/ssl/ssl_stream.hpp>

#include "router/timed_socket.h"

namespace duet::router {

using PlainStream = TimedSocket;
using TlsStream = boost::beast::ssl_stream<TimedSocket>;

}  // namespace duet::router
