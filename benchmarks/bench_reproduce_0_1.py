"""Re-run the quick benchmark tables of 0.1 on today's code and compare with the committed figures.

The 0.1 tables are the ``benchmarks/results`` files as of commit 581a697 (the
last commit of 0.1.0); none of them changed since. Each part below re-runs one
table (or the quick section of one) with the SAME settings, seeds and splits as
committed, by calling that benchmark's own functions, and compares every figure
with the committed per-seed values: a figure reproduces when the re-run mean
lies within the committed mean ± 2 std (std over the committed seeds/folds/
repeats, as the committed table prints it). Parts append to
``results/reproduction_0_1.json``; the Markdown is rendered from it, so parts
can run one at a time or in parallel processes::

    python benchmarks/bench_reproduce_0_1.py                 # every quick part
    python benchmarks/bench_reproduce_0_1.py --part imputation
    python benchmarks/bench_reproduce_0_1.py --render        # Markdown from the JSON only

Tables not re-run (CPU cost on the shared 2-core machine) are listed in
``NOT_RERUN`` and in the Markdown.
"""

import argparse
import fcntl
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import _report  # noqa: E402

COMMIT_0_1 = "581a697"

NOT_RERUN = {
    "contrastive_digits": "SimCLR CNN, 200 epochs x 5 seeds (~17 CPU-minutes of pretraining alone)",
    "contrastive_tabular (letter, covertype)": "SCARF 30 epochs on 7,000 training rows x 2 data sets x 3 seeds "
    "(~4 CPU-minutes); its phoneme rows are re-run",
    "finetune": "5 data sets x 10 seeds x 4 label settings, 100 + 200 epochs (71 minutes on 2 cores)",
    "bench_mil (classic MIL on MUSK2, FOX, TIGER, ELEPHANT; MIML scene; MUSK2 speed)": "10-fold CV x 4 data sets "
    "x 5 methods, MIML 5-fold, speed 5-fold (28.6 minutes for the whole table); its MUSK1 column and Raff & Holt "
    "section are re-run",
    "masked_representation (digits section)": "SimMIM and SimCLR CNN on digits images, 15 epochs, plus VIME/SCARF "
    "40 epochs, x 5 seeds (~5 CPU-minutes); its tabular section is re-run",
    "memory": "2,000,000 x 64 rows, 4 fresh processes, ~20 minutes of transform; a peak-memory figure, not a "
    "seeded score (tests/test_streaming.py::test_transform_memory_is_output_plus_a_batch checks the bound)",
    "multiview": "mfeat 3 seeds x 4 models x 25 epochs plus MNIST halves (~10 CPU-minutes)",
}


# Control, measured once by hand (not re-run by this script): the 0.1 code itself (`git archive 581a697`,
# PYTHONPATH on it) running the same functions for seed 0 on today's machine. Training results are not
# bit-identical across machines and commits (the committed tables came from earlier commits, on another CPU).
# (table, figure): (committed seed 0, 0.1 code here, seed 0)
CONTROL_0_1_CODE = {
    ("masked_representation (tabular)", "covertype, MaskedAutoencoder + LR @ 0.01 accuracy"): (0.4850, 0.4575),
    ("masked_representation (tabular)", "letter, MaskedAutoencoder + LR @ 0.1 accuracy"): (0.7080, 0.7125),
    ("masked_representation (tabular)", "phoneme, MaskedAutoencoder + LR @ 0.1 accuracy"): (0.8275, 0.8157),
    ("imputation", "phoneme, MaskedAutoencoder RMSE"): (0.8578, 0.8581),
    ("imputation", "letter, MaskedAutoencoder RMSE"): (0.6547, 0.6549),
    ("imputation", "covertype, MaskedAutoencoder RMSE"): (0.7258, 0.7224),
    ("contrastive_tabular (phoneme)", "phoneme, 10% labels, SCARF emb + LR"): (0.8058, 0.7879),
    ("contrastive_tabular (phoneme)", "phoneme, 1% labels, SCARF emb + LR"): (0.7343, 0.7226),
}


def _committed(name):
    return json.loads((_report.RESULTS / f"{name}.json").read_text())


