"""Why SSL embeddings lose to raw LogisticRegression on letter, and what closes the gap (1 % and 10 % labels).

The splits, seeds and labelled rows of ``bench_tabular_raw.py`` (its functions
are imported, not copied): at most ``--rows`` rows of letter, 70/30 stratified
split, 1 % and 10 % of the training labels. Each variant changes one thing
against the raw-table rows "LR (one-hot)" and "SCARF[none] emb + LR":

* SCARF's corruption rate (0.6 default, 0.3, 0.15): letter's 16 integer
  features are few and each carries much of the class, so replacing 60 % of
  them may make views of different letters alike;
* [raw, embedding] + LR: the standardized raw features next to the embedding;
* VIME (MaskedAutoencoder) embedding + LR: reconstruction instead of contrast;
* ensembles of the one-hot LR and the embedding's LR, averaged with weight 0.5
  or with the weight chosen by stratified inner cross-validation (log loss) on
  the labelled rows only.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabular_letter.py [--seeds 3] [--epochs 20]

Writes ``results/tabular_letter.{json,md}``. Fine-tuned rows on letter (plain and
target-aware) are in ``bench_tabular_target_aware.py``.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402
from _data import label_fraction, raw_split  # noqa: E402
from bench_tabular_raw import full_proba, one_hot, scores  # noqa: E402

from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", message=".*number of unique classes.*")
FRACTIONS = [0.01, 0.1]
WEIGHTS = np.linspace(0.0, 1.0, 5)


def probe():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))


def cv_weight(make_a, A, make_b, B, y, seed):
    """The weight of model a in ``w * a + (1 - w) * b`` with the lowest inner-CV log loss on the labelled rows."""
    n_splits = int(min(5, np.bincount(y)[np.unique(y)].min()))
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    pa = cross_val_predict(make_a(), A, y, cv=cv, method="predict_proba")
    pb = cross_val_predict(make_b(), B, y, cv=cv, method="predict_proba")
    losses = [log_loss(y, w * pa + (1 - w) * pb, labels=np.unique(y)) for w in WEIGHTS]
    return float(WEIGHTS[int(np.argmin(losses))])


def run(seed, rows, epochs):
    X_tr, X_te, y_tr, y_te, n_classes = raw_split("letter", seed, rows)
    embedders = {
        "SCARF cr=0.6 (default)": ContrastiveEmbedder(max_epochs=epochs, random_state=seed, device="cpu"),
        "SCARF cr=0.3": ContrastiveEmbedder(corruption_rate=0.3, max_epochs=epochs, random_state=seed, device="cpu"),
        "SCARF cr=0.15": ContrastiveEmbedder(corruption_rate=0.15, max_epochs=epochs, random_state=seed,
                                             device="cpu"),  # fmt: skip
        "VIME (MaskedAutoencoder)": MaskedAutoencoder(max_epochs=epochs, random_state=seed, device="cpu"),
    }
    Z, pre = {}, {}
    for name, emb in embedders.items():
        t = time.perf_counter()
        emb.fit(X_tr)
        pre[name] = {"seconds": time.perf_counter() - t, "final loss": float(emb.history_[-1, "train_loss"])}
        Z[name] = emb.transform(X_tr), emb.transform(X_te)
    raw = one_hot().fit(X_tr)
    R_tr, R_te = raw.transform(X_tr), raw.transform(X_te)
    out = {"pretrain": pre}
    for fraction in FRACTIONS:
        lab = label_fraction(y_tr, fraction, seed)
        y_lab = y_tr[lab]
        probas, chosen = {}, {}
        X_lab = X_tr.iloc[lab]
        lr = make_pipeline(one_hot(), LogisticRegression(max_iter=3000)).fit(X_lab, y_lab)  # as bench_tabular_raw
        probas["LR (one-hot)"] = full_proba(lr, X_te, n_classes)
        for name, (Z_tr, Z_te) in Z.items():
            probas[f"{name} emb + LR"] = full_proba(probe().fit(Z_tr[lab], y_lab), Z_te, n_classes)
            both_tr, both_te = np.hstack([R_tr, Z_tr]), np.hstack([R_te, Z_te])
            probas[f"{name} [raw, emb] + LR"] = full_proba(probe().fit(both_tr[lab], y_lab), both_te, n_classes)
            probas[f"ensemble 0.5: {name} emb LR + LR"] = (probas[f"{name} emb + LR"] + probas["LR (one-hot)"]) / 2
            w = cv_weight(probe, Z_tr[lab], lambda: make_pipeline(one_hot(), LogisticRegression(max_iter=3000)),
                          X_lab, y_lab, seed)
            chosen[name] = w
            probas[f"ensemble CV weight: {name} emb LR + LR"] = (
                w * probas[f"{name} emb + LR"] + (1 - w) * probas["LR (one-hot)"])  # fmt: skip
        res = {m: dict(zip(("accuracy", "auc"), scores(p, y_te))) for m, p in probas.items()}
        res["n_labels"] = int(len(lab))
        res["cv weights"] = chosen
        out[str(fraction)] = res
        print(f"letter seed {seed} {fraction:g}: " + ", ".join(
            f"{m}={r['auc']:.3f}" for m, r in res.items() if isinstance(r, dict) and "auc" in r), flush=True)  # fmt: skip
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    t = time.perf_counter()
    seeds = list(range(args.seeds))
    runs = [run(seed, args.rows, args.epochs) for seed in seeds]
    table = []
    for fraction in FRACTIONS:
        key = str(fraction)
        methods = [m for m, r in runs[0][key].items() if isinstance(r, dict) and "auc" in r]
        for m in methods:
            table.append([f"{100 * fraction:g} % ({runs[0][key]['n_labels']})", m,
                          _report.mean_std([r[key][m]["auc"] for r in runs]),
                          _report.mean_std([r[key][m]["accuracy"] for r in runs])])  # fmt: skip
        weights = {n: [r[key]["cv weights"][n] for r in runs] for n in runs[0][key]["cv weights"]}
        table.append([f"{100 * fraction:g} %", "(CV-chosen weights of the embedding LR, per seed: "
                      + "; ".join(f"{n}: {', '.join(f'{w:g}' for w in ws)}" for n, ws in weights.items()) + ")", "", ""])
    pre = "; ".join(f"{n}: loss {np.mean([r['pretrain'][n]['final loss'] for r in runs]):.3f}, "
                    f"{np.mean([r['pretrain'][n]['seconds'] for r in runs]):.0f} s" for n in runs[0]["pretrain"])
    md = (
        "## letter: SSL embeddings vs raw LogisticRegression (1 % and 10 % labels)\n\n"
        f"The splits, seeds and labelled rows of `bench_tabular_raw.py` ({len(seeds)} seeds, at most {args.rows} "
        f"rows, 70/30 split); every embedder fitted on all training rows for {args.epochs} epochs, defaults "
        "except the named change. LR = StandardScaler + LogisticRegression on the labelled rows. Ensembles "
        "average predicted probabilities (weight 0.5, or the embedding LR's weight in {0, .25, .5, .75, 1} "
        "chosen by stratified inner CV log loss on the labelled rows). Test ROC AUC (one-vs-rest macro) and "
        f"accuracy, mean ± std. Pretraining: {pre}. Wall time {(time.perf_counter() - t) / 60:.1f} min.\n\n"
        + _report.markdown_table(["labels (rows)", "method", "ROC AUC", "accuracy"], table)
        + f"\n\n    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabular_letter.py --seeds {len(seeds)} "
        f"--epochs {args.epochs} --rows {args.rows}"
    )
    _report.write("tabular_letter", {"rows": args.rows, "seeds": seeds, "epochs": args.epochs, "runs": runs}, md)
    print(md)


if __name__ == "__main__":
    main()
