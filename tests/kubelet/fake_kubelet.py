#!/usr/bin/python3
"""A fake kubelet on the current device-plugin API (v1beta1) that drives duet-kubelet-plugin.

It behaves as modern kubelet does (pkg/kubelet/cm/devicemanager/plugin/v1beta1): Register
checks the version, dials the plugin's socket synchronously (authority "localhost") and asks
GetDevicePluginOptions before it answers, so a plugin that registers before it serves fails.
A restart deletes every socket in the plugin directory and serves kubelet.sock again.

usage: fake_kubelet.py --scenario NAME --root TREE --plugin BIN [-- EXTRA PLUGIN FLAGS]
The fake device tree under TREE (dev/, sys/, proc/) is made by the caller; scenarios change it.
Prints one line per check and "N passed, M failed"; exits 1 when a check failed.
Needs Debian's python3-grpcio and python3-protobuf, and api_pb2*.py on PYTHONPATH.
"""
import argparse
import os
import queue
import signal
import subprocess
import sys
import time
from concurrent import futures

import grpc

import api_pb2
import api_pb2_grpc

REGISTER_WAIT = 15  # seconds; the plugin's register backoff is at most 5 s
HEALTH_WAIT = 1.0   # the bound for a health change to reach kubelet


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}", flush=True)
        return ok


class Registration(api_pb2_grpc.RegistrationServicer):
    def __init__(self, plugin_dir):
        self.plugin_dir = plugin_dir
        self.registered = queue.Queue()

    def Register(self, request, context):
        if request.version != "v1beta1":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unsupported version")
        if "/" not in request.resource_name:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not an extended resource")
        # Modern kubelet: dial the plugin before answering, and take its options from it.
        channel = grpc.insecure_channel(
            "unix:" + os.path.join(self.plugin_dir, request.endpoint),
            options=[("grpc.default_authority", "localhost")])
        try:
            grpc.channel_ready_future(channel).result(timeout=10)
            options = api_pb2_grpc.DevicePluginStub(channel).GetDevicePluginOptions(
                api_pb2.Empty(), timeout=10)
        except Exception as e:  # the plugin registered before it served
            self.registered.put((request, None, repr(e)))
            context.abort(grpc.StatusCode.UNAVAILABLE, "cannot dial the plugin: " + repr(e))
        finally:
            channel.close()
        self.registered.put((request, options, None))
        return api_pb2.Empty()


class FakeKubelet:
    def __init__(self, plugin_dir):
        self.plugin_dir = plugin_dir
        self.socket = os.path.join(plugin_dir, "kubelet.sock")
        self.server = None
        self.registration = Registration(plugin_dir)

    def start(self):
        # kubelet deletes every socket in the directory when it starts.
        for name in os.listdir(self.plugin_dir):
            os.remove(os.path.join(self.plugin_dir, name))
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        api_pb2_grpc.add_RegistrationServicer_to_server(self.registration, self.server)
        self.server.add_insecure_port("unix:" + self.socket)
        self.server.start()

    def stop(self):
        if self.server:
            self.server.stop(0).wait()
            self.server = None

    def registrations(self, count):
        """The next `count` registrations (request, options, error), or fewer at the deadline."""
        out = []
        deadline = time.monotonic() + REGISTER_WAIT
        while len(out) < count and time.monotonic() < deadline:
            try:
                out.append(self.registration.registered.get(timeout=0.1))
            except queue.Empty:
                pass
        return out


class Plugin:
    """The plugin process, one gRPC channel per registered resource, and ListAndWatch readers."""

    def __init__(self, binary, root, plugin_dir, extra):
        self.args = [binary, "--plugin-dir", plugin_dir, "--dev-root", f"{root}/dev",
                     "--sys-root", f"{root}/sys", "--proc-root", f"{root}/proc",
                     "--health-interval-ms", "100",
                     "--dcmi-library", "/nonexistent/libdcmi.so",
                     "--nvml-library", "/nonexistent/libnvidia-ml.so.1",
                     "--cndev-library", "/nonexistent/libcndev.so"] + extra
        self.plugin_dir = plugin_dir
        self.process = subprocess.Popen(self.args)

    def stub(self, endpoint):
        channel = grpc.insecure_channel("unix:" + os.path.join(self.plugin_dir, endpoint))
        return api_pb2_grpc.DevicePluginStub(channel), channel

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


