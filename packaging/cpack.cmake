# CPack: `make package` (or `cmake --build BUILD --target package`) writes
# duet_<version>_amd64.deb in the build folder. Included from the top-level CMakeLists.txt,
# where CPack must be included for the package target to exist.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME duet)
set(CPACK_PACKAGE_VENDOR "the duet authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LLM inference engines on NPUs, GPUs and CPUs, with a router")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "duet runs LLM inference engines (vLLM, vLLM-Ascend, MindIE, SGLang,\n"
    "llama.cpp server, any OpenAI-compatible server) on servers that mix Huawei\n"
    "Ascend NPUs, NVIDIA GPUs, Cambricon MLUs and plain CPUs, from\n"
    "Kubernetes-shaped manifests.\n"
    "\n"
    "This package holds duetd (node daemon: supervises engines, places them on\n"
    "devices, runs canary rollouts), duet-router (TLS and JWT reverse proxy for\n"
    "the OpenAI API), duetctl (a kubectl-like CLI), duet-devices (device\n"
    "diagnostics) and duet-sim (a simulated engine), with systemd units that are\n"
    "installed but not enabled.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DUET_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries come from dpkg-shlibdeps; the rest is what the maintainer scripts run:
# systemd-sysusers (duet user), usermod (Ascend's group).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers, passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS prometheus)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
# 0644 for conffiles, 0755 for scripts, whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
