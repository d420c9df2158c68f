#include "router/tls_socket.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/error.hpp>
#include <climits>

namespace duet::router {

namespace {
using boost::system::error_code;
}  // namespace

// OpenSSL's side of the socket: a BIO whose reads and writes are the socket's read_now and
// write_now, so that they keep its edge flags. A read while the last one found the socket
// empty asks OpenSSL to retry without a syscall; the next edge retries the operation.
struct TlsTransport {
  static TimedSocket& socket(BIO* bio) { return *static_cast<TimedSocket*>(BIO_get_data(bio)); }

  static int read(BIO* bio, char* out, int size) {
    BIO_clear_retry_flags(bio);
    TimedSocket& s = socket(bio);
    if (size <= 0) return 0;
    if (!s.may_read_) {
      BIO_set_retry_read(bio);
      return -1;
    }
    error_code ec;
    std::size_t n =
        s.read_now(boost::asio::mutable_buffer(out, static_cast<std::size_t>(size)), ec);
    if (n > 0) return static_cast<int>(n);
    if (ec == boost::asio::error::would_block) {
      BIO_set_retry_read(bio);
      return -1;
    }
    if (ec == boost::asio::error::eof) return 0;
    s.tls_io_error_ = ec;
    return -1;
  }

  static int write(BIO* bio, const char* in, int size) {
    BIO_clear_retry_flags(bio);
    TimedSocket& s = socket(bio);
    if (size <= 0) return 0;
    error_code ec;
    std::size_t n = s.write_now(boost::asio::const_buffer(in, static_cast<std::size_t>(size)), ec);
    if (n > 0) return static_cast<int>(n);
    if (ec) {
      s.tls_io_error_ = ec;
      return -1;
    }
    BIO_set_retry_write(bio);  // the send buffer is full: the next write edge retries
    return -1;
  }

  // Writes leave at once: nothing to flush. Nothing else is asked of a socket BIO here.
  static long control(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static const BIO_METHOD* method() {
    static BIO_METHOD* const kMethod = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "duet-socket");
      if (!m || BIO_meth_set_read(m, &read) != 1 || BIO_meth_set_write(m, &write) != 1 ||
          BIO_meth_set_ctrl(m, &control) != 1 || BIO_meth_set_create(m, &create) != 1)
        throw std::bad_alloc();
      return m;
    }();
    return kMethod;
  }
};

void TimedSocket::start_tls(ssl_ctx_st* context) {
  SSL* ssl = SSL_new(context);
  BIO* bio = ssl ? BIO_new(TlsTransport::method()) : nullptr;
  if (!bio) {
    SSL_free(ssl);
    close();  // the handshake then ends with bad_descriptor
    return;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO
  // A write retried after a full buffer is the same bytes (Asio's composed write keeps them);
  // one recv takes all that came. The record buffers stay (tls_socket.h).
  SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_read_ahead(ssl, 1);
  SSL_set_accept_state(ssl);
  tls_ = ssl;
}

void TimedSocket::tls_moved() {
  if (tls_) BIO_set_data(SSL_get_rbio(tls_), this);
}

void TimedSocket::end_tls() { SSL_free(std::exchange(tls_, nullptr)); }

// One OpenSSL call for the operation. Its errors are what asio::ssl::stream gave: the peer's
// close_notify is eof, a connection that ends without one is stream_truncated, a socket error
// is the socket's, and a TLS error OpenSSL's own code in Asio's ssl category.
bool TimedSocket::attempt_tls(EdgeOp* op, error_code& ec, std::size_t& n) {
  // SSL_get_error reads the thread's error queue: what another OpenSSL user of this thread
  // (a JWT check) left there would pass for this connection's error. Clearing an empty queue
  // costs 300 instructions (it resets every entry), a look 30.
  if (ERR_peek_error() != 0) ERR_clear_error();
  tls_io_error_ = {};
  int size = static_cast<int>(std::min<std::size_t>(op->size, INT_MAX));
  int result = 1;
  switch (op->kind) {
    case EdgeOp::Kind::read:
      result = SSL_read(tls_, op->data, size);
      break;
    case EdgeOp::Kind::write:
      result = SSL_write(tls_, op->data, size);
      break;
    default:
      result = SSL_do_handshake(tls_);
      break;
  }
  if (result > 0) {
    n = op->kind == EdgeOp::Kind::handshake ? 0 : static_cast<std::size_t>(result);
    return true;
  }
  switch (SSL_get_error(tls_, result)) {
    case SSL_ERROR_WANT_READ:
      op->waits_for = EdgeOp::Edge::read;
      return false;
    case SSL_ERROR_WANT_WRITE:
      op->waits_for = EdgeOp::Edge::write;
      return false;
    case SSL_ERROR_ZERO_RETURN:
      ec = boost::asio::error::eof;
      return true;
    case SSL_ERROR_SYSCALL:
      ec = tls_io_error_ ? tls_io_error_ : error_code(boost::asio::ssl::error::stream_truncated);
      break;
    default: {
      unsigned long error = ERR_peek_error();
      if (ERR_GET_REASON(error) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        ec = boost::asio::ssl::error::stream_truncated;
      else
        ec = error_code(static_cast<int>(error), boost::asio::error::get_ssl_category());
      break;
    }
  }
  ERR_clear_error();
  return true;
}

}  // namespace duet::router
