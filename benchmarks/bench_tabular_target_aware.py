"""Target-aware pretraining (Rubachev et al., 2022) vs plain SCARF fine-tuning, and a VIME embedding, at 1 / 10 % labels.

The splits, seeds and labelled rows of ``bench_tabular_raw.py`` (its functions
are imported, not copied): at most ``--rows`` rows per set, 70/30 stratified
split, 1 % and 10 % of the training labels, raw DataFrames (categorical
columns as ``category``, NaN left in). Per (dataset, seed):

* plain: ContrastiveEmbedder(numeric_embedding="pwl") pretrained on every
  training row without labels, then FineTuneClassifier from it (the raw
  table's "SCARF[pwl] fine-tuned", same fine-tuning settings);
* target-aware: FineTuneClassifier(pretrain="target_aware") with an unfitted
  copy of the same pretrainer: pretraining sees the labelled rows' targets
  through a supervised head (so it is redone per label fraction);
* VIME: MaskedAutoencoder() embedding + LogisticRegression (the fix for
  letter found by ``bench_tabular_letter.py``);
* ensembles with the one-hot LR (mean of probabilities; for VIME also with the
  weight chosen by inner CV on the labelled rows);
* baselines: LR on one-hot + standardized numbers, HistGradientBoosting with
  native categorical support, on the same labelled rows.

Each (dataset, seed) is one record in ``results/tabular_target_aware_tasks*.jsonl``
(``--part`` names the file of one of several parallel processes; all are read);
a rerun skips the records it finds (``--fresh`` starts over). ``--balance`` compares the
supervised term rescaled to the SCARF loss (the default) with the term added as it is
(``results/tabular_target_aware_balance.md``), reusing the main records.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabular_target_aware.py [--rows 5000] [--seeds 3] [--epochs 20]
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402
from _data import RAW_TABULAR, label_fraction, raw_split  # noqa: E402
from bench_tabular_letter import cv_weight  # noqa: E402
from bench_tabular_raw import (  # noqa: E402
    fine_tune,
    full_proba,
    load_records,
    one_hot,
    run_missing_tasks,
    scores,
)

from sk_ssl import ContrastiveEmbedder, FineTuneClassifier, MaskedAutoencoder  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", message=".*categories not seen in fit.*")
warnings.filterwarnings("ignore", message=".*number of unique classes.*")
FRACTIONS = [0.01, 0.1]
BASELINES = ["LR (one-hot)", "HistGradientBoosting (native cat.)"]
SSL = [
    "SCARF[pwl] fine-tuned (plain)",
    "SCARF[pwl] fine-tuned (target-aware)",
    "VIME emb + LR",
    "ensemble: SCARF[pwl] plain fine-tuned + LR",
    "ensemble: SCARF[pwl] target-aware fine-tuned + LR",
    "ensemble: VIME emb LR + LR",
    "ensemble (CV weight): VIME emb LR + LR",
]
METHODS = BASELINES + SSL
TASKS = _report.RESULTS / "tabular_target_aware_tasks.jsonl"


def target_aware(pretrainer, X_tr, y_tr, lab, seed):
    """As ``bench_tabular_raw.fine_tune``, with pretrain="target_aware" from an unfitted copy of ``pretrainer``."""
    y_semi = np.full(len(y_tr), -1)
    y_semi[lab] = y_tr[lab]
    stop = len(lab) >= 100
    clf = FineTuneClassifier(pretrainer=clone(pretrainer), pretrain="target_aware", max_epochs=50 if stop else 30,
                             early_stopping=stop, n_iter_no_change=5, random_state=seed, device="cpu")  # fmt: skip
    return clf.fit(X_tr, y_semi)


def run_task(name, seed, rows, epochs):
    X_tr, X_te, y_tr, y_te, n_classes = raw_split(name, seed, rows)
    record = {"dataset": name, "seed": seed, "rows": rows, "epochs": epochs, "pretrain": {}, "results": {}}
    scarf = ContrastiveEmbedder(numeric_embedding="pwl", max_epochs=epochs, random_state=seed, device="cpu")
    t = time.perf_counter()
    plain = clone(scarf).fit(X_tr)
    record["pretrain"]["SCARF[pwl]"] = {"seconds": time.perf_counter() - t,
                                        "final loss": float(plain.history_[-1, "train_loss"])}  # fmt: skip
    t = time.perf_counter()
    vime = MaskedAutoencoder(max_epochs=epochs, random_state=seed, device="cpu").fit(X_tr)
    record["pretrain"]["VIME"] = {"seconds": time.perf_counter() - t,
                                  "final loss": float(vime.history_[-1, "train_loss"])}  # fmt: skip
    V_tr, V_te = vime.transform(X_tr), vime.transform(X_te)
    for fraction in FRACTIONS:
        lab = label_fraction(y_tr, fraction, seed)
        X_lab, y_lab = X_tr.iloc[lab], y_tr[lab]
        probas = {}

        def lr_model():
            return make_pipeline(one_hot(), LogisticRegression(max_iter=3000))

        def probe():
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))

        probas["LR (one-hot)"] = full_proba(lr_model().fit(X_lab, y_lab), X_te, n_classes)
        hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed).fit(X_lab, y_lab)
        probas["HistGradientBoosting (native cat.)"] = full_proba(hgb, X_te, n_classes)
        probas["SCARF[pwl] fine-tuned (plain)"] = full_proba(fine_tune(plain, X_tr, y_tr, lab, seed), X_te, n_classes)
        t = time.perf_counter()
        ta = target_aware(scarf, X_tr, y_tr, lab, seed)
        record["pretrain"][f"SCARF[pwl] target-aware {fraction:g}"] = {
            "seconds": time.perf_counter() - t, "final loss": float(ta.pretrainer_.history_[-1, "train_loss"])}
        probas["SCARF[pwl] fine-tuned (target-aware)"] = full_proba(ta, X_te, n_classes)
        probas["VIME emb + LR"] = full_proba(probe().fit(V_tr[lab], y_lab), V_te, n_classes)
        lr = probas["LR (one-hot)"]
        probas["ensemble: SCARF[pwl] plain fine-tuned + LR"] = (probas["SCARF[pwl] fine-tuned (plain)"] + lr) / 2
        probas["ensemble: SCARF[pwl] target-aware fine-tuned + LR"] = (
            probas["SCARF[pwl] fine-tuned (target-aware)"] + lr) / 2  # fmt: skip
        probas["ensemble: VIME emb LR + LR"] = (probas["VIME emb + LR"] + lr) / 2
        w = cv_weight(probe, V_tr[lab], lr_model, X_lab, y_lab, seed)
        probas["ensemble (CV weight): VIME emb LR + LR"] = w * probas["VIME emb + LR"] + (1 - w) * lr
        res = {m: dict(zip(("accuracy", "auc"), scores(p, y_te))) for m, p in probas.items()}
        res["n_labels"], res["cv weight"] = int(len(lab)), w
        record["results"][str(fraction)] = res
        print(f"  {name} seed {seed} {fraction:g} ({len(lab)} labels): "
              + ", ".join(f"{m}={res[m]['auc']:.3f}" for m in METHODS), flush=True)  # fmt: skip
    return record


def summarize(records, datasets, seeds):
    table, verdicts, summary = [], [], {}
    for name in datasets:
        recs = [records[(name, s)] for s in seeds if (name, s) in records]
        if not recs:
            continue
        for fraction in FRACTIONS:
            key = str(fraction)
            n_labels = int(np.mean([r["results"][key]["n_labels"] for r in recs]))
            for method in METHODS:
                aucs = [r["results"][key][method]["auc"] for r in recs]
                accs = [r["results"][key][method]["accuracy"] for r in recs]
                summary.setdefault(name, {}).setdefault(key, {})[method] = {"auc": aucs, "accuracy": accs}
                table.append([name, f"{100 * fraction:g} % ({n_labels})", method, _report.mean_std(aucs),
                              _report.mean_std(accs)])  # fmt: skip
        pre = " / ".join(
            f"{kind}: {np.mean([r['pretrain'][kind]['final loss'] for r in recs]):.3f}, "
            f"{np.mean([r['pretrain'][kind]['seconds'] for r in recs]):.0f} s"
            for kind in recs[0]["pretrain"]
        )
        weights = " / ".join(f"{100 * f:g} %: " + ", ".join(f"{r['results'][str(f)]['cv weight']:g}" for r in recs)
                             for f in FRACTIONS)  # fmt: skip
        table.append([name, f"({len(recs)} seeds)", f"(pretraining final loss, seconds: {pre}; CV weight of the "
                      f"VIME LR per seed: {weights})", "", ""])  # fmt: skip
    for name, by_fraction in summary.items():
        for key, by_method in by_fraction.items():
            mean = {m: float(np.mean(v["auc"])) for m, v in by_method.items()}
            best = max((m for m in mean if m in SSL), key=mean.get)
            plain, ta = mean["SCARF[pwl] fine-tuned (plain)"], mean["SCARF[pwl] fine-tuned (target-aware)"]
            lr, hgb = mean["LR (one-hot)"], mean["HistGradientBoosting (native cat.)"]
            safe = mean["ensemble (CV weight): VIME emb LR + LR"]
            verdicts.append([name, f"{100 * float(key):g} %", f"{plain:.3f}", f"{ta:.3f}", f"{ta - plain:+.3f}",
                             f"{best} {mean[best]:.3f}", f"{lr:.3f}", f"{hgb:.3f}",
                             "yes" if mean[best] >= lr else "**no**", "yes" if safe >= lr else "**no**",
                             "yes" if mean[best] >= hgb else "**no**"])  # fmt: skip
    return table, verdicts, summary


def balance_main(datasets, seeds, rows, epochs, records):
    """The supervised term added as it is (unbalanced) vs rescaled to the SCARF loss (the default).

    The plain and balanced rows come from the main records (same splits, seeds, code); only the
    unbalanced target-aware fine-tuning is fitted here.
    """
    import sk_ssl.objectives.target_aware as target_aware_module

    scarf = lambda seed: ContrastiveEmbedder(numeric_embedding="pwl", max_epochs=epochs, random_state=seed,  # noqa: E731
                                             device="cpu")  # fmt: skip
    t = time.perf_counter()
    previous = _report.RESULTS / "tabular_target_aware_balance.json"
    out = json.loads(previous.read_text())["results"] if previous.exists() else {}  # other sets' earlier runs
    for name in datasets:
        out.pop(name, None)
        for fraction in FRACTIONS:
            key, rows_ = str(fraction), {"plain": [], "balanced": [], "unbalanced": []}
            for seed in seeds:
                X_tr, X_te, y_tr, y_te, n_classes = raw_split(name, seed, rows)
                lab = label_fraction(y_tr, fraction, seed)
                target_aware_module._BALANCED = False
                try:
                    clf = target_aware(scarf(seed), X_tr, y_tr, lab, seed)
                finally:
                    target_aware_module._BALANCED = True
                rows_["unbalanced"].append(scores(full_proba(clf, X_te, n_classes), y_te)[1])
                rec = records[(name, seed, rows, epochs)]["results"][key]
                rows_["plain"].append(rec["SCARF[pwl] fine-tuned (plain)"]["auc"])
                rows_["balanced"].append(rec["SCARF[pwl] fine-tuned (target-aware)"]["auc"])
                print(f"  balance {name} seed {seed} {fraction:g}: unbalanced {rows_['unbalanced'][-1]:.3f}, "
                      f"balanced {rows_['balanced'][-1]:.3f}, plain {rows_['plain'][-1]:.3f}", flush=True)
            out.setdefault(name, {})[key] = rows_
    table = [[name, f"{100 * float(key):g} %"] + [_report.mean_std(v) for v in rows_.values()]
             for name, by_fraction in out.items() for key, rows_ in by_fraction.items()]  # fmt: skip
    md = (
        "## Target-aware pretraining: the supervised term balanced or as it is\n\n"
        "SCARF[pwl] fine-tuned after plain pretraining, after target-aware pretraining with the supervised "
        "cross-entropy rescaled to the SCARF loss's running magnitude (the default), and with it added as it "
        f"is (`sk_ssl.objectives.target_aware._BALANCED = False`); {len(seeds)} seeds, the splits and settings "
        f"of the main table (the first two columns are its records). Test ROC AUC, mean ± std. Wall time "
        f"{(time.perf_counter() - t) / 60:.1f} min.\n\n"
        + _report.markdown_table(["dataset", "labels", "plain", "target-aware (balanced)",
                                  "target-aware (unbalanced)"], table)  # fmt: skip
        + f"\n\n    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabular_target_aware.py --balance "
        f"--datasets {' '.join(out)} --seeds {len(seeds)}\n\n(one invocation per set is the same: the rows of "
        "sets not named are kept from the earlier run)"
    )
    _report.write("tabular_target_aware_balance", {"rows": rows, "seeds": seeds, "epochs": epochs, "results": out},
                  md)  # fmt: skip
    print(md)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--datasets", nargs="*", default=RAW_TABULAR)
    parser.add_argument("--fresh", action="store_true", help="ignore the records of earlier runs")
    parser.add_argument("--summary-only", action="store_true", help="tables from the records, no new fit")
    parser.add_argument("--part", default="", help="suffix of this process's records file (parallel runs)")
    parser.add_argument("--balance", action="store_true", help="balanced vs unbalanced supervised term")
    args = parser.parse_args()
    datasets, seeds, rows, epochs = args.datasets, list(range(args.seeds)), args.rows, args.epochs
    tasks = TASKS.with_name(TASKS.stem + args.part + ".jsonl")
    if args.fresh and tasks.exists():
        tasks.unlink()
    records = {}
    for path in sorted(TASKS.parent.glob(TASKS.stem + "*.jsonl")):  # every part's records
        records.update(load_records(path))
    if args.balance:
        return balance_main(datasets, seeds, rows, epochs, records)
    wall = run_missing_tasks(run_task, datasets, seeds, rows, epochs, records, tasks, args.summary_only)
    mine = {(n, s): r for (n, s, r_, e), r in records.items() if r_ == rows and e == epochs}
    table, verdicts, summary = summarize(mine, RAW_TABULAR, seeds)
    md = (
        "## Target-aware pretraining and a VIME embedding, 1 % and 10 % labels on raw DataFrames\n\n"
        f"The splits, seeds and labelled rows of `bench_tabular_raw.py`: {len(seeds)} seeds"
        f"{' (not 10)' if len(seeds) < 10 else ''}, at most "
        f"{rows} rows per set, 70/30 stratified split. Pretraining {epochs} epochs on every training row, "
        "straight from the DataFrame. Plain = ContrastiveEmbedder(numeric_embedding='pwl') then "
        "FineTuneClassifier from it; target-aware = FineTuneClassifier(pretrain='target_aware') with an "
        "unfitted copy of the same pretrainer (its pretraining adds a supervised head's cross-entropy on the "
        "labelled rows, balanced to the SCARF loss; pretrained once per label fraction). Fine-tuning identical "
        "(encoder LR 0.1 x head LR; early stopping, patience 5, on 10 % of the labels when there are >= 100, "
        "else 30 epochs). VIME = MaskedAutoencoder() defaults, frozen embedding + LR. Ensembles average "
        "predicted probabilities with the one-hot LR (weight 0.5, or the VIME LR's weight in {0, .25, .5, .75, "
        "1} chosen by stratified inner CV log loss on the labelled rows only). Test ROC AUC (one-vs-rest macro "
        "for multiclass) and accuracy, mean ± std. The pretraining loss of the target-aware rows is the sum of "
        "both terms, not comparable to the plain one. "
        + ("" if args.summary_only else f"Wall time of this invocation {wall / 60:.1f} min (records of earlier "
                                          "invocations reused).")
        + "\n\n"
        + _report.markdown_table(["dataset", "labels (rows)", "method", "ROC AUC", "accuracy"], table)
        + "\n\n### Plain vs target-aware, and the targets (mean ROC AUC)\n\n"
        "'best sk_ssl' is chosen on the test scores among the sk_ssl rows above, so it is optimistic; the "
        "'CV ens. >= LR' column is the one rule fixed in advance (the VIME ensemble with its weight chosen on "
        "the labelled rows).\n\n"
        + _report.markdown_table(["dataset", "labels", "plain FT", "target-aware FT", "TA - plain", "best sk_ssl",
                                  "LR (one-hot)", "HGB", "best >= LR", "CV ens. >= LR", "best >= HGB"],
                                 verdicts)  # fmt: skip
        + f"\n\n    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabular_target_aware.py --rows {rows} "
        f"--seeds {len(seeds)} --epochs {epochs}"
    )
    _report.write("tabular_target_aware", {"rows": rows, "seeds": seeds, "epochs": epochs, "fractions": FRACTIONS,
                                           "results": summary}, md)  # fmt: skip
    print(md)


if __name__ == "__main__":
    main()