def _figure(table, figure, committed, rerun, seeded=True, noise=None):
    """One figure: the committed values (per seed) and the re-run's; a re-run of fewer seeds runs the first ones.

    ``noise`` replaces the committed std where the table kept one value only (a median).
    """
    committed, rerun = np.asarray(committed, float), np.asarray(rerun, float)
    mean, std = committed.mean(), (committed.std() if noise is None else noise)
    same = committed[: len(rerun)] if seeded else None
    return {
        "table": table,
        "figure": figure,
        "committed": committed.tolist(),
        "rerun": rerun.tolist(),
        "committed_mean": float(mean),
        "committed_std": float(std),
        "rerun_mean": float(rerun.mean()),
        "rerun_std": float(rerun.std()),
        "within_noise": bool(abs(rerun.mean() - mean) <= 2 * std + 1e-9),
        "noise": noise,
        "n_rerun": int(len(rerun)),
        "n_committed": int(len(committed)),
        # Same seeds, same settings: how far each re-run value is from the committed one of its seed.
        "max_abs_diff_same_seeds": None if same is None else float(np.abs(rerun - same).max()),
    }


def part_masked_speed(seeds=None):
    """masked_speed: MaskedAutoencoder.fit vs the hand loop, letter 20000 x 16, 3 epochs, 5 repeats."""
    from _data import load_tabular
    from bench_masked_speed import hand_loop

    from sk_ssl import MaskedAutoencoder

    committed = _committed("masked_speed")
    args = committed["args"]
    X, _, _ = load_tabular("letter")
    n_used = (len(X) - len(X) % args["batch_size"]) * args["epochs"]
    hand_loop(X[:1024], 1, args["batch_size"], 0)
    MaskedAutoencoder(max_epochs=1, batch_size=args["batch_size"], device="cpu", random_state=0).fit(X[:1024])
    ratios = []
    for repeat in range(min(seeds or args["repeats"], args["repeats"])):
        start = time.perf_counter()
        hand_loop(X, args["epochs"], args["batch_size"], repeat)
        hand = n_used / (time.perf_counter() - start)
        start = time.perf_counter()
        MaskedAutoencoder(max_epochs=args["epochs"], batch_size=args["batch_size"], device="cpu",
                          random_state=repeat).fit(X)  # fmt: skip
        fit = n_used / (time.perf_counter() - start)
        ratios.append(fit / hand)
        print(f"masked_speed repeat {repeat}: ratio {ratios[-1]:.3f}", flush=True)
    return [_figure("masked_speed", "fit / hand-loop samples/s ratio (median in the table; mean here)",
                    committed["ratios"], ratios, seeded=False)]  # fmt: skip


def part_imputation(seeds=None):
    """imputation: RMSE on removed cells, 4 data sets x 4 methods, 3000 rows, 5 seeds, MAE 40 epochs."""
    from _data import load_tabular
    from bench_imputation import DATASETS, METHODS, _impute
    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    committed = _committed("imputation")
    args = committed["args"]
    figures = []
    for name in DATASETS:
        X_all, _, _ = load_tabular(name, numeric_only=True)
        X_all = X_all[~np.isnan(X_all).any(axis=1)]
        rmse = {m: [] for m in METHODS}
        # The loop of bench_imputation.main: same seeds, rows and holes.
        for seed in range(min(seeds or args["seeds"], args["seeds"])):
            rng = np.random.RandomState(seed)
            X = X_all[rng.choice(len(X_all), min(args["rows"], len(X_all)), replace=False)]
            holes = rng.rand(*X.shape) < 0.2
            X_holes = np.where(holes, np.nan, X)
            std = X.std(axis=0)
            std[std == 0] = 1.0
            for method in METHODS:
                filled = _impute(method, X_holes, seed, args["epochs"])
                rmse[method].append(float(np.sqrt(np.mean((((filled - X) / std)[holes]) ** 2))))
            print(f"imputation {name} seed {seed}: " + ", ".join(f"{m} {v[-1]:.3f}" for m, v in rmse.items()),
                  flush=True)  # fmt: skip
        for method in METHODS:
            figures.append(_figure("imputation", f"{name}, {method} RMSE",
                                   committed["results"][name][method]["rmse"], rmse[method]))  # fmt: skip
    return figures


