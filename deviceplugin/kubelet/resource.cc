#include "deviceplugin/kubelet/resource.h"

#include <algorithm>
#include <stdexcept>

namespace duet::deviceplugin::kubelet {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// Kubelet's rule for an extended resource: "domain/name", a name of at most 63 characters,
// and not in kubernetes.io's own namespace.
void check_resource_name(std::string_view name) {
  auto slash = name.find('/');
  auto domain = name.substr(0, slash);
  auto rest = slash == std::string_view::npos ? std::string_view{} : name.substr(slash + 1);
  if (slash == std::string_view::npos || domain.empty() || rest.empty() || rest.size() > 63 ||
      !std::all_of(domain.begin(), domain.end(), name_char) ||
      !std::all_of(rest.begin(), rest.end(), name_char))
    throw std::invalid_argument("resource name \"" + std::string(name) +
                                "\" is not domain/name (at most 63 characters after the /)");
  if (domain == "kubernetes.io" || domain.ends_with(".kubernetes.io"))
    throw std::invalid_argument("resource name \"" + std::string(name) +
                                "\" is in kubernetes.io's namespace, which kubelet keeps");
}

}  // namespace

std::string Resource::socket_name() const {
  std::string file = "duet-" + name + ".sock";
  std::replace(file.begin(), file.end(), '/', '_');
  return file;
}

std::vector<Resource> default_resources() {
  return {{"huawei.com/Ascend910", "ascend", "Ascend910"},
          {"huawei.com/Ascend310P", "ascend", "Ascend310P"},
          {"nvidia.com/gpu", "nvidia", ""},
          {"cambricon.com/mlu", "mlu", ""}};
}

Resource parse_resource(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos)
    throw std::invalid_argument("--resource \"" + std::string(text) +
                                "\": expected NAME=HANDLER[:MODEL_PREFIX]");
  Resource r;
  r.name = text.substr(0, eq);
  check_resource_name(r.name);
  auto rest = text.substr(eq + 1);
  auto colon = rest.find(':');
  r.handler = rest.substr(0, colon);
  if (colon != std::string_view::npos) r.model_prefix = rest.substr(colon + 1);
  if (r.handler == "cpu")
    throw std::invalid_argument("--resource " + r.name +
                                ": cpus stay with kubelet's CPU manager, not a device plugin");
  if (r.handler != "ascend" && r.handler != "nvidia" && r.handler != "mlu")
    throw std::invalid_argument("--resource " + r.name + ": unknown handler \"" + r.handler +
                                "\" (ascend, nvidia, mlu)");
  return r;
}

ResourceView ResourceView::of(const Resource& resource,
                              std::shared_ptr<const Inventory> inventory) {
  ResourceView view{std::move(inventory), {}};
  for (const auto& d : view.inventory->devices())
    if (resource.serves(d)) view.ids.insert(d.id);
  return view;
}

const Device* ResourceView::find(const std::string& id) const {
  if (!ids.count(id)) return nullptr;
  for (const auto& d : inventory->devices())
    if (d.id == id) return &d;
  return nullptr;
}

}  // namespace duet::deviceplugin::kubelet
