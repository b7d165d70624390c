"""Report writers for bench.py: the summary statistics, a Markdown table and a
roofline plot (achieved time against roofline time per case)."""
import json
import statistics


def within_target(us, roofline_us):
    """The GPU target: time ≤ max(1.25 × roofline, roofline + 5 µs)."""
    return us <= max(1.25 * roofline_us, roofline_us + 5.0)


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(records, eager_keys):
    """Medians of the speedups over the cases whose outputs agreed and were timed."""
    timed = [r for r in records if r.get("winnow_us") is not None]
    summary = dict(cases=len(records), skipped=sum(1 for r in records if r.get("skipped")),
                   agreed=sum(1 for r in records if r.get("outputs_agree")),
                   timed=len(timed),
                   within_roofline_target=sum(1 for r in timed if r["within_roofline_target"]))
    for key in eager_keys:
        summary["median_speedup_vs_" + key] = median_or_none([r["speedup_vs_" + key] for r in timed if ("speedup_vs_" + key) in r])
    summary["median_speedup_vs_torch_compile"] = median_or_none(
        [r.get("speedup_vs_torch_compile") for r in timed])
    summary["torch_compile_cases"] = sum(1 for r in timed if r.get("speedup_vs_torch_compile") is not None)
    return summary


def model_vs_measured(records):
    """The model's estimates against the GPU's times (docs/cuda.md, "Performance model"): per case, the
    entry's estimate against Winnow's measured time (cold L2, graph replay); per launch, the launch's
    estimate against its median from winnow-run --bench-launches, matched in launch order. None without
    per-launch measurements (a CPU run)."""
    cases, launches = [], []
    for r in records:
        measured, model = r.get("winnow_launches"), r.get("model_launches")
        if r.get("winnow_us") is None or not measured or not model:
            continue
        cases.append(dict(case=r["case"], model_us=r.get("model_estimate_us"), measured_us=r["winnow_us"],
                          launches_measured=len(measured), launches_modelled=len(model),
                          ratio=r["winnow_us"] / r["model_estimate_us"] if r.get("model_estimate_us") else None))
        for m, e in zip(measured, model):
            launches.append(dict(case=r["case"], index=m["index"], kernel=m["kernel"], model_kernel=e["kernel"],
                                 grid=m["grid"], block=m["block"], bound=e["bound"], model_us=e["estimate_us"],
                                 measured_us=m["median_us"], ratio=m["median_us"] / e["estimate_us"]))
    if not cases:
        return None
    return dict(cases=cases, launches=launches,
                median_case_ratio=median_or_none([c["ratio"] for c in cases]),
                median_launch_ratio=median_or_none([l["ratio"] for l in launches]),
                launches_within_2x=sum(1 for l in launches if 0.5 <= l["ratio"] <= 2.0))


def model_vs_measured_markdown(table):
    lines = ["## Model vs measured", "",
             "Measured ÷ model: median **%s** per case, **%s** per launch; %d of %d launches within 2×." % (
                 fmt(table["median_case_ratio"], "%.2f"), fmt(table["median_launch_ratio"], "%.2f"),
                 table["launches_within_2x"], len(table["launches"])), "",
             "| case | model µs | measured µs (cold L2, graph) | measured ÷ model | launches measured / modelled |",
             "|---|---|---|---|---|"]
    for c in table["cases"]:
        lines.append("| %s | %s | %.1f | %s | %d / %d |" % (c["case"], fmt(c["model_us"]), c["measured_us"],
                                                          fmt(c["ratio"], "%.2f"), c["launches_measured"],
                                                          c["launches_modelled"]))
    lines += ["", "| case | # | kernel | grid × block | model bound | model µs | measured µs | measured ÷ model |",
              "|---|---|---|---|---|---|---|---|"]
    for l in table["launches"]:
        kernel = l["kernel"] if l["kernel"] == l["model_kernel"] else "%s (model: %s)" % (l["kernel"], l["model_kernel"])
        lines.append("| %s | %d | %s | %s × %s | %s | %.1f | %.1f | %.2f |" % (
            l["case"], l["index"], kernel, "x".join(map(str, l["grid"])), "x".join(map(str, l["block"])),
            l["bound"], l["model_us"], l["measured_us"], l["ratio"]))
    return lines


def fmt(value, spec="%.1f", none="–"):
    return none if value is None else spec % value


def shape_text(params):
    return ", ".join("%s=%s" % (k, ("%.3g" % v) if isinstance(v, float) else v) for k, v in params.items())


def agreement_text(record):
    if record.get("skipped"):
        return "skipped: " + record["skipped"]
    return "yes" if record.get("outputs_agree") else "**NO: %s**" % record.get("check_message", "")