def part_masked_tabular(seeds=None):
    """masked_representation, tabular section: 3 data sets x 3 label fractions, 3 seeds, MAE 20 epochs."""
    from bench_masked import tabular_part

    committed = _committed("masked_representation")
    args = argparse.Namespace(**committed["args"])
    args.tab_seeds = min(seeds or args.tab_seeds, args.tab_seeds)
    results, _ = tabular_part(args)
    figures = []
    for name, cells in results.items():
        for key, values in cells.items():
            figures.append(_figure("masked_representation (tabular)", f"{name}, {key} accuracy",
                                   committed["tabular"][name][key], values))  # fmt: skip
    return figures


def part_mil_raff_holt(seeds=None):
    """bench_mil, Raff & Holt section: 5 poolings, 3 seeds, 20 epochs."""
    from bench_mil import raff_holt

    committed = _committed("bench_mil")
    cfg = committed["config"]
    results = raff_holt(cfg["epochs"], min(seeds or cfg["rh_seeds"], cfg["rh_seeds"]))
    figures = []
    for pooling, values in results.items():
        old = committed["results"]["raff_holt"][pooling]
        figures.append(_figure("bench_mil (Raff & Holt)", f"{pooling}, background-only bags called positive",
                               old["background_called_positive"], values["background_called_positive"]))  # fmt: skip
        figures.append(_figure("bench_mil (Raff & Holt)", f"{pooling}, held-out accuracy",
                               old["accuracy"], values["accuracy"]))  # fmt: skip
    return figures


def part_contrastive_tabular_phoneme(seeds=None):
    """contrastive_tabular, phoneme rows: SCARF 30 epochs, at most 10000 rows, 3 seeds (letter, covertype not)."""
    from bench_contrastive import tabular_suite

    committed = _committed("contrastive_tabular")["results"]["phoneme"]
    results, _ = tabular_suite(["phoneme"], list(range(min(seeds or 3, 3))), 30, 10000)
    figures = []
    for fraction in ("0.01", "0.1", "1.0"):
        for method, values in results["phoneme"][fraction].items():
            figures.append(_figure("contrastive_tabular (phoneme)", f"phoneme, {float(fraction):.0%} labels, {method}",
                                   committed[fraction][method], values))  # fmt: skip
    return figures


def part_mil_classic_musk1(seeds=None):
    """bench_mil, classic MIL on MUSK1 only: 10-fold CV x 1, 20 epochs, 4 poolings and the SVC baseline."""
    from bench_mil import classic

    committed = _committed("bench_mil")
    results = classic(committed["config"]["epochs"], 1, ["musk1"])["musk1"]["fold_scores"]
    return [_figure("bench_mil (classic, MUSK1)", f"MUSK1, {method} bag accuracy (10 folds)",
                    committed["results"]["classic"]["musk1"]["fold_scores"][method], values)
            for method, values in results.items()]  # fmt: skip


def part_speed_contrastive(seeds=None):
    """speed_contrastive: ContrastiveEmbedder vs the hand loop, letter (SCARF MLP) and digits (SimCLR CNN),
    5 epochs, 5 alternating repeats; the table kept medians only, so the noise is masked_speed's: the std of
    its 5 committed repeat ratios (the same kind of measurement)."""
    from _data import load_tabular
    from bench_speed import measure
    from sklearn.datasets import load_digits

    committed = _committed("speed_contrastive")
    noise = float(np.std(_committed("masked_speed")["ratios"]))
    repeats = min(seeds or committed["repeats"], committed["repeats"])
    cases = {
        "tabular (letter, 20000 x 16, SCARF MLP)": (load_tabular("letter")[0], None),
        "images (digits, 1797 x 1x8x8, SimCLR CNN)": (load_digits().data, (1, 8, 8)),
    }
    figures = []
    for name, (X, image_shape) in cases.items():
        result = measure(X, image_shape, committed["epochs"], repeats)
        print(name, result, flush=True)
        for key in ("fit_ratio", "transform_ratio"):
            figures.append(_figure("speed_contrastive", f"{name}, {key.replace('_', ' ')} (median)",
                                   [committed["results"][name][key]], [result[key]], seeded=False,
                                   noise=noise))  # fmt: skip
    return figures


