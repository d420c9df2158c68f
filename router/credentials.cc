#include "router/credentials.h"

#include "duet/common/tls.h"
#include "router/router_logger.h"
#include "router/tls_context.h"

namespace duet::router {

namespace {

jwt::Settings jwt_settings(const JwtConfig& config) {
  jwt::Settings s;
  s.issuer = config.issuer;
  s.audience = config.audience;
  s.jwks_file = config.jwks;
  s.hmac_secret_file = config.hmac_secret_file;
  s.leeway = std::chrono::seconds(config.leeway_seconds);
  s.require_exp = config.require_exp;
  return s;
}

std::vector<std::string> watched_files(const RouterConfig& config) {
  std::vector<std::string> files;
  for (const auto& listen : config.listen)
    if (listen.tls) files.insert(files.end(), {listen.tls->cert, listen.tls->key});
  if (config.jwt)
    for (const auto* f : {&config.jwt->jwks, &config.jwt->hmac_secret_file})
      if (!f->empty()) files.push_back(*f);
  return files;
}

bool same(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

std::shared_ptr<const Credentials> load_credentials(const RouterConfig& config) {
  auto credentials = std::make_shared<Credentials>();
  for (const auto& listen : config.listen)
    credentials->tls.push_back(listen.tls ? make_tls_context(*listen.tls) : nullptr);
  if (config.jwt) {
    try {
      credentials->verifier = jwt::Verifier::load(jwt_settings(*config.jwt));
    } catch (const std::runtime_error& e) {
      throw ConfigError(std::string("auth.jwt: ") + e.what());
    }
    credentials->jwt_required = config.jwt->required;
  }
  return credentials;
}

std::shared_ptr<boost::asio::ssl::context> source_tls(const SourceConfig& source) {
  if (!source.address.tls) return nullptr;
  return tls::make_client_context({.ca = source.ca_file, .cert = source.cert_file, .key = source.key_file});
}

CredentialWatcher::CredentialWatcher(boost::asio::io_context& io, const RouterConfig& config,
                                     OnReload on_reload, std::chrono::milliseconds poll)
    : config_(config), on_reload_(std::move(on_reload)), poll_(poll), timer_(io) {
  for (auto& path : watched_files(config)) stamps_.push_back({std::move(path)});
  stamps_changed();  // the stamps of what the first load read
}

void CredentialWatcher::start() {
  if (!stamps_.empty()) do_poll();
}

void CredentialWatcher::stop() {
  stopped_ = true;
  timer_.cancel();
}

void CredentialWatcher::reload(const char* why) {
  try {
    auto credentials = load_credentials(config_);
    router_logger().info("credentials_reloaded", {{"why", why}, {"files", stamps_.size()}});
    on_reload_(std::move(credentials));
  } catch (const std::exception& e) {
    router_logger().error("credentials_reload_failed",
                          {{"why", why}, {"error", e.what()}, {"keeping", "the previous set"}});
  }
}

void CredentialWatcher::do_poll() {
  timer_.expires_after(poll_);
  timer_.async_wait([this](boost::system::error_code ec) { on_poll(ec); });
}

// A certificate and its key are often replaced one after the other: a load that fails
// in between is retried at the next change of either file, which completes the pair.
void CredentialWatcher::on_poll(boost::system::error_code ec) {
  if (ec || stopped_) return;
  if (stamps_changed()) reload("file changed");
  do_poll();
}

bool CredentialWatcher::stamps_changed() {
  bool changed = false;
  for (auto& stamp : stamps_) {
    struct stat st {};
    bool present = ::stat(stamp.path.c_str(), &st) == 0;
    if (present != stamp.present || (present && !same(st, stamp.st))) changed = true;
    stamp.present = present;
    stamp.st = st;
  }
  return changed;
}

}  // namespace duet::router
