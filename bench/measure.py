"""Timing and machine measurements for bench.py: torch timing (CUDA events with
or without an L2 flush, direct calls or CUDA-graph replay, or the host clock),
copy bandwidth, the device's description, and winnow-run's `--bench` lines."""
import ctypes
import os
import platform
import re
import statistics
import time

import torch

BENCH_LINE = re.compile(r"bench: (\d+) calls, median ([0-9.]+) us, min ([0-9.]+) us, mean ([0-9.]+) us")
LAUNCH_LINE = re.compile(r"^  launch (\d+) (\S+) grid (\d+)x(\d+)x(\d+) block (\d+)x(\d+)x(\d+) smem (\d+): "
                         r"median ([0-9.]+) us, min ([0-9.]+) us$")


def cuda_driver_problem():
    """None when a CUDA driver and GPU are usable, else why not (one line)."""
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError as error:
        return "no CUDA driver: libcuda.so.1 could not be loaded (%s)" % error
    if not torch.cuda.is_available():
        return "torch %s sees no CUDA GPU (torch.cuda.is_available() is False)" % torch.__version__
    return None


def synchronize(device):
    if device == "cuda":
        torch.cuda.synchronize()


class L2Flusher:
    """Writes a buffer of twice the L2 size, so the next timed call starts with a cold L2."""

    def __init__(self, device):
        self.buffer = None
        if device == "cuda":
            l2 = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 0) or (64 << 20)
            self.buffer = torch.empty(2 * l2, dtype=torch.uint8, device="cuda")

    def __call__(self):
        if self.buffer is not None:
            self.buffer.zero_()


def capture_graph(fn, warmup=3):
    """fn captured as a torch.cuda.CUDAGraph, after warm-up calls on a side stream (as torch requires).
    Raises when fn cannot be captured (host synchronisation, data-dependent shapes, CPU tensors)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph


def median_us(fn, device, iters, warmup=3, flush=None, graph=False):
    """Median µs of fn(): CUDA events around each call on CUDA (around one replay of fn captured as a
    CUDA graph with graph=True), the host clock on the CPU. flush runs before each call, untimed."""
    if graph:
        captured = capture_graph(fn)
        fn = captured.replay
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(iters):
        if flush is not None:
            flush()
        if device == "cuda":
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) * 1e3)
        else:
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e6)
    return statistics.median(times)


def copy_bandwidth(device, iters=20):
    """Read + write bytes/s of a device-to-device copy of a large buffer (1 GiB on CUDA, 256 MiB on the CPU)."""
    size = (1 << 30) if device == "cuda" else (256 << 20)
    src = torch.ones(size, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    us = median_us(lambda: dst.copy_(src), device, iters, warmup=2)
    del src, dst
    if device == "cuda":
        torch.cuda.empty_cache()
    return 2 * size / (us * 1e-6)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(device):
    info = dict(device=device, torch=torch.__version__, host_cpu=cpu_model(), cores=os.cpu_count(),
                load_average_at_start=list(os.getloadavg()))
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda,
                    sm_count=props.multi_processor_count,
                    l2_bytes=getattr(props, "L2_cache_size", None),
                    memory_bytes=props.total_memory)
        info["name"] = info["gpu"]
    else:
        info["name"] = info["host_cpu"]
    return info


def parse_winnow_bench(stdout):
    """winnow-run --bench's lines -> dict(calls, median_us, min_us, mean_us, note) of the first line (on CUDA
    the targets' condition, cold L2 + graph replay, when it was measured), with `conditions`: the same dict
    for every line keyed by its condition ("cold L2, graph replay", ...; "host clock" on the CPU)."""
    conditions = {}
    first = None
    for line in stdout.splitlines():
        m = BENCH_LINE.search(line)
        if not m:
            continue
        note = line[m.end():].strip(" ()")
        entry = dict(calls=int(m.group(1)), median_us=float(m.group(2)), min_us=float(m.group(3)),
                     mean_us=float(m.group(4)), note=note)
        # "CUDA events on cuda:0, device tensors, cold L2, graph replay" -> "cold L2, graph replay"
        parts = [p.strip() for p in note.split(",")]
        key = ", ".join(parts[-2:]) if len(parts) >= 4 else "host clock"
        conditions[key] = entry
        if first is None:
            first = entry
    if first is None:
        raise ValueError("no 'bench: N calls, median U us, ...' line in winnow-run's output:\n" + stdout)
    return dict(first, conditions=conditions)


def parse_winnow_launches(stdout):
    """winnow-run --bench-launches's lines -> [dict(index, kernel, grid, block, smem, median_us, min_us)]."""
    launches = []
    for line in stdout.splitlines():
        m = LAUNCH_LINE.match(line)
        if m:
            g = [int(x) for x in m.groups()[2:9]]
            launches.append(dict(index=int(m.group(1)), kernel=m.group(2), grid=g[0:3], block=g[3:6], smem=g[6],
                                 median_us=float(m.group(10)), min_us=float(m.group(11))))
    if not launches and "launches: " not in stdout:
        raise ValueError("no 'launches: ...' block in winnow-run's output:\n" + stdout)
    return launches