PARTS = {
    "masked_speed": part_masked_speed,
    "mil_raff_holt": part_mil_raff_holt,
    "masked_tabular": part_masked_tabular,
    "imputation": part_imputation,
    "contrastive_tabular_phoneme": part_contrastive_tabular_phoneme,
    "mil_classic_musk1": part_mil_classic_musk1,
    "speed_contrastive": part_speed_contrastive,
}


def _store(part, figures, seconds):
    """Merge one part's figures into the JSON (a lock: parts may run in parallel processes)."""
    path = _report.RESULTS / "reproduction_0_1.json"
    path.touch()
    with open(path, "r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        text = fh.read()
        data = json.loads(text) if text.strip() else {"benchmark": "reproduction_0_1", "parts": {}}
        data["parts"][part] = {"figures": figures, "seconds": seconds, "hardware": _report.hardware(),
                               "commit": _report.git_commit(), "date": time.strftime("%Y-%m-%d")}  # fmt: skip
        data["committed_at"] = COMMIT_0_1
        data["not_rerun"] = NOT_RERUN
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(data, indent=2))


def _control_note(data):
    """The control table: committed seed 0, the 0.1 code on today's machine, today's code (seed 0)."""
    today = {(f["table"], f["figure"]): f["rerun"][0] for part in data["parts"].values() for f in part["figures"]}
    rows = [[table, figure, f"{committed:.4f}", f"{old_code:.4f}",
             f"{today[(table, figure)]:.4f}" if (table, figure) in today else "not re-run"]
            for (table, figure), (committed, old_code) in CONTROL_0_1_CODE.items()]  # fmt: skip
    return (
        "Control (seed 0, measured once by hand; `CONTROL_0_1_CODE` in the script): the 0.1 code itself "
        f"(commit {COMMIT_0_1}) re-run on today's machine does not give all committed numbers either (those "
        "tables were measured at earlier commits, on another CPU): its trained models move a seed by up to 0.028. "
        "The baselines (LR, HistGradientBoosting, sklearn's imputers) reproduce to the digit, and so did every MIL "
        "figure until MIL batches were packed instead of padded: dropout no longer draws for padding slots, so "
        "the same seed trains a different (equally valid) network; the MIL rows above are re-run after that "
        "change, all within noise but max pooling's share of background-only bags called positive (0.577 vs "
        "0.657 ± 0.036 over 3 seeds; its same-seed change of up to 0.135 is of the size of the other poolings' "
        "committed std). "
        "Where today's code moves a seed more than the 0.1 code does (MaskedAutoencoder imputation on phoneme "
        "and letter), the change is today's code: since 0.1 the SCARF and VIME corruptions draw from per-column "
        "summaries instead of a donor pool of training rows (`marginals.md` measures that change on its own). "
        "The two other figures outside mean ± 2 std are MaskedAutoencoder probes whose committed std over 3 seeds "
        "(0.002, 0.007) is smaller than the 0.1 code's own change on this machine (0.0045, 0.028).\n\n"
        + _report.markdown_table(["table", "figure", "committed, seed 0", "0.1 code here, seed 0",
                                  "today's code, seed 0"], rows)  # fmt: skip
        + "\n\n"
    )


