// Tier 2 of duet-kubelet-plugin's tests: kubelet's own device manager (the tree this file is
// copied into: Debian's kubernetes 1.20.2 source, pkg/kubelet/cm/devicemanager) drives the
// real plugin binary: Register -> ListAndWatch -> GetPreferredAllocation -> Allocate, then a
// health change. Run by tests/kubelet/kubelet_tier2.sh; nothing of Kubernetes is committed.
//
// DP_PLUGIN_BIN    the plugin binary        DP_PLUGIN_ARGS  its flags (space separated)
// DP_RESOURCE      the resource to ask for  DP_DEVICES      how many it serves
// DP_REQUEST       how many a pod asks for  DP_RING         ids per HCCS ring (0: no check)
// DP_REMOVE        a device node to remove: one device fewer must become allocatable
package devicemanager

import (
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/kubelet/cm/topologymanager"
)

func envInt(t *testing.T, name string) int64 {
	v, err := strconv.ParseInt(os.Getenv(name), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// Polls the device manager until `resource` is allocatable `want` times (a deadline, no sleep
// used for ordering).
func waitAllocatable(t *testing.T, m *ManagerImpl, res string, want int64, what string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, allocatable, _ := m.GetCapacity()
		q := allocatable[v1.ResourceName(res)]
		if q.Value() == want {
			t.Logf("%s: %s allocatable = %d", what, res, want)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s allocatable %d, want %d", what, res, q.Value(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExternalPlugin(t *testing.T) {
	bin, res := os.Getenv("DP_PLUGIN_BIN"), os.Getenv("DP_RESOURCE")
	if bin == "" || res == "" {
		t.Skip("DP_PLUGIN_BIN and DP_RESOURCE not set")
	}
	devices, request, ring := envInt(t, "DP_DEVICES"), envInt(t, "DP_REQUEST"), envInt(t, "DP_RING")
	dir, err := ioutil.TempDir("", "dm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)

	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{UID: types.UID("duet-tier2"), Name: "duet", Namespace: "default"},
		Spec: v1.PodSpec{Containers: []v1.Container{{
			Name: "engine",
			Resources: v1.ResourceRequirements{Limits: v1.ResourceList{
				v1.ResourceName(res): *resource.NewQuantity(request, resource.DecimalSI)}},
		}}},
	}
	m, err := newManagerImpl(filepath.Join(dir, "kubelet.sock"), nil, topologymanager.NewFakeManager())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(func() []*v1.Pod { return []*v1.Pod{pod} }, &sourcesReadyStub{}); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()

	args := append([]string{"--plugin-dir", dir}, strings.Fields(os.Getenv("DP_PLUGIN_ARGS"))...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("plugin exit: %v", err)
		}
	}()

	waitAllocatable(t, m, res, devices, "Register + ListAndWatch")
	container := &pod.Spec.Containers[0]
	if err := m.Allocate(pod, container); err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	got := m.podDevices.containerDevices(string(pod.UID), container.Name, res).List()
	sort.Strings(got)
	t.Logf("GetPreferredAllocation + Allocate: devices %v", got)
	if int64(len(got)) != request {
		t.Fatalf("allocated %v, want %d devices", got, request)
	}
	if ring > 0 {
		for _, id := range got {
			a, _ := strconv.Atoi(id)
			b, _ := strconv.Atoi(got[0])
			if int64(a)/ring != int64(b)/ring {
				t.Fatalf("allocated %v spans HCCS rings of %d", got, ring)
			}
		}
	}
	opts, err := m.GetDeviceRunContainerOptions(pod, container)
	if err != nil {
		t.Fatalf("GetDeviceRunContainerOptions: %v", err)
	}
	for _, e := range opts.Envs {
		t.Logf("env %s=%s", e.Name, e.Value)
	}
	for _, d := range opts.Devices {
		t.Logf("device %s -> %s (%s)", d.PathOnHost, d.PathInContainer, d.Permissions)
	}
	for _, mnt := range opts.Mounts {
		t.Logf("mount %s -> %s ro=%v", mnt.HostPath, mnt.ContainerPath, mnt.ReadOnly)
	}
	if len(opts.Envs) == 0 || len(opts.Devices) <= len(got) {
		t.Fatalf("want env and device nodes beyond the devices' own, got %+v", opts)
	}

	if node := os.Getenv("DP_REMOVE"); node != "" {
		if err := os.Remove(node); err != nil {
			t.Fatal(err)
		}
		waitAllocatable(t, m, res, devices-1, "health change "+filepath.Base(node)+" removed")
	}
}
