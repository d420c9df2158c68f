#!/usr/bin/env bash
# Real-GPU check of the nvidia plugin (deviceplugin/README.md): duet-devices through NVML, then
# duetd placing engines on the nvidia handler that print their CUDA env and ask PyTorch what
# they see. Run from the repository root on a machine with an NVIDIA GPU, after `make build`;
# LIBS may name a folder with the shared libraries the binaries need (a host without them).
# GPUS=N gives each replica N GPUs (tensor parallel): each then runs one NCCL all-reduce across
# its GPUs (tools/nccl_allreduce.py); REPLICAS=M places M of them.
set -euo pipefail

top=$(pwd)
bin="$top/build/release/bin"
libs="${LIBS:-}"
[ -n "$libs" ] && export LD_LIBRARY_PATH="$top/$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
work=$(mktemp -d /tmp/duet-gpu-XXXXXX)
trap 'pkill -KILL -s "$duetd_pid" 2>/dev/null || true' EXIT

gpus="${GPUS:-1}"
replicas="${REPLICAS:-1}"
echo "== nvidia-smi -L"; nvidia-smi -L
echo "== nvidia-smi topo -m"; nvidia-smi topo -m
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
  replicas: $replicas
  resources: {devices: $gpus}
  template:
    command: [/bin/sh, -c, 'echo "CUDA_VISIBLE_DEVICES=\$CUDA_VISIBLE_DEVICES NVIDIA_VISIBLE_DEVICES=\$NVIDIA_VISIBLE_DEVICES DEVICE_IDS=\${DEVICE_IDS}"; python3 -c "import torch; print(\"torch.cuda.device_count() =\", torch.cuda.device_count(), torch.cuda.get_device_name(0))"; if [ \${DEVICE_COUNT} -gt 1 ]; then python3 $top/tools/nccl_allreduce.py; fi; exec duet-sim --port "\$PORT"']
    # Multicast (NVLS) stays off: the lent machines do not allow it (KINDS.md).
    env: {LD_LIBRARY_PATH: "${LD_LIBRARY_PATH:-}", NCCL_NVLS_ENABLE: "0", TORCH_SYMM_MEM_DISABLE_MULTICAST: "1",
          NVSHMEM_DISABLE_NVLS: "1", NCCL_DEBUG: INFO, NCCL_DEBUG_SUBSYS: "INIT,P2P"}
    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}
YAML

export PATH="$bin:$PATH" DUET_SERVER="unix:$work/duetd.sock"
setsid "$bin/duetd" --api "$DUET_SERVER" --state-dir "$work/state" --port-range 21000-21099 \
  2>"$work/duetd.log" &
duetd_pid=$!
for _ in $(seq 100); do [ -S "$work/duetd.sock" ] && break; sleep 0.1; done
duetctl apply -f "$work/gpu.yaml"
for _ in $(seq 1200); do
  [ "$(duetctl get engines -o json | grep -c '"ready": true')" -ge "$replicas" ] && break
  sleep 0.1
done
echo "== duetctl get devices -o wide"; duetctl get devices -o wide | grep -E 'KIND|nvidia'
echo "== duetctl get engines -o wide"; duetctl get engines -o wide
for log in "$work"/state/logs/gpu-probe-*.log; do
  echo "== engine log $(basename "$log")"
  grep -vE 'NCCL INFO (cudaDriverVersion|Bootstrap|NET/|comm 0x|Using network|NCCL_|ncclCommInitRank|init.cc|Init config|Setting affinity|P2P Chunksize|threadThresholds|[0-9]+ coll channels)' "$log" || true
done
echo "== duetd log (devices)"; grep -E 'component=devices|component=deviceplugin' "$work/duetd.log" || true
