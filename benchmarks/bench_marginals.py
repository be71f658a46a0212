"""SCARF / VIME corruption: the old donor pool of training rows vs the per-column summaries.

Since the privacy change, ``TabularCorruption`` (SCARF) and ``MarginalMasking``
(VIME) no longer keep the training rows; they draw each column from a
fixed-size summary (distinct values and frequencies, or 128 quantiles). This
benchmark checks that results do not get worse. The old samplers (a pool of
training rows, one donor row per cell) live only in this script and are
swapped in for the "pool" runs; everything else (splits, seeds, models,
epochs) is identical.

Protocol per dataset and seed: 70/30 stratified split of at most ``--rows``
rows; ContrastiveEmbedder (SCARF) and MaskedAutoencoder (VIME) pretrained on
the training split without labels; StandardScaler + LogisticRegression probe on
10 % and 100 % of the training labels, accuracy on the test split. Imputation:
20 % of the cells of the numeric columns removed completely at random,
MaskedAutoencoder fitted on the rows with holes, RMSE of ``reconstruct`` on the
removed cells in standardized units. The final training loss of every fit is
reported too, and the size of the fitted imputer's tensors.

    python benchmarks/bench_marginals.py [--quick] [--rows 3000] [--seeds 3] [--epochs 15]
"""

import argparse
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402
from _data import load_tabular  # noqa: E402
from bench_contrastive import label_fraction, probe  # noqa: E402

import sk_ssl.contrastive  # noqa: E402
import sk_ssl.masked  # noqa: E402
from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
DATASETS = ["adult", "phoneme", "letter", "covertype"]


# ------------------------------------------------- the old samplers (benchmark only)
class PoolCorruption(nn.Module):
    """SCARF as before: each replaced cell takes its column's value in a uniformly drawn training row."""

    def __init__(self, marginals, corruption_rate=0.6):
        super().__init__()
        self.register_buffer("marginals", torch.tensor(np.asarray(marginals), dtype=torch.float32))
        self.corruption_rate = corruption_rate

    def forward(self, x):
        n_rows, n_features = x.shape
        n_corrupt = int(self.corruption_rate * n_features)
        if n_corrupt == 0:
            return x
        chosen = torch.rand(n_rows, n_features, device=x.device).topk(n_corrupt, dim=1).indices
        mask = torch.zeros_like(x, dtype=torch.bool).scatter_(1, chosen, True)
        donors = torch.randint(len(self.marginals), (n_rows, n_features), device=x.device)
        replacement = self.marginals[donors, torch.arange(n_features, device=x.device)].to(x.dtype)
        return torch.where(mask, replacement, x)


class PoolMasking(nn.Module):
    """VIME as before: masked or missing cells take the column's observed value in a drawn training row."""

    def __init__(self, marginals, mask_ratio=0.3):
        super().__init__()
        marginals = np.asarray(marginals, dtype=np.float32)
        observed = ~np.isnan(marginals)
        counts = observed.sum(axis=0)
        order = np.argsort(~observed, axis=0, kind="stable")
        pool = np.nan_to_num(np.take_along_axis(marginals, order, axis=0)[: counts.max()])
        self.register_buffer("pool", torch.tensor(pool))
        self.register_buffer("counts", torch.tensor(counts, dtype=torch.float32))
        self.mask_ratio = mask_ratio

    def forward(self, x):
        n_rows, n_features = x.shape
        mask = (torch.rand(n_rows, n_features, device=x.device) < self.mask_ratio) | torch.isnan(x)
        donors = (torch.rand(n_rows, n_features, device=x.device) * self.counts).long()
        replacement = self.pool[donors, torch.arange(n_features, device=x.device)].to(x.dtype)
        return torch.where(mask, replacement, x), mask


@contextmanager
def sampler(kind):
    """``kind="pool"`` swaps the old samplers into the estimators' modules; "summary" is sk_ssl as is."""
    saved = sk_ssl.contrastive.TabularCorruption, sk_ssl.masked.MarginalMasking
    if kind == "pool":
        sk_ssl.contrastive.TabularCorruption, sk_ssl.masked.MarginalMasking = PoolCorruption, PoolMasking
    try:
        yield
    finally:
        sk_ssl.contrastive.TabularCorruption, sk_ssl.masked.MarginalMasking = saved


def _final_loss(est):
    return float(est.history_[-1, "train_loss"])


