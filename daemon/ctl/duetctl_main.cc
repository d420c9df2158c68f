// duetctl: a kubectl-like CLI for duetd's node API. Parses the command line and hands off
// to commands.cc. Exit codes: 0 ok, 1 error, 2 usage.

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "daemon/ctl/commands.h"
#include "duet/api/field_reader.h"
#include "duet/common/standard_flags.h"
#include "duet/common/tls.h"

using namespace duet;

namespace {

const char* kUsage =
    "usage: duetctl [--server ADDR] COMMAND\n"
    "  apply -f FILE|DIR|-\n"
    "  get engines|deployments|routes|runtimeclasses|devices [NAME] [-o wide|json|yaml]\n"
    "  get events [-o wide|json|yaml]    who changed what on the node (the audit log)\n"
    "  describe deployment NAME\n"
    "  delete deployment|route|runtimeclass NAME | delete -f FILE|DIR|-\n"
    "  logs REPLICA [-f] [--tail N]\n"
    "  rollout status NAME [--watch] | rollout promote|abort|retry NAME\n"
    "  proxy [--address 127.0.0.1] [--port 8001] [--accept-hosts HOST,...] [--allow-remote]\n"
    "               the node API and the dashboard (/ui/) on a local port, with your access\n"
    "  dashboard [proxy's flags]   the same, and prints the dashboard's URL\n"
    "  cordon | uncordon | drain [--timeout SECONDS]   host maintenance: place no replica;\n"
    "               place again; cordon and drain every replica, waiting until none runs\n"
    "  token create --sub NAME [--ttl 1h] --secret-file FILE [--iss ISSUER] [--aud AUDIENCE]\n"
    "               [--scope duet.read|duet.report|duet.write|duet.admin[,...]]  (node API;\n"
    "               --aud is then duetd unless given)\n"
    "  version\n"
    "ADDR: unix:PATH, http://HOST:PORT or https://HOST:PORT (default $DUET_SERVER or\n"
    "      unix:/run/duet/duetd.sock)\n"
    "A TCP node API needs a JWT: --token-file FILE or $DUET_TOKEN.\n"
    "https: --certificate-authority FILE (or $DUET_CA_FILE; default: the system's trust store),\n"
    "       --client-certificate FILE --client-key FILE for a node that asks for one.\n";

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--token-file: cannot read " + path);
  std::string token;
  std::getline(in, token);
  return token;
}

// The client side of an https server: its CA pinned when one is given.
http::TlsContext client_tls(const tls::ClientFiles& files) {
  try {
    return tls::make_client_context(files);
  } catch (const tls::TlsError& e) {
    throw UsageError(e.what());
  }
}

namespace po = boost::program_options;

// What the command line asks for beyond the Context.
struct Request {
  std::vector<std::string> positional;  // the command word and its arguments
  std::vector<std::string> files;       // -f of apply and delete
  bool follow = false, watch = false;
  std::string tail;
  long timeout_seconds = 600;  // drain
  ctl::ProxyOptions proxy;
  ctl::TokenRequest token;
  tls::ClientFiles tls_files;
};

// The flags every command takes; --server and --token-file take effect when notified.
po::options_description global_flags(ctl::Context& ctx, Request& r) {
  auto then = [](auto use) { return po::value<std::string>()->notifier(use); };
  po::options_description flags;
  // clang-format off
  flags.add_options()
      ("server,s", then([&ctx](const std::string& v) { ctx.server = Address::parse(v); }))
      ("output,o", po::value(&ctx.output))
      ("token-file", then([&ctx](const std::string& v) { ctx.token = read_token(v); }))
      ("certificate-authority", po::value(&r.tls_files.ca))
      ("client-certificate", po::value(&r.tls_files.cert))
      ("client-key", po::value(&r.tls_files.key));
  // clang-format on
  return flags;
}

