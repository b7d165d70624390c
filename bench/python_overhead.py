#!/usr/bin/env python3
"""Per-call overhead of the winnow Python package against a direct C call.

The entry point is almost free (top-1 of 8 scores: 2 inputs, 2 results), so
the numbers are the cost of calling, not of computing. Reported, in µs per
call (median of repeats):

  c_direct        winnow_call_dlpack_by_index in a C loop on tensors that
                  are already DLTensors: the runtime's own per-call cost
  torch_out       module.entry(torch tensors, out=(torch tensors))
  numpy_out       the same with NumPy arrays (through __dlpack__)
  torch_alloc     without out=: the results are allocated each call
  torch_op        through the registered torch.library operator
  overhead        torch_out - c_direct: what the Python layer adds

On a GPU (--device=cuda, needs PyTorch with CUDA and a cuda artifact) the
calls are asynchronous; the host time per call is measured the same way,
plus the replay of a captured torch.cuda.CUDAGraph of the call.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py \\
      --out bench/results/python-overhead-cpu-DATE.json
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

PROGRAM = """
// Two inputs, two results, almost no work: the per-call overhead benchmark.
func.func @top1(%scores: tensor<1x8xf32> {tok.name = "scores"},
                %lengths: tensor<1xi32> {tok.name = "lengths"})
    -> (tensor<1x1xi32> {tok.name = "index"},
        tensor<1xi32> {tok.name = "count"}) {
  %idx, %n = tok.select #tok.top_k<1> of %scores lengths %lengths
      : (tensor<1x8xf32>, tensor<1xi32>) -> (tensor<1x1xi32>, tensor<1xi32>)
  return %idx, %n : tensor<1x1xi32>, tensor<1xi32>
}
"""


def per_call_us(function, iterations, repeats):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            function()
        samples.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(samples)


def cpu_case(winnow, torch, np, iterations, repeats, artifact):
    module = winnow.load(artifact if artifact else winnow.compile(PROGRAM),
                         "cpu")
    entry = module.top1
    scores = torch.rand(1, 8)
    lengths = torch.tensor([8], dtype=torch.int32)
    out = (torch.empty(1, 1, dtype=torch.int32),
           torch.empty(1, dtype=torch.int32))
    np_in = (scores.numpy().copy(), lengths.numpy().copy())
    np_out = (np.empty((1, 1), np.int32), np.empty((1,), np.int32))
    ops = winnow.register_torch_ops(module, prefix="overhead_bench")
    native = winnow._runtime.native
    results = {}
    results["c_direct"] = statistics.median(
        native.time_direct_call(module._executable, 0, (scores, lengths), out,
                                iterations) * 1e6 for _ in range(repeats))
    results["torch_out"] = per_call_us(
        lambda: entry(scores, lengths, out=out), iterations, repeats)
    results["numpy_out"] = per_call_us(
        lambda: entry(*np_in, out=np_out), iterations, repeats)
    results["torch_alloc"] = per_call_us(
        lambda: entry(scores, lengths), iterations, repeats)
    results["torch_op"] = per_call_us(
        lambda: ops.top1(scores, lengths), iterations, repeats)
    results["overhead"] = results["torch_out"] - results["c_direct"]
    assert int(out[0][0, 0]) == int(torch.argmax(scores[0]))
    return results


def cuda_case(winnow, torch, iterations, repeats, artifact):
    module = winnow.load(artifact if artifact else winnow.compile(
        PROGRAM, target="cuda"), "cuda")
    entry = module.top1
    scores = torch.rand(1, 8, device="cuda")
    lengths = torch.tensor([8], dtype=torch.int32, device="cuda")
    out = (torch.empty(1, 1, dtype=torch.int32, device="cuda"),
           torch.empty(1, dtype=torch.int32, device="cuda"))
    ops = winnow.register_torch_ops(module, prefix="overhead_bench_cuda")
    results = {}
    for name, function in (("torch_out", lambda: entry(scores, lengths,
                                                       out=out)),
                           ("torch_alloc", lambda: entry(scores, lengths)),
                           ("torch_op", lambda: ops.top1(scores, lengths))):
        function()
        torch.cuda.synchronize()
        results[name] = per_call_us(function, iterations, repeats)
        torch.cuda.synchronize()
    # A captured graph of the call, replayed.
    graph = torch.cuda.CUDAGraph()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        entry(scores, lengths, out=out)  # warm up on the capture stream
    torch.cuda.current_stream().wait_stream(stream)
    with torch.cuda.graph(graph):
        entry(scores, lengths, out=out)
    out[0].fill_(-7)
    graph.replay()
    torch.cuda.synchronize()
    assert int(out[0][0, 0].item()) == int(torch.argmax(scores[0]).item())
    results["graph_replay"] = per_call_us(graph.replay, iterations, repeats)
    torch.cuda.synchronize()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--artifact", help="a compiled PROGRAM (machines "
                        "without the compiler)")
    parser.add_argument("--out", help="write the results as JSON (and a .md "
                        "next to it)")
    args = parser.parse_args()
    import numpy as np
    import torch
    import winnow
    if args.device == "cpu":
        results = cpu_case(winnow, torch, np, args.iterations, args.repeats,
                           args.artifact)
        machine = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                machine = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
    else:
        results = cuda_case(winnow, torch, args.iterations, args.repeats,
                            args.artifact)
        machine = torch.cuda.get_device_name()
    report = {
        "date": datetime.date.today().isoformat(),
        "device": args.device, "machine": machine,
        "cores": os.cpu_count(), "python": platform.python_version(),
        "torch": torch.__version__, "numpy": np.__version__,
        "iterations": args.iterations, "repeats": args.repeats,
        "us_per_call": {k: round(v, 3) for k, v in results.items()},
    }
    print(json.dumps(report, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        rows = "\n".join(f"| {k} | {v:.2f} |"
                         for k, v in report["us_per_call"].items())
        with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
            f.write(
                f"# Python call overhead, {args.device}, {report['date']}\n\n"
                f"{machine}, {report['cores']} cores; Python "
                f"{report['python']}, torch {report['torch']}, NumPy "
                f"{report['numpy']}. Entry point: top-1 of 8 scores (2 "
                "inputs, 2 results); median of "
                f"{args.repeats} runs of {args.iterations} calls "
                "(bench/python_overhead.py).\n\n"
                "| path | µs per call |\n|---|---|\n" + rows + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
