"""Shared reporting for benchmarks: hardware line, mean ± std, JSON + Markdown."""

import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def hardware():
    """One line naming the machine the numbers were measured on."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}, "
        f"Python {platform.python_version()}"
    )


def git_commit():
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    except Exception:  # noqa: BLE001 - best effort
        return "unknown"


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std():.3f}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write(name, payload, markdown):
    """Write ``results/<name>.json`` and ``results/<name>.md``; return their paths."""
    RESULTS.mkdir(exist_ok=True)
    payload = {"benchmark": name, "hardware": hardware(), "commit": git_commit(),
               "date": time.strftime("%Y-%m-%d"), **payload}  # fmt: skip
    json_path = RESULTS / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=2, default=float))
    md_path = RESULTS / f"{name}.md"
    md_path.write_text(f"{markdown}\n\nHardware: {payload['hardware']}. Commit {payload['commit']}, {payload['date']}.\n")
    print(md_path.read_text())
    return json_path, md_path
