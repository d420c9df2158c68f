// Asio's TLS layer, compiled once for the router (BOOST_ASIO_SEPARATE_COMPILATION; the rest
// of Asio is compiled in duet_common, which does not link OpenSSL's TLS library).
#include <boost/asio/ssl/impl/src.hpp>