class Watch:
    """Reads a ListAndWatch stream on a thread; `wait_for(pred)` polls its latest list."""

    def __init__(self, stub):
        import threading
        self.lists = queue.Queue()
        self.latest = None
        self.call = stub.ListAndWatch(api_pb2.Empty())
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for response in self.call:
                self.lists.put(response)
        except grpc.RpcError:
            pass

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.latest is not None and predicate(self.latest):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                self.latest = self.lists.get(timeout=remaining)
            except queue.Empty:
                return False

    def health(self):
        return {d.ID: d.health for d in self.latest.devices} if self.latest else {}

    def close(self):
        self.call.cancel()


def rpc_error(call):
    """(code, message) of a failed call; (OK, '') when it succeeded."""
    try:
        call()
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details()


def preferred(stub, available, size, must=()):
    request = api_pb2.PreferredAllocationRequest(container_requests=[
        api_pb2.ContainerPreferredAllocationRequest(
            available_deviceIDs=list(available), must_include_deviceIDs=list(must),
            allocation_size=size)])
    return list(stub.GetPreferredAllocation(request, timeout=5).container_responses[0].deviceIDs)


def allocate(stub, ids):
    request = api_pb2.AllocateRequest(
        container_requests=[api_pb2.ContainerAllocateRequest(devices_ids=list(ids))])
    return stub.Allocate(request, timeout=5).container_responses[0]


class Run:
    def __init__(self, args, checks):
        self.args = args
        self.c = checks
        self.root = args.root
        self.plugin_dir = os.path.join(args.root, "device-plugins")
        os.makedirs(self.plugin_dir, exist_ok=True)
        self.kubelet = FakeKubelet(self.plugin_dir)
        self.plugin = None

    def start(self, expected_resources):
        self.kubelet.start()
        self.plugin = Plugin(self.args.plugin, self.root, self.plugin_dir, self.args.extra)
        return self.expect_registrations(expected_resources, "first")

    def start_watching(self, resource):
        """Starts kubelet and the plugin serving `resource`; a stub and a ListAndWatch on it."""
        endpoints = self.start([resource])
        stub, _ = self.plugin.stub(endpoints[resource])
        return stub, Watch(stub)

    def expect_registrations(self, expected, when):
        got = self.kubelet.registrations(len(expected))
        names = sorted(r.resource_name for r, _, _ in got)
        self.c.check(f"{when} registration: {', '.join(expected)}", names == sorted(expected),
                     f"got {names}")
        endpoints = {}
        for request, options, error in got:
            name = request.resource_name
            self.c.check(f"{name}: served before Register (kubelet dialled back)", error is None,
                         error or "")
            if options is not None:
                self.c.check(f"{name}: same options in Register and GetDevicePluginOptions",
                             options == request.options, f"{options} vs {request.options}")
                self.c.check(f"{name}: preferred allocation offered",
                             request.options.get_preferred_allocation_available)
            endpoints[name] = request.endpoint
        return endpoints

    def path(self, rel):
        return os.path.join(self.root, rel)

    def remove(self, rel):
        os.remove(self.path(rel))

    def create(self, rel):
        open(self.path(rel), "w").close()

    def health_change(self, watch, device, rel):
        """Removes `rel`: `device` turns Unhealthy within a second; restored: Healthy again."""
        for change, health in ((self.remove, "Unhealthy"), (self.create, "Healthy")):
            start = time.monotonic()
            change(rel)
            ok = watch.wait_for(lambda l: {d.ID: d.health for d in l.devices}.get(device)
                                == health, HEALTH_WAIT)
            self.c.check(f"device {device} {health} within 1 s of {change.__name__} {rel}", ok,
                         f"after {time.monotonic() - start:.2f}s: {watch.health()}")

    def finish(self):
        """SIGTERM: exit 0 and no socket of the plugin left behind."""
        code = self.plugin.stop()
        self.c.check("SIGTERM: plugin exits 0", code == 0, f"exit {code}")
        left = [n for n in os.listdir(self.plugin_dir) if n != "kubelet.sock"]
        self.c.check("SIGTERM: plugin sockets removed", not left, f"left {left}")
        self.kubelet.stop()


