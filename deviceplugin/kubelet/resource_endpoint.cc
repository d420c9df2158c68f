#include "deviceplugin/kubelet/resource_endpoint.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>

#include <algorithm>

namespace duet::deviceplugin::kubelet {

namespace {

// kubelet's messages are a few KiB; a MiB bounds what a peer makes us parse.
constexpr int kMaxMessageBytes = 1 << 20;
// gRPC threads per resource: kubelet uses a few streams at once; a flood waits, never grows.
constexpr int kMaxThreads = 8;
constexpr auto kRegisterTimeout = std::chrono::seconds(10);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

std::optional<ino_t> inode_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

}  // namespace

ResourceEndpoint::ResourceEndpoint(Resource resource, ResourceService& service,
                                   std::filesystem::path plugin_dir,
                                   std::filesystem::path kubelet_socket)
    : resource_(std::move(resource)),
      service_(service),
      plugin_dir_(std::move(plugin_dir)),
      kubelet_socket_(std::move(kubelet_socket)) {}

ResourceEndpoint::~ResourceEndpoint() { stop(); }

void ResourceEndpoint::stop() {
  if (!server_) return;
  service_.end_streams();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
  // Only our own socket: a plugin started after us may have bound the same name.
  if (inode_of(socket_path()) == socket_inode_) std::filesystem::remove(socket_path());
  registered_to_.reset();
}

bool ResourceEndpoint::serve() {
  std::error_code ec;
  std::filesystem::remove(socket_path(), ec);  // ours, from a run that did not end cleanly
  service_.resume();
  grpc::ResourceQuota quota("duet-" + resource_.name);
  quota.SetMaxThreads(kMaxThreads);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path().string(), grpc::InsecureServerCredentials());
  builder.RegisterService(&service_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (!server_) {
    log_.error("serve_failed", {{"resource", resource_.name}, {"socket", socket_path().string()}});
    return false;
  }
  socket_inode_ = inode_of(socket_path()).value_or(0);
  log_.info("serving", {{"resource", resource_.name}, {"socket", socket_path().string()}});
  return true;
}

bool ResourceEndpoint::register_with_kubelet() {
  auto channel = grpc::CreateChannel("unix:" + kubelet_socket_.string(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1beta1::Registration::NewStub(channel);
  v1beta1::RegisterRequest request;
  request.set_version("v1beta1");
  request.set_endpoint(resource_.socket_name());
  request.set_resource_name(resource_.name);
  *request.mutable_options() = plugin_options();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRegisterTimeout);
  v1beta1::Empty reply;
  auto status = stub->Register(&context, request, &reply);
  if (!status.ok()) {
    log_.warn("register_failed", {{"resource", resource_.name},
                                  {"kubelet", kubelet_socket_.string()},
                                  {"code", static_cast<int>(status.error_code())},
                                  {"error", status.error_message()}});
    return false;
  }
  log_.info("registered", {{"resource", resource_.name}, {"endpoint", resource_.socket_name()}});
  return true;
}

void ResourceEndpoint::keep_registered(std::chrono::steady_clock::time_point now) {
  auto kubelet = inode_of(kubelet_socket_);
  bool socket_gone = server_ && inode_of(socket_path()) != socket_inode_;
  bool kubelet_changed = registered_to_ && kubelet != registered_to_;
  if (socket_gone || kubelet_changed) {
    log_.info("kubelet_restarted", {{"resource", resource_.name},
                                    {"socket_gone", socket_gone},
                                    {"kubelet_socket_changed", kubelet_changed}});
    stop();
    backoff_ = std::chrono::milliseconds(0);
    next_try_ = now;
  }
  if (registered_to_ || !kubelet || now < next_try_) return;
  if ((server_ || serve()) && register_with_kubelet()) {
    registered_to_ = kubelet;
    backoff_ = std::chrono::milliseconds(0);
    return;
  }
  backoff_ = std::min(kMaxBackoff, std::max(std::chrono::milliseconds(250), backoff_ * 2));
  next_try_ = now + backoff_;
}

}  // namespace duet::deviceplugin::kubelet
