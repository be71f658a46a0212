"""Bounded-memory inference: peak extra RSS of ``transform`` on 2,000,000 x 64 rows.

Each case runs in a fresh Python process: it creates the input (float32, or
float64 for the conversion case), fits the estimator on a 2,000-row subset
(n_components=32, 2 epochs: the model's quality does not matter here), runs a
small warm-up transform, records the resident memory, resets the kernel's
peak-RSS counter (``/proc/self/clear_refs``), runs ``transform`` on all rows
and reads the new peak (``VmHWM``). Peak extra memory = peak - RSS before
``transform``; the budget is output size + 256 MB (the input is already
resident and is not to be copied). The ``legacy`` case runs the previous
implementation (a list of torch batch outputs joined with ``torch.cat``, then
a dtype copy) on the same model, for comparison.

Run: ``python benchmarks/bench_memory.py [--quick]`` (``--quick``: 200,000 rows).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

MB = 2**20
BUDGET_MB = 256
CASES = {
    # name: (estimator, input dtype, legacy implementation)
    "ContrastiveEmbedder, float32": ("ContrastiveEmbedder", "float32", False),
    "MaskedAutoencoder, float32": ("MaskedAutoencoder", "float32", False),
    "ContrastiveEmbedder, float64": ("ContrastiveEmbedder", "float64", False),
    "ContrastiveEmbedder, float32, legacy": ("ContrastiveEmbedder", "float32", True),
}


def _status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _legacy_transform(est, X):
    """The pre-issue-8 inference: collect torch batches, torch.cat, .numpy(), astype."""
    import numpy as np
    import torch

    from sk_ssl._engine import _to_device

    X = est._validate_X(X, reset=False)
    size, outputs = est._inference_batch_size, []
    with torch.inference_mode():
        for start in range(0, len(X), size):
            outputs.append(est.module_.encode(_to_device(X[start : start + size], "cpu")).float().cpu())
    return torch.cat(outputs).numpy().astype(X.dtype, copy=False) if len(X) else np.empty(0)


def worker(case, n_rows):
    import numpy as np
    import torch

    import sk_ssl

    name, dtype, legacy = CASES[case]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, 64), dtype=np.float32 if dtype == "float32" else np.float64)
    est = getattr(sk_ssl, name)(n_components=32, max_epochs=2, batch_size=256, random_state=0, device="cpu")
    est.fit(X[:2000])
    transform = (lambda A: _legacy_transform(est, A)) if legacy else est.transform
    transform(X[:5000])  # warm-up: lazy imports, allocator pools, first-call caches
    baseline_kb = _status_kb("VmRSS")
    reset = _reset_peak()
    start = time.perf_counter()
    Z = transform(X)
    seconds = time.perf_counter() - start
    peak_kb = _status_kb("VmHWM")
    assert Z.shape == (n_rows, 32) and Z.dtype == X.dtype
    extra_mb = (peak_kb - baseline_kb) / 1024
    output_mb = Z.nbytes / MB
    return {
        "case": case,
        "rows": n_rows,
        "input_mb": X.nbytes / MB,
        "output_mb": output_mb,
        "rss_before_mb": baseline_kb / 1024,
        "peak_extra_mb": extra_mb,
        "overhead_mb": extra_mb - output_mb,
        "within_budget": bool(extra_mb <= output_mb + BUDGET_MB),
        "peak_reset": reset,
        "seconds": seconds,
        "rows_per_s": n_rows / seconds,
        "torch_threads": torch.get_num_threads(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 rows instead of 2,000,000")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_rows = args.rows or (200_000 if args.quick else 2_000_000)
    if args.worker:
        print(json.dumps(worker(args.worker, n_rows)))
        return

    results = []
    for case in CASES:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                             os.environ.get("PYTHONPATH", "")])}
        out = subprocess.run([sys.executable, __file__, "--worker", case, "--rows", str(n_rows)],
                             capture_output=True, text=True, check=True, env=env)  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(result, flush=True)
        results.append(result)

    from _report import markdown_table, write

    rows = [
        [
            r["case"],
            f"{r['input_mb']:.0f}",
            f"{r['output_mb']:.0f}",
            f"{r['peak_extra_mb']:.0f}",
            f"{r['overhead_mb']:.0f}",
            "yes" if r["within_budget"] else "**no**",
            f"{r['rows_per_s']:,.0f}",
        ]
        for r in results
    ]
    header = ["case", "input MB", "output MB", "peak extra MB", "extra - output MB", f"within output + {BUDGET_MB} MB",
              "rows/s"]  # fmt: skip
    md = (
        f"# Bounded-memory transform ({n_rows:,} x 64 rows, n_components=32)\n\n"
        "Peak extra resident memory of one `transform` call over the RSS before it (input loaded, model fitted "
        "on 2,000 rows), in a fresh process per case. Budget: output + 256 MB; the input is not copied. "
        "`legacy` is the previous implementation (list of torch batches + `torch.cat` + dtype copy). "
        "rows/s is indicative only: 2 CPU cores shared with other jobs.\n\n"
        + markdown_table(header, rows)
        + f"\n\nRe-run: `python benchmarks/bench_memory.py{' --quick' if args.quick else ''}`."
    )
    name = "memory_quick" if args.quick else "memory"
    write(name, {"rows": n_rows, "budget_mb": BUDGET_MB, "results": results}, md)


if __name__ == "__main__":
    main()
