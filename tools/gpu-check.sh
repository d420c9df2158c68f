#!/usr/bin/env bash
# Real-GPU check of the nvidia plugin (deviceplugin/README.md): duet-devices through NVML, then
# duetd placing an engine on the nvidia handler that prints its CUDA env and asks PyTorch what
# it sees. Run from the repository root on a machine with an NVIDIA GPU, after `make build`;
# LIBS may name a folder with the shared libraries the binaries need (a host without them).
set -euo pipefail

top=$(pwd)
bin="$top/build/release/bin"
libs="${LIBS:-}"
[ -n "$libs" ] && export LD_LIBRARY_PATH="$top/$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
work=$(mktemp -d /tmp/duet-gpu-XXXXXX)
trap 'pkill -KILL -s "$duetd_pid" 2>/dev/null || true' EXIT

echo "== nvidia-smi -L"; nvidia-smi -L
echo "== duet-devices --handler nvidia"; "$bin/duet-devices" --handler nvidia
echo "== duet-devices --json (nvidia)"; "$bin/duet-devices" --json --handler nvidia

cat >"$work/gpu.yaml" <<YAML
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: gpu}
handler: nvidia
---
apiVersion: duet/v1alpha1
kind: EngineDeployment
metadata: {name: gpu-probe}
spec:
  runtimeClassName: gpu
  replicas: 1
  resources: {devices: 1}
  template:
    command: [/bin/sh, -c, 'echo "CUDA_VISIBLE_DEVICES=\$CUDA_VISIBLE_DEVICES NVIDIA_VISIBLE_DEVICES=\$NVIDIA_VISIBLE_DEVICES DEVICE_IDS=\${DEVICE_IDS}"; python3 -c "import torch; print(\"torch.cuda.device_count() =\", torch.cuda.device_count(), torch.cuda.get_device_name(0))"; exec duet-sim --port "\$PORT"']
    env: {LD_LIBRARY_PATH: "${LD_LIBRARY_PATH:-}"}
    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}
YAML

export PATH="$bin:$PATH" DUET_SERVER="unix:$work/duetd.sock"
setsid "$bin/duetd" --api "$DUET_SERVER" --state-dir "$work/state" --port-range 21000-21099 \
  2>"$work/duetd.log" &
duetd_pid=$!
for _ in $(seq 100); do [ -S "$work/duetd.sock" ] && break; sleep 0.1; done
duetctl apply -f "$work/gpu.yaml"
for _ in $(seq 600); do
  duetctl get engines -o json | grep -q '"ready": true' && break
  sleep 0.1
done
echo "== duetctl get devices -o wide"; duetctl get devices -o wide | grep -E 'KIND|nvidia'
echo "== duetctl get engines -o wide"; duetctl get engines -o wide
echo "== engine log"; cat "$work/state/logs/gpu-probe-0.log"
echo "== duetd log (devices)"; grep -E 'component=devices|component=deviceplugin' "$work/duetd.log" || true
