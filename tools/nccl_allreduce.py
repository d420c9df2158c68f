"""One NCCL all-reduce across every GPU this process sees (CUDA_VISIBLE_DEVICES), one worker
process per GPU, as a tensor-parallel engine would start. Run by tools/gpu-check.sh inside an
engine that duetd placed on several GPUs: it proves the GPUs it was given talk to each other
and, with NCCL_DEBUG=INFO, shows the transport NCCL chose (NVLink/P2P or shared memory)."""
import os
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, world, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=world)
    x = torch.full((1024,), float(rank + 1), device="cuda")
    dist.all_reduce(x)
    expected = world * (world + 1) / 2
    print(f"rank {rank}: {torch.cuda.get_device_name(rank)} all_reduce sum = {x[0].item()} "
          f"(expected {expected}) {'OK' if x[0].item() == expected else 'WRONG'}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    world = torch.cuda.device_count()
    print(f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')} -> {world} GPUs", flush=True)
    mp.spawn(worker, args=(world, 29500 + int(os.environ.get("PORT", "0")) % 1000), nprocs=world)