def run(datasets, seeds, rows, epochs):
    fractions = [0.1, 1.0]
    results = {}
    for name in datasets:
        X, y, info = load_tabular(name)
        n_numeric = info["n_numeric"]
        for seed in seeds:
            rng = np.random.RandomState(seed)
            keep = rng.permutation(len(X))[:rows] if len(X) > rows else np.arange(len(X))
            X_tr, X_te, y_tr, y_te = train_test_split(X[keep], y[keep], test_size=0.3, stratify=y[keep],
                                                      random_state=seed)  # fmt: skip
            # Imputation data: the numeric columns of the training split with 20 % of cells removed.
            numeric = X_tr[:, :n_numeric]
            holes = np.random.RandomState(seed).uniform(size=numeric.shape) < 0.2
            holes[holes.all(axis=1), 0] = False  # no entirely empty row
            with_holes = np.where(holes, np.nan, numeric)
            std = numeric.std(axis=0)
            std[std == 0] = 1.0
            for kind in ("pool", "summary"):
                res = results.setdefault(name, {}).setdefault(kind, {})
                with sampler(kind):
                    for label, cls in (("SCARF", ContrastiveEmbedder), ("VIME", MaskedAutoencoder)):
                        t = time.perf_counter()
                        torch.manual_seed(seed)
                        est = cls(max_epochs=epochs, random_state=seed, device="cpu").fit(X_tr)
                        res.setdefault(f"{label} fit seconds", []).append(time.perf_counter() - t)
                        res.setdefault(f"{label} final loss", []).append(_final_loss(est))
                        Z_tr, Z_te = est.transform(X_tr), est.transform(X_te)
                        for frac in fractions:
                            lab = label_fraction(y_tr, frac, seed)
                            res.setdefault(f"{label} emb + LR, {100 * frac:g} % labels", []).append(
                                probe(Z_tr[lab], y_tr[lab], Z_te, y_te)
                            )
                    imputer = MaskedAutoencoder(max_epochs=epochs, random_state=seed, device="cpu").fit(with_holes)
                    filled = imputer.reconstruct(with_holes)
                    rmse = np.sqrt(np.mean(((filled - numeric) / std)[holes] ** 2))
                    res.setdefault("VIME imputation RMSE", []).append(rmse)
                    res.setdefault("VIME imputation final loss", []).append(_final_loss(imputer))
                    res.setdefault("VIME model file bytes", []).append(_model_bytes(imputer))
            print(f"  {name} seed {seed}: " + ", ".join(
                f"{kind}: SCARF10={results[name][kind]['SCARF emb + LR, 10 % labels'][-1]:.3f} "
                f"VIME10={results[name][kind]['VIME emb + LR, 10 % labels'][-1]:.3f} "
                f"RMSE={results[name][kind]['VIME imputation RMSE'][-1]:.3f}" for kind in ("pool", "summary")
            ), flush=True)  # fmt: skip
    return results


def _model_bytes(est):
    """Bytes of the model's tensors (state_dict), the part that held the donor pool."""
    return int(sum(t.numel() * t.element_size() for t in est.module_.state_dict().values()))


def report(results, datasets, seeds, rows, epochs, seconds):
    metrics = [
        "SCARF emb + LR, 10 % labels", "SCARF emb + LR, 100 % labels", "SCARF final loss",
        "VIME emb + LR, 10 % labels", "VIME emb + LR, 100 % labels", "VIME final loss",
        "VIME imputation RMSE", "VIME imputation final loss", "VIME model file bytes",
    ]  # fmt: skip
    table = []
    for name in datasets:
        for metric in metrics:
            pool, summary = results[name]["pool"][metric], results[name]["summary"][metric]
            diff = np.asarray(summary, float) - np.asarray(pool, float)
            if metric.endswith("bytes"):
                table.append([name, metric, f"{np.mean(pool):,.0f}", f"{np.mean(summary):,.0f}", ""])
            else:
                table.append([name, metric, _report.mean_std(pool), _report.mean_std(summary), _report.mean_std(diff)])
    md = (
        "# SCARF / VIME corruption: donor pool of training rows vs per-column summaries\n\n"
        f"Reduced budget: {len(seeds)} seeds, at most {rows} rows per set (70/30 stratified split), {epochs} "
        "pretraining epochs, default estimators. Probe: StandardScaler + LogisticRegression on 10 % / 100 % of the "
        "training labels, test accuracy. Imputation: 20 % of the numeric cells of the training split removed at "
        "random, RMSE of MaskedAutoencoder.reconstruct on them in standardized units. 'pool' is the old sampler "
        "(a buffer of every training row, kept only in this script), 'summary' is sk_ssl's (fixed-size per-column "
        "summaries); same splits, seeds and models. 'summary - pool' is the per-seed difference, mean ± std "
        "(positive is better for accuracy, worse for RMSE and loss). Model bytes: the fitted imputer's tensors "
        f"(state_dict). Total wall time {seconds / 60:.1f} min.\n\n"
        + _report.markdown_table(["dataset", "metric", "pool", "summary", "summary - pool"], table)
        + "\n\n    OMP_NUM_THREADS=1 python benchmarks/bench_marginals.py"
        + f" --rows {rows} --seeds {len(seeds)} --epochs {epochs}"
        + ("" if datasets == DATASETS else " --datasets " + " ".join(datasets))
    )
    return md


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=DATASETS,
                        help="a subset writes results/marginals_<names>.{json,md}")  # fmt: skip
    args = parser.parse_args()
    datasets, seeds, rows, epochs = args.datasets, list(range(args.seeds)), args.rows, args.epochs
    if args.quick:
        datasets, seeds, rows, epochs = ["phoneme"], [0], 600, 2
    t = time.perf_counter()
    results = run(datasets, seeds, rows, epochs)
    md = report(results, datasets, seeds, rows, epochs, time.perf_counter() - t)
    name = "marginals" + ("_quick" if args.quick else "" if datasets == DATASETS else "_" + "_".join(datasets))
    _report.write(name, {"rows": rows, "seeds": seeds, "epochs": epochs, "results": results}, md)
    print(md)


if __name__ == "__main__":
    main()
