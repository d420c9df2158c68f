#include "router/proxy_session.h"

#include "router/proxy_session_impl.h"

namespace duet::router {

template class ProxySession<PlainStream>;
template class ProxySession<TlsStream>;

}  // namespace duet::router
