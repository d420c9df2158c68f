#pragma once
// The command-line flags that set RegistryOptions (host roots, vendor library paths, the
// Ascend chip hint), shared by duet-devices and duet-kubelet-plugin so both read a host alike.

#include <boost/program_options.hpp>

#include "deviceplugin/registry.h"

namespace duet::deviceplugin {

// Adds --dev-root, --sys-root, --proc-root, --ascend-chip, --dcmi-library, --nvml-library and
// --cndev-library to `description`; their notifiers write into `options`, which must outlive
// boost::program_options::notify().
void add_registry_flags(boost::program_options::options_description& description,
                        RegistryOptions& options);

// The usage lines of those flags, for a program's --help.
inline constexpr const char* kRegistryFlagsUsage =
    "[--dev-root DIR] [--sys-root DIR] [--proc-root DIR]\n"
    "[--ascend-chip NAME] [--dcmi-library PATH] [--nvml-library PATH] [--cndev-library PATH]";

}  // namespace duet::deviceplugin
