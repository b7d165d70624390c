"""Timing and machine measurements for bench.py: torch timing (CUDA events with
an L2 flush, or the host clock), copy bandwidth, the device's description, and
winnow-run's `--bench` line."""
import ctypes
import os
import platform
import re
import statistics
import time

import torch

BENCH_LINE = re.compile(r"bench: (\d+) calls, median ([0-9.]+) us, min ([0-9.]+) us, mean ([0-9.]+) us")


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


def median_us(fn, device, iters, warmup=3, flush=None):
    """Median µs of fn(): CUDA events around each call on CUDA, the host clock on the CPU."""
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
    """winnow-run --bench's line -> dict(calls, median_us, min_us, mean_us, note)."""
    for line in stdout.splitlines():
        m = BENCH_LINE.search(line)
        if m:
            return dict(calls=int(m.group(1)), median_us=float(m.group(2)), min_us=float(m.group(3)),
                        mean_us=float(m.group(4)), note=line[m.end():].strip(" ()"))
    raise ValueError("no 'bench: N calls, median U us, ...' line in winnow-run's output:\n" + stdout)
