"""Sparse input: peak extra memory of ``fit`` and ``transform`` on a wide one-hot matrix.

The input is what a ``OneHotEncoder`` returns for a table of 8 categorical
columns with 625 categories each: 200,000 x 5,000 CSR, exactly 8 ones per row
(1.6 M stored values, ~19 MB). Dense, it would take 4.0 GB as float32 (8.0 GB
as float64), more than the memory sk_ssl may use for it. A default
ContrastiveEmbedder (MLP encoder, n_components=32) is fitted on the first
20,000 rows (2 epochs; the model's quality does not matter here) and then
transforms all 200,000 rows. Peak extra memory = peak resident memory (the
kernel's ``VmHWM``, reset through ``/proc/self/clear_refs`` before each step)
minus the resident memory before the step, after a warm-up fit on 512 rows
(torch's one-time allocations are not the input's). A check on the first 2,000 rows
compares the sparse path's embeddings with those of the same rows densified.

Run: ``python benchmarks/bench_sparse.py [--quick]`` (``--quick``: 20,000 rows,
2,000 for fitting). One process, ``OMP_NUM_THREADS`` as set by the caller.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from _report import markdown_table, write

MB = 2**20


def _status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _measure(fn):
    """(result, seconds, peak extra MB) of ``fn()``: the rise of VmHWM over the RSS before it."""
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    before = _status_kb("VmRSS")
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return result, seconds, (_status_kb("VmHWM") - before) / 1024


def one_hot(n_rows, n_columns=8, categories=625, seed=0):
    rng = np.random.RandomState(seed)
    codes = rng.randint(categories, size=(n_rows, n_columns)) + categories * np.arange(n_columns)
    indptr = np.arange(0, n_rows * n_columns + 1, n_columns)
    return sp.csr_matrix((np.ones(n_rows * n_columns), codes.ravel(), indptr), shape=(n_rows, n_columns * categories))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows (smoke run)")
    args = parser.parse_args(argv)
    n_rows = 20_000 if args.quick else 200_000
    n_fit = n_rows // 10

    from sk_ssl import ContrastiveEmbedder

    X = one_hot(n_rows)
    dense_f32_mb = X.shape[0] * X.shape[1] * 4 / MB
    sparse_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / MB
    est = ContrastiveEmbedder(n_components=32, max_epochs=2, random_state=0, device="cpu")
    # Warm-up on 512 rows: torch's one-time allocations (thread pools, kernels) are not the input's.
    ContrastiveEmbedder(n_components=32, max_epochs=1, random_state=0, device="cpu").fit(X[:512]).transform(X[:512])
    _, fit_s, fit_mb = _measure(lambda: est.fit(X[:n_fit]))
    Z, transform_s, transform_mb = _measure(lambda: est.transform(X))
    check = X[:2000]
    max_diff = float(np.abs(est.transform(check) - est.transform(check.toarray())).max())
    output_mb = Z.nbytes / MB

    rows = [
        [f"fit ({n_fit:,} rows, 2 epochs)", f"{fit_mb:.0f}", f"{fit_s:.1f}"],
        [f"transform ({n_rows:,} rows)", f"{transform_mb:.0f}", f"{transform_s:.1f}"],
    ]
    md = (
        f"## Sparse input: {n_rows:,} x {X.shape[1]:,} one-hot rows\n\n"
        f"CSR with 8 ones per row ({sparse_mb:.0f} MB); dense it would take {dense_f32_mb:,.0f} MB as float32 "
        f"(twice that as float64). Default ContrastiveEmbedder (MLP, n_components=32), fitted on the first "
        f"{n_fit:,} rows for 2 epochs. Peak extra memory is the rise of peak RSS over RSS before the step "
        f"(the transform's output is {output_mb:.0f} MB of it). Sparse and densified input give embeddings "
        f"that differ by at most {max_diff:.1e} on 2,000 rows.\n\n"
        + markdown_table(["step", "peak extra memory (MB)", "time (s)"], rows)
    )
    payload = dict(
        rows=n_rows, features=X.shape[1], fit_rows=n_fit, sparse_mb=sparse_mb, dense_float32_mb=dense_f32_mb,
        fit_peak_extra_mb=fit_mb, fit_seconds=fit_s, transform_peak_extra_mb=transform_mb,
        transform_seconds=transform_s, output_mb=output_mb, max_abs_diff_sparse_vs_dense=max_diff,
    )  # fmt: skip
    write("sparse_quick" if args.quick else "sparse", payload, md)


if __name__ == "__main__":
    main()
