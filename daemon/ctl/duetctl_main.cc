// duetctl: a kubectl-like CLI for duetd's node API. Parses the command line and hands off
// to commands.cc. Exit codes: 0 ok, 1 error, 2 usage.

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "daemon/ctl/commands.h"
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
    "  token create --sub NAME [--ttl 1h] --secret-file FILE [--iss ISSUER] [--aud AUDIENCE]\n"
    "               [--scope duet.read|duet.report|duet.write|duet.admin[,...]]  (node API;\n"
    "               --aud is then duetd unless given)\n"
    "  version\n"
    "ADDR: unix:PATH, http://HOST:PORT or https://HOST:PORT (default $DUET_SERVER or\n"
    "      unix:/run/duet/duetd.sock)\n"
    "A TCP node API needs a JWT: --token-file FILE or $DUET_TOKEN.\n"
    "https: --certificate-authority FILE (or $DUET_CA_FILE; default: the system's trust store),\n"
    "       --client-certificate FILE --client-key FILE for a node that asks for one.\n";

// The command word: the first argument that is neither a flag nor a flag's value. `logs`
// reads -f as --follow (as kubectl does); every other command reads it as --filename.
std::string command_word(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--server" || args[i] == "-s" || args[i] == "-o" || args[i] == "--output" ||
        args[i] == "--token-file" || args[i] == "--filename" ||
        args[i] == "--certificate-authority" || args[i] == "--client-certificate" ||
        args[i] == "--client-key")
      ++i;
    else if (!args[i].starts_with("-"))
      return args[i];
  }
  return {};
}

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ctl::UsageError("--token-file: cannot read " + path);
  std::string token;
  std::getline(in, token);
  return token;
}

// The client side of an https server: its CA pinned when one is given.
http::TlsContext client_tls(const tls::ClientFiles& files) {
  try {
    return tls::make_client_context(files);
  } catch (const tls::TlsError& e) {
    throw ctl::UsageError(e.what());
  }
}

int dispatch(ctl::Context& ctx, std::vector<std::string> args) {
  std::vector<std::string> positional, files;
  bool logs_command = command_word(args) == "logs", follow = false, watch = false;
  std::string tail;
  ctl::TokenRequest token;
  tls::ClientFiles tls_files;
  if (const char* ca = std::getenv("DUET_CA_FILE")) tls_files.ca = ca;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&] {
      if (i + 1 >= args.size()) throw ctl::UsageError(args[i] + ": missing value");
      return args[++i];
    };
    if (args[i] == "--server" || args[i] == "-s")
      ctx.server = Address::parse(value());
    else if (args[i] == "-o" || args[i] == "--output")
      ctx.output = value();
    else if (logs_command && (args[i] == "-f" || args[i] == "--follow"))
      follow = true;
    else if (logs_command && args[i] == "--tail")
      tail = value();
    else if (args[i] == "-f" || args[i] == "--filename")
      files.push_back(value());
    else if (args[i] == "--watch" || args[i] == "-w")
      watch = true;
    else if (args[i] == "--token-file")
      ctx.token = read_token(value());
    else if (args[i] == "--certificate-authority")
      tls_files.ca = value();
    else if (args[i] == "--client-certificate")
      tls_files.cert = value();
    else if (args[i] == "--client-key")
      tls_files.key = value();
    else if (args[i] == "--sub")
      token.subject = value();
    else if (args[i] == "--ttl")
      token.ttl = value();
    else if (args[i] == "--secret-file")
      token.secret_file = value();
    else if (args[i] == "--iss")
      token.issuer = value();
    else if (args[i] == "--aud")
      token.audience = value();
    else if (args[i] == "--scope")
      token.scopes.push_back(value());
    else if (args[i].starts_with("-") && args[i] != "-")
      throw ctl::UsageError("unknown flag " + args[i]);
    else
      positional.push_back(args[i]);
  }
  if (!ctx.output.empty() && ctx.output != "wide" && ctx.output != "json" && ctx.output != "yaml")
    throw ctl::UsageError("-o: expected wide, json or yaml");
  if (positional.empty()) throw ctl::UsageError("missing command");
  if (ctx.server.tls) ctx.tls = client_tls(tls_files);
  const auto& cmd = positional[0];
  auto arg = [&](std::size_t i) { return i < positional.size() ? positional[i] : std::string(); };
  if (cmd == "apply") return ctl::apply(ctx, files);
  if (cmd == "get") {
    if (positional.size() < 2) throw ctl::UsageError("get needs a resource type");
    return ctl::get(ctx, arg(1), arg(2));
  }
  if (cmd == "delete") return files.empty() ? ctl::remove(ctx, arg(1), arg(2)) : ctl::remove_files(ctx, files);
  if (cmd == "token") {
    if (arg(1) != "create") throw ctl::UsageError("token: expected `token create`");
    return ctl::token_create(token);
  }
  if (cmd == "describe") return ctl::describe(ctx, arg(1), arg(2));
  if (cmd == "logs") return ctl::logs(ctx, arg(1), follow, tail);
  if (cmd == "rollout") return ctl::rollout(ctx, arg(1), arg(2), watch);
  if (cmd == "version") {
    std::cout << "duetctl " << DUET_VERSION << "\n";
    return 0;
  }
  throw ctl::UsageError("unknown command \"" + cmd + "\"");
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
  } catch (const ctl::UsageError& e) {
    std::cerr << "duetctl: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "duetctl: " << e.what() << "\n" << kUsage;
    return 2;
  }
}
