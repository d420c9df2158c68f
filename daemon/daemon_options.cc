#include "daemon/daemon_options.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "duet/api/field_reader.h"
#include "duet/common/yaml_to_json.h"
#include "duet/common/address.h"
#include "duet/common/file_text.h"
#include "duet/common/node_name.h"
#include "duet/common/standard_flags.h"

namespace duet::daemon {

namespace {

namespace po = boost::program_options;

// Each flag and the option it sets; the config file's keys are read in read_config_file.
po::options_description flags(DaemonOptions& o) {
  po::options_description f;
  // clang-format off
  f.add_options()
      ("config", po::value(&o.config_file))
      ("api", po::value(&o.api)->composing())
      ("state-dir", po::value(&o.state_dir))
      ("engine-log-dir", po::value(&o.engine_log_dir))
      ("port-range", po::value(&o.port_range))
      ("log-level", po::value(&o.log_level))
      ("dev-root", po::value(&o.dev_root))
      ("sys-root", po::value(&o.sys_root))
      ("proc-root", po::value(&o.proc_root))
      ("api-secret-file", po::value(&o.auth.hmac_secret_file))
      ("api-jwks", po::value(&o.auth.jwks_file))
      ("engine-user", po::value(&o.engine_user))
      ("cgroup-root", po::value(&o.cgroup_root))
      ("node-name", po::value(&o.node_name))
      ("api-tls-cert", po::value(&o.tls.cert_file))
      ("api-tls-key", po::value(&o.tls.key_file))
      ("api-tls-client-ca", po::value(&o.tls.client_ca_file))
      ("api-audience", po::value<std::string>()->notifier([&o](const std::string& v) {
         if (v.empty()) throw UsageError("--api-audience: must not be empty");
         o.auth.audience = v;
       }))
      ("accept-state-loss", po::bool_switch(&o.accept_state_loss));
  // clang-format on
  return f;
}

const std::string& default_api() {
  static const std::string api = "unix:/run/duet/duetd.sock";
  return api;
}

void read_auth(api::FieldReader& r, NodeApiAuth& auth) {
  auth.hmac_secret_file = r.optional_string("hmacSecretFile").value_or("");
  auth.jwks_file = r.optional_string("jwks").value_or("");
  auth.issuer = r.optional_string("issuer").value_or("");
  auth.audience = r.optional_string("audience").value_or(auth.audience);
  if (auth.audience.empty())
    throw api::FieldError("nodeApiAuth.audience",
                                  "must not be empty: every node-API token must name its audience");
  auth.leeway_seconds = static_cast<int>(r.integer("leewaySeconds", 30, 0, 3600));
  r.reject_unknown();
  if (!auth.hmac_secret_file.empty() && !auth.jwks_file.empty())
    throw api::FieldError("nodeApiAuth", "give one of hmacSecretFile and jwks, not both");
}

void read_tls(api::FieldReader& r, NodeApiTls& tls) {
  tls.cert_file = r.optional_string("certFile").value_or("");
  tls.key_file = r.optional_string("keyFile").value_or("");
  tls.client_ca_file = r.optional_string("clientCAFile").value_or("");
  tls.min_version = r.optional_string("minVersion").value_or(tls.min_version);
  if (tls.min_version != "1.2" && tls.min_version != "1.3")
    throw api::FieldError("nodeApiTls.minVersion", "expected \"1.2\" or \"1.3\", got \"" +
                                                               tls.min_version + "\"");
  r.reject_unknown();
}

// A TCP listener the network can reach carries bearer tokens: it must be TLS. Loopback
// stays allowed in clear (a router or duetctl on the same host).
void check_listeners(const DaemonOptions& o) {
  bool has_tcp = false;
  for (const auto& text : o.api) {
    auto address = Address::parse(text);
    if (address.kind != Address::Kind::tcp) continue;
    has_tcp = true;
    if (address.tls && !o.tls.configured())
      throw std::invalid_argument(text + ": an https:// --api needs nodeApiTls (or --api-tls-cert "
                                         "and --api-tls-key)");
    if (!address.is_loopback() && !o.tls.configured())
      throw std::invalid_argument(text + ": a node API beyond loopback needs TLS (nodeApiTls, or "
                                         "--api-tls-cert and --api-tls-key): its bearer tokens "
                                         "would cross the network in clear");
  }
  if (has_tcp && !o.auth.configured())
    throw std::invalid_argument("a tcp:// --api needs bearer JWT keys: nodeApiAuth in the config, "
                                "or --api-secret-file / --api-jwks");
  if (o.tls.cert_file.empty() != o.tls.key_file.empty())
    throw std::invalid_argument("nodeApiTls: certFile and keyFile go together (--api-tls-cert, "
                                "--api-tls-key)");
  if (!o.tls.client_ca_file.empty() && !o.tls.configured())
    throw std::invalid_argument("nodeApiTls.clientCAFile needs certFile and keyFile");
}

void read_config_file(const std::string& path, DaemonOptions& o) {
  auto text = read_text_file(path);
  if (!text) throw std::invalid_argument(path + ": cannot read the config file");
  auto name = std::filesystem::path(path).filename().string();
  auto settings = yaml_config_document(*text, name);  // {} for an empty file: every default
  try {
    api::FieldReader r(settings, "");
    if (r.has("api")) o.api = r.string_list("api", false);
    o.state_dir = r.optional_string("stateDir").value_or(o.state_dir);
    o.engine_log_dir = r.optional_string("engineLogDir").value_or(o.engine_log_dir);
    o.port_range = r.optional_string("portRange").value_or(o.port_range);
    o.log_level = r.optional_string("logLevel").value_or(o.log_level);
    o.dev_root = r.optional_string("devRoot").value_or(o.dev_root);
    o.sys_root = r.optional_string("sysRoot").value_or(o.sys_root);
    o.proc_root = r.optional_string("procRoot").value_or(o.proc_root);
    o.engine_user = r.optional_string("engineUser").value_or(o.engine_user);
    o.cgroup_root = r.optional_string("cgroupRoot").value_or(o.cgroup_root);
    o.node_name = r.optional_string("nodeName").value_or(o.node_name);
    if (const auto* auth = r.object("nodeApiAuth")) {
      api::FieldReader a(*auth, "nodeApiAuth");
      read_auth(a, o.auth);
    }
    if (const auto* tls = r.object("nodeApiTls")) {
      api::FieldReader t(*tls, "nodeApiTls");
      read_tls(t, o.tls);
    }
    r.reject_unknown();
  } catch (const api::FieldError& e) {
    throw std::invalid_argument(name + ": " + e.what());
  }
}

}  // namespace

const char* daemon_usage() {
  return "usage: duetd [--config FILE] [--api unix:PATH|tcp://ADDR|https://ADDR]... [--state-dir DIR]\n"
         "             [--engine-log-dir DIR] [--port-range FIRST-LAST]\n"
         "             [--log-level debug|info|warn|error] [--api-secret-file FILE | --api-jwks FILE]\n"
         "             [--api-audience AUD] [--api-tls-cert FILE --api-tls-key FILE\n"
         "             [--api-tls-client-ca FILE]] [--engine-user USER] [--cgroup-root auto|none|PATH]\n"
         "             [--dev-root DIR] [--sys-root DIR] [--proc-root DIR] [--node-name NAME]\n"
         "             [--accept-state-loss]\n";
}

DaemonOptions parse_daemon_options(const std::vector<std::string>& args) {
  DaemonOptions o;
  auto description = flags(o);
  auto given = parse_flags(args, description);
  // The config file, then the flags, so that they win; --api replaces the file's list.
  if (given.values.count("config")) read_config_file(given.values["config"].as<std::string>(), o);
  po::notify(given.values);
  if (o.api.empty()) o.api.assign(1, default_api());
  check_listeners(o);
  if (o.node_name.empty()) {
    char host[256] = "";
    ::gethostname(host, sizeof host - 1);
    o.node_name = host;
  }
  if (!valid_node_name(o.node_name))
    throw std::invalid_argument("nodeName: expected letters, digits, '.', '-' or '_' (at most 253), got \"" +
                                o.node_name + "\"");
  if (!o.engine_user.empty()) o.engine_run_as = engine::resolve_run_as(o.engine_user);
  if (o.cgroup_root != "auto" && o.cgroup_root != "none" && !o.cgroup_root.starts_with("/"))
    throw std::invalid_argument("cgroupRoot: expected auto, none or an absolute path, got \"" +
                                o.cgroup_root + "\"");
  return o;
}

}  // namespace duet::daemon
