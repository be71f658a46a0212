"""CIFAR-10: self-supervised methods under the standard kNN and linear-probe protocol, on a stated budget.

Run: ``python benchmarks/bench_cifar10.py`` (the committed CPU table),
``--quick`` (a smoke run: 500 images, 1 epoch, 2 methods), or on a GPU
``--device cuda`` (ResNet-18 CIFAR stem, batch 512, bf16 autocast,
channels-last, all 50,000 training images; add ``--epochs N``).

Protocol (``_cifar10.py``): each method pretrains without labels on a seeded,
class-balanced subset of ``--train-size`` of the 50,000 training images
(all of them with ``--train-size 50000``) for ``--epochs`` epochs; then the
encoder embeds a labelled evaluation set of ``--eval-size`` training images
(the kNN bank and the linear probe's training set) and the 10,000 test
images. Reported: kNN top-1 (k = 200, cosine, weights ``exp(sim / 0.1)``),
linear-probe top-1 (``LogisticRegression`` on standardized embeddings) with
100 %, 10 % and 1 % of the evaluation set's labels, the final training loss,
fit time and images/s (pretraining images x epochs / fit seconds), and the
kNN accuracy after every epoch (on a monitor of 1,000 bank and 1,000 test
images; the PNG plots it). Baselines on the same splits: raw pixels, PCA
(fitted on the pretraining subset) and the random-init encoder.

Every method sees the same augmentation (random resized crop 0.2-1, flip,
colour jitter 0.4/0.4/0.4 at p = 0.8, grayscale p = 0.2; no blur, as in
solo-learn's CIFAR configs), encoder, batch size and learning rate (AdamW
1e-3), and each objective's own defaults (temperature, momentum, queue).

``METHODS`` maps a row name to a function ``(args, seed) -> estimator``; a new
method (e.g. MAE on a ViT) is one entry. The estimator must support
``warm_start`` (the loop trains one epoch at a time to monitor kNN).
"""

import argparse
import multiprocessing
import time

import numpy as np

import _cifar10
from _report import RESULTS, markdown_table, mean_std, write
from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder
from sk_ssl.augment import ImageAugmentation, MultiCrop


def cifar_augmentation():
    """SimCLR's CIFAR views (solo-learn's CIFAR settings, no blur at 32 px)."""
    return ImageAugmentation(
        crop_scale=(0.2, 1.0), flip_prob=0.5, brightness=0.4, contrast=0.4, saturation=0.4, jitter_prob=0.8,
        grayscale_prob=0.2,
    )  # fmt: skip


def encoder_for(args):
    if args.device != "cuda":
        return "cnn"
    from bench_gpu import encoder_class  # ResNet-18, CIFAR stem, channels-last

    return encoder_class(channels_last=True, compile_=False)


def multi_crop():
    """DINO's multi-crop on CIFAR: the two global views above plus 4 local 16 x 16 crops (scale 0.05-0.4)."""
    local = ImageAugmentation(
        crop_scale=(0.05, 0.4), flip_prob=0.5, brightness=0.4, contrast=0.4, saturation=0.4, jitter_prob=0.8,
        grayscale_prob=0.2, size=(16, 16),
    )  # fmt: skip
    return MultiCrop([cifar_augmentation(), cifar_augmentation()], local_view=local, n_local=4)


def contrastive(objective, augmentation=cifar_augmentation):
    """A ContrastiveEmbedder method row: ``objective`` with its defaults, on the shared budget."""

    def make(args, seed):
        return ContrastiveEmbedder(
            objective=objective, encoder=encoder_for(args), n_components=512 if args.device == "cuda" else 256,
            augmentation=augmentation(), batch_size=args.batch_size, learning_rate=args.learning_rate,
            max_epochs=1, device=args.device, random_state=seed,
        )  # fmt: skip

    return make


def masked_vit(objective):
    """A MaskedAutoencoder row on the ViT (its defaults: width 128, depth 4, 2 x 2 patches, CLS token)."""

    def make(args, seed):
        return MaskedAutoencoder(
            objective=objective, encoder="vit", n_components=512 if args.device == "cuda" else 256,
            batch_size=args.batch_size, learning_rate=args.learning_rate, max_epochs=1, device=args.device,
            random_state=seed,
        )  # fmt: skip

    return make


