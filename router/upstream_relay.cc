#include "router/upstream_relay.h"

#include "router/tls_stream.h"
#include "router/upstream_relay_impl.h"

namespace duet::router {

template class UpstreamRelay<PlainStream>;
template class UpstreamRelay<TlsStream>;

}  // namespace duet::router