def scenario_ascend(run):
    c = run.c
    stub, watch = run.start_watching("huawei.com/Ascend910")
    ids = [str(i) for i in range(8)]
    c.check("ListAndWatch: 8 healthy 910s", watch.wait_for(
        lambda l: sorted(d.ID for d in l.devices) == ids and
        all(d.health == "Healthy" for d in l.devices), 5), str(watch.latest))
    # Ring rules (HCCS rings 0-3 and 4-7), best fit first.
    p2 = preferred(stub, ids, 2)
    c.check("preferred 2 of 8: one ring", len(p2) == 2 and len({int(i) // 4 for i in p2}) == 1,
            str(p2))
    p4 = preferred(stub, ids, 4)
    c.check("preferred 4 of 8: a whole ring", sorted(p4) in (ids[:4], ids[4:]), str(p4))
    c.check("preferred 8 of 8: the board", sorted(preferred(stub, ids, 8)) == ids)
    c.check("preferred 2 of {0,1,2,4,5}: the ring with exactly 2 free",
            sorted(preferred(stub, ["0", "1", "2", "4", "5"], 2)) == ["4", "5"])
    c.check("preferred 1 of {0,1,2,4}: the lone device of ring 1",
            preferred(stub, ["0", "1", "2", "4"], 1) == ["4"])
    c.check("preferred 4 of {1..7}: ring 4-7",
            sorted(preferred(stub, ids[1:], 4)) == ids[4:])
    code, message = rpc_error(lambda: preferred(stub, ["1", "3", "5", "7"], 4))
    c.check("preferred 4 of {1,3,5,7}: RESOURCE_EXHAUSTED with the ring reason",
            code == grpc.StatusCode.RESOURCE_EXHAUSTED and "HCCS ring" in message,
            f"{code} {message}")
    code, message = rpc_error(lambda: preferred(stub, ids, 3))
    c.check("preferred 3: refused (1, 2, 4 or 8 on a 910 board)",
            code == grpc.StatusCode.RESOURCE_EXHAUSTED, f"{code} {message}")
    must = preferred(stub, ids, 2, must=["5"])
    c.check("preferred 2 with must-include 5: 5 and its ring", "5" in must and len(must) == 2
            and all(int(i) // 4 == 1 for i in must), str(must))
    r = allocate(stub, ["4", "5"])
    c.check("Allocate 4,5: ASCEND_VISIBLE_DEVICES", r.envs.get("ASCEND_VISIBLE_DEVICES") == "4,5",
            str(dict(r.envs)))
    c.check("Allocate 4,5: ASCEND_RT_VISIBLE_DEVICES (logical)",
            r.envs.get("ASCEND_RT_VISIBLE_DEVICES") == "4,5", str(dict(r.envs)))
    nodes = sorted(d.container_path for d in r.devices)
    c.check("Allocate 4,5: davinci4, davinci5 and the manager nodes", nodes == sorted(
        ["/dev/davinci4", "/dev/davinci5", "/dev/davinci_manager", "/dev/devmm_svm",
         "/dev/hisi_hdc"]), str(nodes))
    c.check("Allocate: host paths under the device root, rw",
            all(d.host_path == run.path("dev" + d.container_path[4:]) and d.permissions == "rw"
                for d in r.devices), str(r.devices))
    mounts = {m.container_path: (m.host_path, m.read_only) for m in r.mounts}
    c.check("Allocate: the driver folder mounted read-only (present), npu-smi not (absent)",
            mounts == {"/usr/local/Ascend/driver": ("/usr/local/Ascend/driver", True)}, str(mounts))
    c.check("Allocate: no CDI names for Ascend", not r.cdi_devices)
    c.check("PreStartContainer: accepted", rpc_error(lambda: stub.PreStartContainer(
        api_pb2.PreStartContainerRequest(devices_ids=["4"]), timeout=5))[0] ==
        grpc.StatusCode.OK)
    run.health_change(watch, "3", "dev/davinci3")
    # A device unhealthy now is not handed out.
    run.remove("dev/davinci6")
    watch.wait_for(lambda l: {d.ID: d.health for d in l.devices}.get("6") == "Unhealthy", 2)
    code, message = rpc_error(lambda: allocate(stub, ["6"]))
    c.check("Allocate of an Unhealthy device: FAILED_PRECONDITION naming it",
            code == grpc.StatusCode.FAILED_PRECONDITION and '"6"' in message, f"{code} {message}")
    watch.close()
    run.finish()


def scenario_nvidia(run):
    c = run.c
    stub, watch = run.start_watching("nvidia.com/gpu")
    u0, u1 = "GPU-00000000-0000-0000-0000-000000000000", "GPU-11111111-1111-1111-1111-111111111111"
    c.check("ListAndWatch: 2 GPUs by UUID with their NUMA nodes", watch.wait_for(
        lambda l: {(d.ID, tuple(n.ID for n in d.topology.nodes)) for d in l.devices} ==
        {(u0, (0,)), (u1, (1,))}, 5), str(watch.latest))
    c.check("preferred 1 of 2", len(preferred(stub, [u0, u1], 1)) == 1)
    r = allocate(stub, [u1])
    c.check("Allocate: CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES = the UUID",
            r.envs.get("CUDA_VISIBLE_DEVICES") == u1 and r.envs.get("NVIDIA_VISIBLE_DEVICES") == u1,
            str(dict(r.envs)))
    nodes = sorted(d.container_path for d in r.devices)
    c.check("Allocate: nvidia1 plus nvidiactl and nvidia-uvm",
            nodes == ["/dev/nvidia-uvm", "/dev/nvidia1", "/dev/nvidiactl"], str(nodes))
    c.check("Allocate: CDI name nvidia.com/gpu=<uuid> (--cdi)",
            [d.name for d in r.cdi_devices] == ["nvidia.com/gpu=" + u1], str(r.cdi_devices))
    c.check("Allocate: no driver mounts (the NVIDIA toolkit's job)", not r.mounts)
    run.health_change(watch, u1, "dev/nvidia1")
    watch.close()
    run.finish()


def scenario_mlu(run):
    c = run.c
    stub, watch = run.start_watching("cambricon.com/mlu")
    c.check("ListAndWatch: 4 MLUs", watch.wait_for(
        lambda l: sorted(d.ID for d in l.devices) == ["0", "1", "2", "3"], 5), str(watch.latest))
    c.check("preferred 2 of 4", len(preferred(stub, ["0", "1", "2", "3"], 2)) == 2)
    r = allocate(stub, ["2", "3"])
    c.check("Allocate: MLU_VISIBLE_DEVICES and CAMBRICON_VISIBLE_DEVICES",
            r.envs.get("MLU_VISIBLE_DEVICES") == "2,3" and
            r.envs.get("CAMBRICON_VISIBLE_DEVICES") == "2,3", str(dict(r.envs)))
    nodes = sorted(d.container_path for d in r.devices)
    c.check("Allocate: cambricon_dev2, 3 and cambricon_ctl", nodes == [
        "/dev/cambricon_ctl", "/dev/cambricon_dev2", "/dev/cambricon_dev3"], str(nodes))
    mounts = [m.container_path for m in r.mounts]
    c.check("Allocate: cnmon mounted read-only", mounts == ["/usr/bin/cnmon"] and
            all(m.read_only for m in r.mounts), str(mounts))
    start = time.monotonic()
    run.remove("dev/cambricon_ctl")
    ok = watch.wait_for(lambda l: all(d.health == "Unhealthy" for d in l.devices), HEALTH_WAIT)
    c.check("cambricon_ctl removed: every MLU Unhealthy within 1 s", ok,
            f"after {time.monotonic() - start:.2f}s: {watch.health()}")
    watch.close()
    run.finish()


def scenario_lifecycle(run):
    """A mixed server as one plugin; started before kubelet; kubelet restarts; SIGTERM."""
    c = run.c
    expected = ["huawei.com/Ascend910", "nvidia.com/gpu", "cambricon.com/mlu"]
    run.plugin = Plugin(run.args.plugin, run.root, run.plugin_dir, run.args.extra)
    run.kubelet.start()  # after the plugin: it registers once kubelet.sock appears
    endpoints = run.expect_registrations(expected, "first")
    sockets = sorted(n for n in os.listdir(run.plugin_dir) if n != "kubelet.sock")
    c.check("one socket per resource", sockets == sorted(endpoints.values()), str(sockets))
    for restart in (1, 2):
        run.kubelet.stop()
        run.kubelet.start()  # deletes every socket, as kubelet does
        endpoints = run.expect_registrations(expected, f"after kubelet restart {restart}")
        for name, endpoint in endpoints.items():
            stub, channel = run.plugin.stub(endpoint)
            watch = Watch(stub)
            c.check(f"{name}: ListAndWatch answers after restart {restart}",
                    watch.wait_for(lambda l: len(l.devices) > 0, 5))
            watch.close()
            channel.close()
    c.check("no extra registration", run.kubelet.registration.registered.empty())
    run.finish()


def scenario_malformed(run):
    c = run.c
    endpoints = run.start(["huawei.com/Ascend910"])
    socket = endpoints["huawei.com/Ascend910"]
    stub, channel = run.plugin.stub(socket)
    ids = [str(i) for i in range(8)]
    A = grpc.StatusCode

    def expect(name, call, code, needle):
        got, message = rpc_error(call)
        c.check(f"{name}: {code.name} naming {needle!r}", got == code and needle in message,
                f"{got} {message}")

    expect("Allocate unknown id", lambda: allocate(stub, ["0", "42"]), A.NOT_FOUND, '"42"')
    expect("Allocate 9 of 8", lambda: allocate(stub, ids + ["8"]), A.RESOURCE_EXHAUSTED,
           "9 devices asked")
    expect("Allocate the same id twice", lambda: allocate(stub, ["1", "1"]), A.INVALID_ARGUMENT,
           "given twice")
    expect("Allocate nothing", lambda: allocate(stub, []), A.INVALID_ARGUMENT, "devices_ids")
    expect("Allocate no container", lambda: stub.Allocate(api_pb2.AllocateRequest(), timeout=5),
           A.INVALID_ARGUMENT, "container_requests")
    expect("Allocate 10 KB id", lambda: allocate(stub, ["x" * 10000]), A.NOT_FOUND, "...")
    expect("Allocate id with control bytes", lambda: allocate(stub, ["\x00\x01\n"]), A.NOT_FOUND,
           '"???"')
    many = api_pb2.AllocateRequest(container_requests=[
        api_pb2.ContainerAllocateRequest(devices_ids=["0"])] * 1000)
    expect("Allocate 1000 containers", lambda: stub.Allocate(many, timeout=5),
           A.INVALID_ARGUMENT, "container_requests")
    expect("preferred size 9 of 8", lambda: preferred(stub, ids, 9), A.INVALID_ARGUMENT,
           "allocation_size")
    expect("preferred size 0", lambda: preferred(stub, ids, 0), A.INVALID_ARGUMENT,
           "allocation_size")
    expect("preferred size -5", lambda: preferred(stub, ids, -5), A.INVALID_ARGUMENT,
           "allocation_size")
    expect("preferred unknown available id", lambda: preferred(stub, ["0", "nope"], 1),
           A.NOT_FOUND, '"nope"')
    expect("preferred must-include not available", lambda: preferred(stub, ["0", "1"], 2, ["2"]),
           A.INVALID_ARGUMENT, "must_include")
    expect("PreStartContainer unknown id", lambda: stub.PreStartContainer(
        api_pb2.PreStartContainerRequest(devices_ids=["99"]), timeout=5), A.NOT_FOUND, '"99"')
    # Bytes that are no protobuf at all, and a message past the size limit.
    raw = channel.unary_unary("/v1beta1.DevicePlugin/Allocate")
    got, _ = rpc_error(lambda: raw(b"\xff\xff\xff\xff\x0f\x12", timeout=5))
    c.check("Allocate with garbage bytes: an error, not a crash", got != A.OK, str(got))
    got, _ = rpc_error(lambda: raw(b"\x0a" + b"\xff" * (2 << 20), timeout=5))
    c.check("a 2 MiB message: RESOURCE_EXHAUSTED", got == A.RESOURCE_EXHAUSTED, str(got))
    got, _ = rpc_error(lambda: channel.unary_unary("/v1beta1.DevicePlugin/Nope")(b"", timeout=5))
    c.check("an unknown method: UNIMPLEMENTED", got == A.UNIMPLEMENTED, str(got))
    c.check("plugin still running", run.plugin.process.poll() is None)
    r = allocate(stub, ["0"])
    c.check("a good Allocate still answers", r.envs.get("ASCEND_VISIBLE_DEVICES") == "0")
    channel.close()
    run.finish()


SCENARIOS = {"ascend": scenario_ascend, "nvidia": scenario_nvidia, "mlu": scenario_mlu,
             "lifecycle": scenario_lifecycle, "malformed": scenario_malformed}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--root", required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    checks = Checks()
    run = Run(args, checks)
    try:
        SCENARIOS[args.scenario](run)
    except Exception as e:  # a check that could not even run
        checks.check("scenario ran to the end", False, repr(e))
    finally:
        if run.plugin and run.plugin.process.poll() is None:
            run.plugin.process.kill()
        run.kubelet.stop()
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