METHODS = {
    "SimCLR": contrastive("simclr"),
    "MoCo v2": contrastive("moco_v2"),
    "BYOL": contrastive("byol"),
    "VICReg": contrastive("vicreg"),
    "Barlow Twins": contrastive("barlow_twins"),
    "DINO": contrastive("dino"),
    "MoCo v3": contrastive("moco_v3"),
    "DINO multi-crop": contrastive("dino", multi_crop),
    "MAE-ViT": masked_vit("mae"),
    "SimMIM-ViT": masked_vit("simmim"),
}


def as_float(images):
    """uint8 (n, 32, 32, 3) -> float32 (n, 32, 32, 3) in 0..255 (the estimators read channels-last)."""
    return np.asarray(images, dtype=np.float32)


def pretrain(make, args, seed, X_pretrain, monitor, name=""):
    """Train one epoch at a time (warm start), kNN on the monitor after each; return (estimator, curve, seconds)."""
    est, curve, seconds, cpu_seconds = make(args, seed), [], 0.0, 0.0
    for epoch in range(args.epochs):
        if epoch:
            est.set_params(warm_start=True)
        start, cpu_start = time.perf_counter(), time.process_time()
        est.fit(X_pretrain)
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        bank, bank_y, query, query_y = monitor
        curve.append(_cifar10.knn_accuracy(est.transform(bank), bank_y, est.transform(query), query_y))
        print(f"  {name} epoch {epoch + 1}: loss {est.history_[-1]['train_loss']:.3f}, kNN {curve[-1]:.3f}", flush=True)
    return est, curve, (seconds, cpu_seconds)


def random_init(make, args, seed, X_pretrain):
    """The same encoder untrained: one epoch at learning rate ~0 (sets the standardization and BatchNorm statistics)."""
    return make(args, seed).set_params(learning_rate=1e-12).fit(X_pretrain[: 4 * args.batch_size])


def peak_memory(device):
    if device != "cuda":
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2**20


def run(args):
    X_train, y_train = _cifar10.load_cifar10("train", args.cache)
    X_test, y_test = _cifar10.load_cifar10("test", args.cache)
    if args.test_size is not None:
        keep = _cifar10.subset(y_test, args.test_size, 0)
        X_test, y_test = X_test[keep], y_test[keep]
    X_test = as_float(X_test)
    results, curves, losses, fit_s, rates, memory = {}, {}, {}, {}, {}, {}
    cpu_rates, cpu_s = {}, {}
    neighbours = {}

    def record(name, seed, scores):
        for metric, value in scores.items():
            results.setdefault(name, {}).setdefault(metric, []).append(value)

    for seed in range(args.first_seed, args.first_seed + args.seeds):
        pretrain_idx = _cifar10.subset(y_train, args.train_size, seed)
        eval_idx = _cifar10.subset(y_train, args.eval_size, seed + 1000)
        X_pretrain, X_eval, y_eval = as_float(X_train[pretrain_idx]), as_float(X_train[eval_idx]), y_train[eval_idx]
        monitor_bank, monitor_query = _cifar10.subset(y_eval, 1000, seed), _cifar10.subset(y_test, 1000, seed)
        monitor = (X_eval[monitor_bank], y_eval[monitor_bank], X_test[monitor_query], y_test[monitor_query])
        print(f"seed {seed}: pretrain {len(X_pretrain)}, eval {len(X_eval)}, test {len(X_test)}", flush=True)

        global _DATA
        _DATA = (X_pretrain, X_eval, y_eval, X_test, y_test, monitor)
        # Methods run in ``--jobs`` worker processes (forked: they share the arrays) while the baselines run here.
        pool = multiprocessing.get_context("fork").Pool(args.jobs) if args.jobs > 1 else None
        runs = [(name, args, seed) for name in args.methods]
        pending = pool.map_async(_one_method, runs) if pool else None
        flat = lambda X: X.reshape(len(X), -1) / 255.0  # noqa: E731
        record("raw pixels", seed, _cifar10.evaluate(flat(X_eval), y_eval, flat(X_test), y_test))
        from sklearn.decomposition import PCA

        start = time.perf_counter()
        pca = PCA(args.pca_components, random_state=seed).fit(flat(X_pretrain))
        fit_s.setdefault("PCA", []).append(time.perf_counter() - start)
        record("PCA", seed, _cifar10.evaluate(pca.transform(flat(X_eval)), y_eval, pca.transform(flat(X_test)), y_test))
        first = next(iter(METHODS.values()))
        untrained = random_init(first, args, seed, X_pretrain)
        record("random-init encoder", seed, _cifar10.evaluate(untrained.transform(X_eval), y_eval,
                                                              untrained.transform(X_test), y_test))  # fmt: skip
        for name, out in zip(args.methods, pending.get() if pool else map(_one_method, runs)):
            record(name, seed, out["scores"])
            curves.setdefault(name, []).append(out["curve"])
            losses.setdefault(name, []).append(out["loss"])
            fit_s.setdefault(name, []).append(out["seconds"])
            rates.setdefault(name, []).append(out["rate"])
            cpu_rates.setdefault(name, []).append(out["cpu_rate"])
            cpu_s.setdefault(name, []).append(out["cpu_seconds"])
            memory[name] = out["memory"]
            if seed == args.first_seed:
                neighbours[name] = out["nearest"]
        if pool:
            pool.close()
        if seed == args.first_seed:
            neighbours["raw pixels"] = _nearest(flat(X_eval), flat(X_test))
            grid = (X_eval, X_test, neighbours)
    return results, curves, losses, fit_s, rates, memory, grid, cpu_rates, cpu_s


