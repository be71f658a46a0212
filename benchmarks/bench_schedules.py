"""The momentum-teacher schedules on digits: ``schedule="paper"`` vs ``"constant"`` for BYOL, MoCo v2/v3, DINO.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_schedules.py [--seeds 3] [--epochs 10] [--jobs 3]``; writes
results/schedules_digits.{json,md}.

Protocol: per seed a stratified 75/25 split of sklearn's 8 x 8 digits; each
objective pretrains a ContrastiveEmbedder (its defaults: small CNN, batch 128,
AdamW 1e-3) on the training images without labels, once with each schedule
(same seed, so the same initial weights and batches); the embeddings are scored
by kNN (k = 20, cosine) and a linear probe (LogisticRegression on standardized
embeddings, all training labels) on the test split. ``"paper"``: momentum
0.99 -> 1.0 (half cosine over the fit's steps), DINO's teacher temperature
0.04 -> 0.07 over the first 30 % of them; ``"constant"``: momentum 0.99,
teacher temperature 0.04. The decision of ``schedule="auto"`` follows this table.
"""

import argparse
import multiprocessing
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import _cifar10
from _report import markdown_table, mean_std, write
from sk_ssl import ContrastiveEmbedder

OBJECTIVES = ["byol", "moco_v2", "moco_v3", "dino"]
SCHEDULES = ["constant", "paper"]


def _one(task):
    """Fit one (seed, objective, schedule) on its digits split; (kNN, linear, final loss, fit CPU seconds)."""
    seed, objective, schedule, epochs = task
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    start = time.process_time()
    est = ContrastiveEmbedder(objective=objective, schedule=schedule, image_shape=(1, 8, 8), max_epochs=epochs,
                              random_state=seed, device="cpu").fit(X_train)  # fmt: skip
    seconds = time.process_time() - start
    Z_train, Z_test = est.transform(X_train), est.transform(X_test)
    knn = _cifar10.knn_accuracy(Z_train, y_train, Z_test, y_test, k=20)
    linear = _cifar10.linear_probe(Z_train, y_train, Z_test, y_test)
    loss = float(est.history_[-1]["train_loss"])
    print(seed, objective, schedule, round(knn, 3), round(linear, 3), round(loss, 3), flush=True)
    return knn, linear, loss, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1, help="fits at once, in processes (one thread each)")
    parser.add_argument("--objectives", nargs="+", default=OBJECTIVES, choices=OBJECTIVES)
    args = parser.parse_args()
    tasks = [(seed, objective, schedule, args.epochs) for seed in range(args.seeds) for objective in args.objectives
             for schedule in SCHEDULES]  # fmt: skip
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            outs = pool.map(_one, tasks, chunksize=1)
    else:
        outs = list(map(_one, tasks))
    scores, losses, cpu = {}, {}, {}
    for (seed, objective, schedule, _), (knn, linear, loss, seconds) in zip(tasks, outs):
        key = (objective, schedule)
        scores.setdefault(key, {"knn": [], "linear": []})
        scores[key]["knn"].append(knn)
        scores[key]["linear"].append(linear)
        losses.setdefault(key, []).append(loss)
        cpu.setdefault(key, []).append(seconds)
    rows = [[objective, schedule, mean_std(scores[(objective, schedule)]["knn"]),
             mean_std(scores[(objective, schedule)]["linear"]), mean_std(losses[(objective, schedule)]),
             f"{np.mean(cpu[(objective, schedule)]):.0f}"]
            for objective in args.objectives for schedule in SCHEDULES]  # fmt: skip
    markdown = "\n\n".join([
        "# Momentum-teacher schedules on digits",
        f"sklearn digits (8 x 8), stratified 75/25 split per seed, {args.seeds} seeds (mean ± std); ContrastiveEmbedder "
        f"defaults (small CNN, batch 128, AdamW 1e-3), {args.epochs} epochs (CPU budget). kNN: k = 20, cosine; linear: "
        "LogisticRegression on standardized embeddings, all training labels; both on the test split. "
        "`paper`: momentum 0.99 -> 1.0 (half cosine over the fit's steps), DINO teacher temperature 0.04 -> 0.07 over "
        "the first 30 % of them; `constant`: momentum 0.99, teacher temperature 0.04.",
        markdown_table(["objective", "schedule", "kNN top-1", "linear top-1", "final loss", "fit CPU s"], rows),
        f"Reproduce: `OMP_NUM_THREADS=1 python benchmarks/bench_schedules.py --seeds {args.seeds} --epochs {args.epochs} --jobs {args.jobs}`.",
    ])  # fmt: skip
    payload = {"args": vars(args), "scores": {f"{o}/{s}": v for (o, s), v in scores.items()},
               "final_loss": {f"{o}/{s}": v for (o, s), v in losses.items()},
               "fit_cpu_seconds": {f"{o}/{s}": v for (o, s), v in cpu.items()}}  # fmt: skip
    write("schedules_digits", payload, markdown)


if __name__ == "__main__":
    main()