// A command's own flags. `logs` reads -f as --follow (as kubectl does), apply and delete as
// --filename.
po::options_description command_flags(const std::string& command, Request& r) {
  po::options_description flags;
  // clang-format off
  if (command == "apply" || command == "delete")
    flags.add_options()("filename,f", po::value(&r.files)->composing());
  else if (command == "logs")
    flags.add_options()("follow,f", po::bool_switch(&r.follow))("tail", po::value(&r.tail));
  else if (command == "rollout")
    flags.add_options()("watch,w", po::bool_switch(&r.watch));
  else if (command == "proxy" || command == "dashboard")
    flags.add_options()
        ("address", po::value(&r.proxy.address))
        ("port", po::value(&r.proxy.port))
        ("accept-hosts", po::value(&r.proxy.accept_hosts)->composing())
        ("allow-remote", po::bool_switch(&r.proxy.allow_remote));
  else if (command == "drain")
    flags.add_options()("timeout", po::value(&r.timeout_seconds));
  else if (command == "token")
    flags.add_options()
        ("sub", po::value(&r.token.subject))
        ("ttl", po::value(&r.token.ttl))
        ("secret-file", po::value(&r.token.secret_file))
        ("iss", po::value(&r.token.issuer))
        ("aud", po::value(&r.token.audience))
        ("scope", po::value(&r.token.scopes)->composing());
  // clang-format on
  return flags;
}

// Global flags go anywhere; the command word (the first argument that is not a flag or a
// global flag's value) says which other flags there are.
Request parse(ctl::Context& ctx, const std::vector<std::string>& args) {
  Request r;
  if (const char* ca = std::getenv("DUET_CA_FILE")) r.tls_files.ca = ca;
  auto flags = global_flags(ctx, r);
  auto words = parse_flags(args, flags, Arguments::first_look).positional;
  if (!words.empty()) flags.add(command_flags(words[0], r));
  auto given = parse_flags(args, flags, Arguments::positional);
  po::notify(given.values);
  r.positional = std::move(given.positional);
  return r;
}

int dispatch(ctl::Context& ctx, const std::vector<std::string>& args) {
  auto r = parse(ctx, args);
  if (!ctx.output.empty() && ctx.output != "wide" && ctx.output != "json" && ctx.output != "yaml")
    throw UsageError("-o: expected wide, json or yaml");
  if (r.positional.empty()) throw UsageError("missing command");
  if (ctx.server.tls) ctx.tls = client_tls(r.tls_files);
  const auto& cmd = r.positional[0];
  auto arg = [&](std::size_t i) {
    return i < r.positional.size() ? r.positional[i] : std::string();
  };
  if (cmd == "apply") return ctl::apply(ctx, r.files);
  if (cmd == "get") {
    if (r.positional.size() < 2) throw UsageError("get needs a resource type");
    return ctl::get(ctx, arg(1), arg(2));
  }
  if (cmd == "delete")
    return r.files.empty() ? ctl::remove(ctx, arg(1), arg(2)) : ctl::remove_files(ctx, r.files);
  if (cmd == "token") {
    if (arg(1) != "create") throw UsageError("token: expected `token create`");
    return ctl::token_create(r.token);
  }
  if (cmd == "describe") return ctl::describe(ctx, arg(1), arg(2));
  if (cmd == "logs") return ctl::logs(ctx, arg(1), r.follow, r.tail);
  if (cmd == "rollout") return ctl::rollout(ctx, arg(1), arg(2), r.watch);
  if (cmd == "proxy" || cmd == "dashboard") {
    r.proxy.dashboard = cmd == "dashboard";
    return ctl::proxy(ctx, r.proxy);
  }
  if (cmd == "cordon" || cmd == "uncordon" || cmd == "drain") {
    if (r.timeout_seconds < 0) throw UsageError("--timeout: expected seconds, 0 or more");
    return ctl::node(ctx, cmd, std::chrono::seconds(r.timeout_seconds));
  }
  if (cmd == "version") {
    std::cout << "duetctl " << DUET_VERSION << "\n";
    return 0;
  }
  throw UsageError("unknown command \"" + cmd + "\"");
}

}  // namespace

int main(int argc, char** argv) {
  if (auto done = answer_standard_flags(argc, argv, "duetctl", kUsage)) return *done;
  ctl::Context ctx;
  const char* server = std::getenv("DUET_SERVER");
  if (const char* token = std::getenv("DUET_TOKEN")) ctx.token = token;
  try {
    ctx.server = Address::parse(server && *server ? server : "unix:/run/duet/duetd.sock");
    return dispatch(ctx, std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {  // a UsageError, or an address that does not parse
    std::cerr << "duetctl: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const api::FieldError& e) {  // duet/api/ could not read what duetd answered
    std::cerr << "error: duetd sent an object this duetctl cannot read: " << e.what() << "\n";
    return 1;
  }
}