_DATA = None  # (X_pretrain, X_eval, y_eval, X_test, y_test, monitor) of the current seed


def _one_method(job):
    """Pretrain and evaluate one method on ``_DATA``; a dict of its figures (runs in a worker with ``--jobs``)."""
    name, args, seed = job
    X_pretrain, X_eval, y_eval, X_test, y_test, monitor = _DATA
    print(f"{name}:", flush=True)
    if args.device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
    est, curve, (seconds, cpu_seconds) = pretrain(METHODS[name], args, seed, X_pretrain, monitor, name)
    Z_eval, Z_test = est.transform(X_eval), est.transform(X_test)
    scores = _cifar10.evaluate(Z_eval, y_eval, Z_test, y_test)
    print(f"  {name}: {({m: round(v, 3) for m, v in scores.items()})}", flush=True)
    return {"scores": scores, "curve": curve, "loss": float(est.history_[-1]["train_loss"]), "seconds": seconds,
            "rate": len(X_pretrain) * args.epochs / seconds, "cpu_rate": len(X_pretrain) * args.epochs / cpu_seconds,
            "cpu_seconds": cpu_seconds, "memory": peak_memory(args.device),
            "nearest": _nearest(Z_eval, Z_test)}  # fmt: skip


def _nearest(Z_eval, Z_test, n_queries=8, k=7):
    """Indices of the ``k`` cosine nearest evaluation images of the first test image of ``n_queries`` classes."""
    import torch
    import torch.nn.functional as F

    queries = np.arange(n_queries) * 1000 if len(Z_test) >= n_queries * 1000 else np.arange(n_queries)
    a = F.normalize(torch.as_tensor(np.asarray(Z_test)[queries], dtype=torch.float32), dim=1)
    b = F.normalize(torch.as_tensor(np.asarray(Z_eval), dtype=torch.float32), dim=1)
    return queries, (a @ b.T).topk(k, dim=1).indices.numpy()


