// ProxySession and UpstreamRelay on in-memory streams, for the tests (session_harness.h).
#include "router/proxy_session_impl.h"
#include "router/upstream_relay_impl.h"
#include "session_harness.h"

namespace duet::router {

template class ProxySession<test::ClientConnection, test::ScriptedUpstreams>;
template class UpstreamRelay<test::ClientConnection, test::ScriptedUpstreams>;

}  // namespace duet::router