def markdown(report):
    env, summary, records = report["environment"], report["summary"], report["cases"]
    eager_cols = report["eager_columns"]
    lines = ["# Benchmark: %s, %s" % (env["name"], report["date"]), ""]
    lines += ["Device `%s` (%s); torch %s; copy bandwidth measured in this run: **%.1f GB/s** (read + write, %s)."
              % (report["device"], env["name"], env["torch"], report["copy_bandwidth_gbs"],
                 report["copy_bandwidth_method"]), ""]
    lines += [report["method"], ""]
    if "load_average_at_start" in env:
        lines += ["Host load average (1 min) at start / end: %.2f / %.2f on %d cores (other work on the machine shows up as noise)."
                  % (env["load_average_at_start"][0], env.get("load_average_at_end", [float("nan")])[0], env["cores"]), ""]
    for note in report.get("notes", []):
        lines.append("- " + note)
    lines.append("")
    head = ["case", "shape", "Winnow µs", "model µs"] + ["%s µs" % label for _, label in eager_cols] + \
           ["compile µs", "roofline µs", "GB/s", "% copy BW"] + \
           ["× %s" % label for _, label in eager_cols] + ["× compile", "≤ target", "agree"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for r in records:
        row = [r["case"], shape_text(r["params"]), fmt(r.get("winnow_us")), fmt(r.get("model_estimate_us"))]
        row += [fmt(r.get(key + "_us")) for key, _ in eager_cols]
        row += [fmt(r.get("torch_compile_us")), fmt(r["roofline_us"]), fmt(r.get("effective_gbs")),
                fmt(None if r.get("fraction_of_copy_bw") is None else 100 * r["fraction_of_copy_bw"], "%.0f%%")]
        row += [fmt(r.get("speedup_vs_" + key), "%.2fx") for key, _ in eager_cols]
        row += [fmt(r.get("speedup_vs_torch_compile"), "%.2fx"),
                {True: "yes", False: "no", None: "–"}[r.get("within_roofline_target")],
                agreement_text(r)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Summary over the %d cases whose outputs agreed and were timed (of %d):" % (summary["timed"], summary["cases"]))
    lines.append("")
    for key, label in eager_cols:
        lines.append("- median speedup vs %s: **%s**" % (label, fmt(summary.get("median_speedup_vs_" + key), "%.2fx")))
    lines.append("- median speedup vs torch.compile: **%s** (%d cases compiled)" % (
        fmt(summary["median_speedup_vs_torch_compile"], "%.2fx"), summary["torch_compile_cases"]))
    lines.append("- within max(1.25 × roofline, roofline + 5 µs): %d of %d" % (summary["within_roofline_target"], summary["timed"]))
    if report.get("compile_time_6op_s") is not None:
        lines.append("- compile time of the 6-op recipe for cpu + cuda sm_80, sm_90 (at prepare): %.2f s (target ≤ 2 s)"
                     % report["compile_time_6op_s"])
    lines.append("")
    if report.get("model_vs_measured"):
        lines += model_vs_measured_markdown(report["model_vs_measured"]) + [""]
    lines.append("Columns: see bench/README.md. Raw numbers: the JSON beside this file.")
    return "\n".join(lines) + "\n"


def roofline_plot(report, png_path, data_path):
    """Achieved µs against roofline µs per case (log-log); writes the plot data as JSON too."""
    points = [dict(case=r["case"], roofline_us=r["roofline_us"], winnow_us=r.get("winnow_us"),
                   **{key + "_us": r.get(key + "_us") for key, _ in report["eager_columns"]},
                   torch_compile_us=r.get("torch_compile_us"))
              for r in report["cases"] if r.get("winnow_us") is not None]
    with open(data_path, "w") as f:
        json.dump(points, f, indent=1)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: wrote the plot data to %s, no PNG" % data_path
    if not points:
        return "no timed case: no PNG"
    fig, ax = plt.subplots(figsize=(9, 7))
    xs = [p["roofline_us"] for p in points]
    series = [("winnow_us", "Winnow", "o")] + \
             [(key + "_us", label, "x") for key, label in report["eager_columns"]] + \
             [("torch_compile_us", "torch.compile", "^")]
    for key, label, marker in series:
        pts = [(p["roofline_us"], p[key]) for p in points if p.get(key) is not None]
        if pts:
            ax.scatter([a for a, _ in pts], [b for _, b in pts], marker=marker, label=label)
    for p in points:
        ax.annotate(p["case"], (p["roofline_us"], p["winnow_us"]), fontsize=6, alpha=0.7)
    lo, hi = min(xs) * 0.5, max(max(xs), max(p["winnow_us"] for p in points)) * 2
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(grid, grid, "k-", lw=0.8, label="roofline")
    ax.plot(grid, [max(1.25 * g, g + 5) for g in grid], "k--", lw=0.8, label="target max(1.25×, +5 µs)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("roofline µs (minimal bytes / measured copy bandwidth)")
    ax.set_ylabel("achieved µs (median)")
    ax.set_title("%s, %s" % (report["environment"]["name"], report["date"]))
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return None
