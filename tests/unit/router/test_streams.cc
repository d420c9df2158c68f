#include "test_streams.h"

#include <boost/asio/write.hpp>
#include <limits>

namespace duet::router::test {

ClientConnection::State::State(boost::asio::io_context& io, beast::test::fail_count* fail)
    : server(fail ? beast::test::stream(io, *fail) : beast::test::stream(io)), client(io) {
  server.connect(client);
}

ClientConnection::ClientConnection(boost::asio::io_context& io, beast::test::fail_count* fail)
    : state_(std::make_shared<State>(io, fail)) {}

void ClientConnection::send(std::string_view bytes) {
  boost::asio::write(state_->client, boost::asio::buffer(bytes.data(), bytes.size()));
}

void ClientConnection::cancel() {
  if (!state_->handler) return;
  auto handler = std::exchange(state_->handler, nullptr);
  boost::asio::post(state_->server.get_executor(), [handler = std::move(handler)] {
    handler(boost::asio::error::operation_aborted, 0);
  });
}

void ClientConnection::close() {
  state_->closed = true;
  state_->server.close();  // a pending read ends with operation_aborted; the client reads eof
}

// One read on the stream at a time; it outlives a cancelled read of the session's.
void ClientConnection::read(const std::shared_ptr<State>& state) {
  if (state->stash.size() > 0 || state->stashed_error) return deliver(state);
  if (state->reading) return;
  state->reading = true;
  state->server.async_read_some(state->stash.prepare(16 * 1024),
                                [state](beast::error_code ec, std::size_t n) {
                                  state->reading = false;
                                  state->stash.commit(n);
                                  if (ec == boost::asio::error::eof) ec = state->end_as;
                                  state->stashed_error = ec;
                                  if (state->handler) deliver(state);
                                });
}

void ClientConnection::deliver(const std::shared_ptr<State>& state) {
  auto handler = std::exchange(state->handler, nullptr);
  std::size_t n = boost::asio::buffer_copy(state->target, state->stash.data());
  state->stash.consume(n);
  beast::error_code ec;
  if (n == 0) ec = std::exchange(state->stashed_error, {});
  boost::asio::post(state->server.get_executor(),
                    [handler = std::move(handler), ec, n] { handler(ec, n); });
}

ScriptedEngines* ScriptedEngines::current = nullptr;

ScriptedEngines::Connected::Connected(boost::asio::io_context& io,
                                      const boost::asio::ip::tcp::endpoint& to,
                                      std::size_t fail_at)
    : endpoint(to),
      fail(fail_at ? fail_at : std::numeric_limits<std::size_t>::max()),
      engine(io) {}

ScriptedEngines::ScriptedEngines(std::vector<EngineScript> scripts)
    : scripts_(scripts.begin(), scripts.end()) {
  current = this;
}

ScriptedEngines::~ScriptedEngines() { current = nullptr; }

bool ScriptedEngines::connect(boost::asio::io_context& io,
                              const boost::asio::ip::tcp::endpoint& to,
                              beast::test::stream& stream, std::shared_ptr<Connected>& end) {
  EngineScript script;
  script.refuse = true;  // none left: refused
  if (!scripts_.empty()) {
    script = std::move(scripts_.front());
    scripts_.pop_front();
  }
  end = std::make_shared<Connected>(io, to, script.fail_at);
  connected_.push_back(end);
  if (script.refuse) return false;
  stream = beast::test::stream(io, end->fail);
  stream.connect(end->engine);
  if (script.read_size) stream.read_size(script.read_size);
  stream.append(script.response);
  if (script.close_after) end->engine.close();
  return true;
}

}  // namespace duet::router::test