def plot(curves, grid, path, best, rows=6, k=5):
    """kNN vs epoch per method, and ``rows`` queries with their ``k`` nearest images (best method, raw pixels).

    The image grids are drawn pixel for pixel (no resampling) and the PNG is
    saved with a 256-colour palette, which keeps the file near 150 KB.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    X_eval, X_test, neighbours = grid
    fig = plt.figure(figsize=(13, 5))
    ax = fig.add_subplot(1, 3, 1)
    styles = ["-", "--", ":", "-."]
    for i, (name, runs) in enumerate(curves.items()):
        runs = np.asarray(runs)
        epochs = np.arange(1, runs.shape[1] + 1)
        ax.plot(epochs, runs.mean(0), marker="o", markersize=3, linestyle=styles[i // 10 % 4], label=name)
    ax.set_xticks(np.arange(1, max(np.asarray(r).shape[1] for r in curves.values()) + 1))  # whole epochs only
    ax.set(xlabel="epoch", ylabel="kNN top-1 (monitor: 1,000 test images)", title="kNN accuracy vs epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    for column, name in enumerate([best, "raw pixels"]):
        queries, index = neighbours[name]
        strips = []
        for query, hits in list(zip(queries, index))[:rows]:
            tiles = [X_test[query]] + [X_eval[i] for i in hits[:k]]
            strips.append(np.concatenate([np.pad(t, ((1, 1), (1, 1), (0, 0)), constant_values=255) for t in tiles], axis=1))
        ax = fig.add_subplot(1, 3, 2 + column)
        ax.imshow(np.concatenate(strips).astype(np.uint8), interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{name}: query | {k} nearest", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    # A 256-colour palette (octree keeps the plot's line colours apart): about 100 KB instead of 250 KB.
    Image.open(path).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 images, 1 epoch, SimCLR and DINO")
    parser.add_argument("--device", default="cpu", help="cpu (small CNN) or cuda (ResNet-18, batch 512, bf16)")
    parser.add_argument("--train-size", type=int, default=None, help="pretraining images (CPU 4000, GPU 50000)")
    parser.add_argument("--eval-size", type=int, default=None, help="labelled kNN bank / probe images (CPU 2000, GPU 50000)")
    parser.add_argument("--test-size", type=int, default=None, help="test images (default all 10,000)")
    parser.add_argument("--epochs", type=int, default=None, help="pretraining epochs (CPU 3, GPU 20)")
    parser.add_argument("--batch-size", type=int, default=None, help="CPU 256, GPU 512")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=None, help="methods trained at once, in processes (CPU 6, GPU 1)")
    parser.add_argument("--pca-components", type=int, default=256)
    parser.add_argument("--methods", nargs="+", default=None, choices=list(METHODS))
    parser.add_argument("--cache", default=None, help="decoded-image cache (default $SK_SSL_CACHE or ~/.cache/sk_ssl)")
    parser.add_argument("--name", default=None, help="results name (default cifar10, cifar10_gpu, cifar10_quick)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed ... first-seed + seeds - 1")
    parser.add_argument("--merge", nargs="+", default=None, metavar="NAME",
                        help="merge the seeds of these results into --name (same budget; the first one's PNG is kept)")
    parser.add_argument("--render-only", action="store_true", help="rewrite the Markdown (and PNG) of --name from its JSON")
    args = parser.parse_args()
    if args.render_only:
        return render_only(args.name or "cifar10")
    if args.merge:
        return merge(args.merge, args.name or "cifar10")
    gpu = args.device == "cuda"
    defaults = dict(train_size=50_000 if gpu else 4000, eval_size=50_000 if gpu else 2000, epochs=20 if gpu else 3,
                    batch_size=512 if gpu else 256, methods=list(METHODS), jobs=1 if gpu else 6)  # fmt: skip
    if gpu and (args.jobs or 1) > 1:
        parser.error("--jobs > 1 shares one GPU between methods and distorts images/s; use --jobs 1 with cuda")
    if args.quick:
        defaults.update(train_size=500, eval_size=500, epochs=1, methods=["SimCLR", "DINO"])
        args.test_size = args.test_size or 1000
        args.pca_components = min(args.pca_components, 64)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    name = args.name or ("cifar10_quick" if args.quick else "cifar10_gpu" if gpu else "cifar10")
    if not gpu:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))

    results, curves, losses, fit_s, rates, memory, grid, cpu_rates, cpu_s = run(args)
    best = max(curves, key=lambda m: np.mean(results[m]["knn"]))
    payload = {"args": vars(args), "n_test": len(grid[1]), "results": results, "curves": curves, "final_loss": losses,
               "fit_seconds": fit_s, "images_per_s": rates, "images_per_cpu_s": cpu_rates, "fit_cpu_seconds": cpu_s,
               "peak_memory_mib": memory, "best": best, "grid_seed": args.first_seed,
               "neighbours": {m: [np.asarray(q).tolist(), np.asarray(i).tolist()] for m, (q, i) in grid[2].items()}}  # fmt: skip
    write(name, payload, report(payload))
    plot(curves, grid, RESULTS / f"{name}.png", best)


def report(payload):
    """The Markdown of a run, from its JSON payload (so ``--render-only`` rewrites it without training)."""
    args = argparse.Namespace(**payload["args"])
    results, curves, losses = payload["results"], payload["curves"], payload["final_loss"]
    fit_s, rates, memory = payload["fit_seconds"], payload["images_per_s"], payload["peak_memory_mib"]
    cpu_rates, cpu_s = payload["images_per_cpu_s"], payload["fit_cpu_seconds"]
    gpu = args.device == "cuda"
    metrics = ["knn", "linear_100", "linear_10", "linear_1"]
    rows = []
    for method, scores in results.items():
        rows.append(
            [method]
            + [mean_std(scores[m]) for m in metrics]
            + [mean_std(losses[method]) if method in losses else "-",
               f"{np.mean(fit_s[method]):.0f}" if method in fit_s else "-",
               f"{np.mean(rates[method]):.0f}" if method in rates else "-",
               f"{np.mean(cpu_s[method]):.0f}" if method in cpu_s else "-",
               f"{np.mean(cpu_rates[method]):.0f}" if method in cpu_rates else "-"]
            + ([f"{memory[method]:.0f}" if memory.get(method) else "-"] if gpu else [])
        )  # fmt: skip
    n_test = payload.get("n_test") or args.test_size or 10_000
    header = ["method", "kNN top-1", "linear 100 %", "linear 10 %", "linear 1 %", "final loss", "fit s (wall)", "images/s (wall)",
              "fit CPU s", "images / CPU s"]  # fmt: skip
    header += ["peak MiB"] if gpu else []
    budget = (
        f"{'GPU' if gpu else 'CPU'} budget per method: pretraining on {args.train_size:,} of the 50,000 training "
        f"images (seeded, class-balanced), {args.epochs} epochs, batch {args.batch_size}, AdamW lr "
        f"{args.learning_rate:g}, {'ResNet-18 (CIFAR stem, channels-last, bf16)' if gpu else 'the small CNN (3 conv stages, 256-d)'}"
        " for the contrastive rows and the CPU-friendly ViT (width 128, depth 4, 4 x 4 patches, CLS token) for "
        f"MAE-ViT and SimMIM-ViT; {args.seeds} seed(s) (mean ± population std over seeds; ± 0.000 with one seed; "
        "each seed draws its own pretraining and evaluation subsets). kNN bank and linear-probe "
        f"training set: {args.eval_size:,} labelled training images (a second seeded draw; linear 10 % / 1 % use "
        f"{args.eval_size // 10:,} / {args.eval_size // 100:,} of their labels); test: {n_test:,} test images."
    )  # fmt: skip
    gpu_plan = (
        "**GPU plan (unmeasured).** No GPU was lent to the sessions that made this table, so these figures do not "
        "exist yet: the GPU protocol's accuracies (ResNet-18 CIFAR stem, batch 512, bf16, channels-last, all 50,000 "
        "images, kNN per epoch), its images/s and peak memory per method (`python benchmarks/bench_cifar10.py "
        "--device cuda --epochs 20 --jobs 1`, which writes results/cifar10_gpu.{json,md,png}), and the augmentation "
        "share of the step (`python benchmarks/bench_gpu.py --channels-last`). The issue's targets, **>= 90 % kNN "
        "within 15 minutes on one H100/H200** and >= 3x lightly's SimCLR throughput (about 5,700 images/s), are "
        "**unmeasured**: run `--device cuda --epochs N` with N as many epochs as fit in 15 minutes at the measured "
        "images/s."
    )
    return "\n\n".join([
        "# CIFAR-10: self-supervised methods, kNN and linear probe",
        budget,
        markdown_table(header, rows),
        "kNN: k = 200, cosine, votes weighted by exp(similarity / 0.1). Linear: LogisticRegression on "
        "standardized embeddings. Baselines: raw pixels (/255), PCA "
        f"({args.pca_components} components fitted on the pretraining images), the random-init encoder "
        "(the small CNN untrained; standardization and BatchNorm statistics from 1,024 images). DINO multi-crop: the "
        "two global views plus 4 local 16 x 16 crops (scale 0.05-0.4) per image. MAE-ViT / SimMIM-ViT: "
        "MaskedAutoencoder(encoder=\"vit\") with its defaults (mask ratio 0.75 / 0.6), no augmentation.",
        "kNN accuracy per epoch (monitor: 1,000 bank and 1,000 test images): "
        + "; ".join(f"{m}: " + ", ".join(f"{v:.3f}" for v in np.mean(c, axis=0)) for m, c in curves.items()),
        "Reproduce: `python benchmarks/bench_cifar10.py"
        + (" --quick" if args.quick else "")
        + (f" --device {args.device}" if gpu else "")
        + f" --train-size {args.train_size} --eval-size {args.eval_size} --epochs {args.epochs} --seeds {args.seeds}"
        + f" --jobs {args.jobs}`"
        + (f" ({args.jobs} methods trained at once, one thread each" if args.jobs > 1 else " (one thread")
        + ", on a machine shared with other jobs: the wall-clock columns reflect that sharing; the CPU columns count "
        "the process's own CPU time)"
        + (f"; this table merges the runs {', '.join(getattr(args, 'merged_from'))} (one seed each, `--first-seed`, "
           "then `--merge`), which is the same computation." if getattr(args, "merged_from", None) else "."),
        "" if gpu else gpu_plan,
        "These are short CPU budgets: absolute accuracies are far below the published ones (lightly: SimCLR kNN "
        "0.848 after 200 epochs of 50,000 images on a GPU; solo-learn linear 90.7 % after 1000 epochs) and the "
        "ranking of methods after a few epochs need not hold after hundreds.",
    ])  # fmt: skip


def merge(names, into):
    """Concatenate the per-seed figures of the runs ``names`` (one budget, disjoint seeds) into ``results/<into>``."""
    import json

    runs = [json.loads((RESULTS / f"{name}.json").read_text()) for name in names]
    keys = ["args", "n_test"]
    control = ("seeds", "first_seed", "name", "methods", "merge", "render_only", "cache", "merged_from")
    budget = [{k: v for k, v in run["args"].items() if k not in control} for run in runs]
    if any(b != budget[0] for b in budget):
        raise ValueError(f"--merge needs runs of one budget; {names} differ in their arguments")
    payload = {k: runs[0][k] for k in keys if k in runs[0]}
    for field in ("curves", "final_loss", "fit_seconds", "images_per_s", "images_per_cpu_s", "fit_cpu_seconds"):
        payload[field] = {}
        for run in runs:
            for method, values in run[field].items():
                payload[field].setdefault(method, []).extend(values)
    payload["results"] = {}
    for run in runs:
        for method, metrics in run["results"].items():
            for metric, values in metrics.items():
                payload["results"].setdefault(method, {}).setdefault(metric, []).extend(values)
    payload["peak_memory_mib"] = runs[0]["peak_memory_mib"]
    payload["args"] = {**runs[0]["args"], "seeds": sum(run["args"]["seeds"] for run in runs), "first_seed": 0,
                       "merged_from": list(names)}  # fmt: skip
    payload["best"] = max(payload["curves"], key=lambda m: np.mean(payload["results"][m]["knn"]))
    payload["hardware"], payload["date"] = runs[0]["hardware"], runs[-1]["date"]
    payload["commit"] = ", ".join(dict.fromkeys(run["commit"] for run in runs))
    with_grid = [run for run in runs if "neighbours" in run]
    if with_grid:
        payload["neighbours"], payload["grid_seed"] = with_grid[0]["neighbours"], with_grid[0]["grid_seed"]
    write(into, payload, report(payload))
    replot(payload, into)


def replot(payload, name):
    """Redraw ``results/<name>.png`` from a payload with ``neighbours`` (the grid's images are re-drawn by seed)."""
    if "neighbours" not in payload:
        print(f"{name}: no nearest-neighbour indices in the JSON (an older run); the PNG is left as it is")
        return
    args, seed = argparse.Namespace(**payload["args"]), payload["grid_seed"]
    X_train, y_train = _cifar10.load_cifar10("train", args.cache)
    X_test, y_test = _cifar10.load_cifar10("test", args.cache)
    if args.test_size is not None:
        X_test = X_test[_cifar10.subset(y_test, args.test_size, 0)]
    X_eval = as_float(X_train[_cifar10.subset(y_train, args.eval_size, seed + 1000)])
    neighbours = {m: (np.asarray(q), np.asarray(i)) for m, (q, i) in payload["neighbours"].items()}
    plot(payload["curves"], (X_eval, as_float(X_test), neighbours), RESULTS / f"{name}.png", payload["best"])


def render_only(name):
    """Rewrite ``results/<name>.md`` from ``results/<name>.json`` (its hardware, commit and date kept)."""
    import json

    payload = json.loads((RESULTS / f"{name}.json").read_text())
    payload.pop("benchmark", None)
    write(name, payload, report(payload))
    replot(payload, name)


if __name__ == "__main__":
    main()
