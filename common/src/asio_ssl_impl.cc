// Asio's TLS layer, compiled once (BOOST_ASIO_SEPARATE_COMPILATION), for the router's
// listeners and the node API's TLS listener and https clients.
#include <boost/asio/ssl/impl/src.hpp>