def render():
    data = json.loads((_report.RESULTS / "reproduction_0_1.json").read_text())
    rows, n_ok, n_all = [], 0, 0
    for part in PARTS:
        if part not in data["parts"]:
            continue
        for stored in data["parts"][part]["figures"]:
            f = _figure(stored["table"], stored["figure"], stored["committed"], stored["rerun"],
                        seeded=part not in ("masked_speed", "speed_contrastive"), noise=stored.get("noise"))
            n_all += 1
            n_ok += f["within_noise"]
            diff = f["max_abs_diff_same_seeds"]
            rows.append([f["table"], f["figure"], f"{f['committed_mean']:.3f} ± {f['committed_std']:.3f} "
                         f"({f['n_committed']})", f"{f['rerun_mean']:.3f} ± {f['rerun_std']:.3f} ({f['n_rerun']})",
                         "-" if diff is None else f"{diff:.3f}", "yes" if f["within_noise"] else "**no**"])
    runs = "; ".join(f"{p} {d['seconds'] / 60:.1f} min wall (commit {d['commit']})" for p, d in data["parts"].items())
    hardware = next(iter(data["parts"].values()))["hardware"] if data["parts"] else "-"
    missing = [p for p in PARTS if p not in data["parts"]]
    speed = data["parts"].get("masked_speed")
    speed_note = ""
    if speed:
        f = speed["figures"][0]
        speed_note = (
            f"The speed table prints the median ratio: committed {np.median(f['committed']):.3f} (repeats "
            f"{', '.join(f'{r:.3f}' for r in f['committed'])}), re-run {np.median(f['rerun']):.3f} (repeats "
            f"{', '.join(f'{r:.3f}' for r in f['rerun'])}). A first re-run at a load average of about 20 on the "
            "2 cores gave repeats 0.870, 1.333, 0.775, 0.776, 1.147 (median 0.870): a ratio measured on a loaded "
            "machine is noise.\n\n"
        )
    if "speed_contrastive" in data["parts"]:
        speed_note += (
            "`speed_contrastive` was re-run once (load average about 6 on the 2 shared cores). Its images "
            "transform ratio is outside the noise because the committed one (1.205: sk_ssl 20 % faster than the "
            "same forward pass by hand) was the outlier; today's 0.971 meets the 0.95 target. Its fit ratios (0.915 "
            "tabular, 0.947 images) are within the noise but under the 0.95 target, while `masked_speed` (the "
            "same engine) measured 0.999 minutes before: one loaded run cannot settle it; re-run it on a quiet "
            "machine (`--part speed_contrastive`).\n\n"
        )
    md = (
        "# Do the 0.1 benchmark figures reproduce on today's code?\n\n"
        f"The 0.1 tables are `benchmarks/results/*.md` as of commit {COMMIT_0_1} (the last commit of 0.1.0); none "
        "of them changed since. The quick ones were re-run with the same settings, seeds and splits, by calling "
        "each benchmark's own functions (`python benchmarks/bench_reproduce_0_1.py`). A figure reproduces when the "
        "re-run mean lies within the committed mean ± 2 std (std over the committed seeds, folds or repeats, as "
        "the committed table prints it; `speed_contrastive` kept medians only, so its noise is the std of "
        f"`masked_speed`'s committed repeat ratios). **{n_ok} of {n_all} figures reproduce.**\n\n"
        + _report.markdown_table(["table", "figure", "committed (0.1), mean ± std (n)",
                                  "re-run (today), mean ± std (n)", "largest change on the same seed",
                                  "within noise"], rows)  # fmt: skip
        + "\n\n"
        + speed_note
        + _control_note(data)
        + "\"Largest change on the same seed\": the re-run repeats the committed seeds (the first n of them where "
        "fewer were re-run); 0.000 means the same numbers. The committed tables were measured on another machine "
        f"(Intel Xeon, 2 cores; today: {hardware.split(',')[0]}).\n\n"
        + f"Re-runs: {runs}. Wall times are on the shared machine under load (other engineers' jobs; "
        "`nice -n 10`, `OMP_NUM_THREADS=1`); the speed ratio alternates both loops in one process, so both sides "
        "see the same load.\n\n"
        + (f"Quick parts not run yet: {', '.join(missing)}.\n\n" if missing else "")
        + "## Not re-run (CPU cost)\n\n"
        + "\n".join(f"- `{name}`: {why}." for name, why in NOT_RERUN.items())
        + f"\n\nHardware: {hardware}.\n"
    )
    (_report.RESULTS / "reproduction_0_1.md").write_text(md)
    print(md)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=list(PARTS), action="append", help="run only this part (repeatable)")
    parser.add_argument("--render", action="store_true", help="only rewrite the Markdown from the JSON")
    parser.add_argument("--seeds", type=int, help="re-run only the first SEEDS seeds (repeats) of each part")
    args = parser.parse_args()
    if not args.render:
        for part in args.part or list(PARTS):
            start = time.perf_counter()
            figures = PARTS[part](args.seeds)
            _store(part, figures, time.perf_counter() - start)
    render()


if __name__ == "__main__":
    main()
