#pragma once
// The client stream of a TLS listener; sessions and relays are instantiated for it and for
// plain beast::tcp_stream.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace duet::router {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

}  // namespace duet::router
