"""Images as users hold them: JPEG files on disk vs the same images as an in-memory uint8 array.

Two suites (both by default):

* ``files``: ``ContrastiveEmbedder`` fit (``--epochs`` epochs) + transform on
  N CIFAR-10 JPEGs read from disk (a list of paths; Pillow decodes them a batch
  at a time in DataLoader workers) vs the same images as one ``(N, 32, 32, 3)``
  uint8 array. Reports images/s of each, their ratio, and the peak RSS of each
  run above the process's RSS after imports (every run is its own process), for
  two N, to show that the files' peak memory does not grow with N.
* ``encoders``: time per epoch on 32x32 RGB images of the built-in image
  encoders (small CNN, ResNet-18 with the CIFAR stem), which decides what
  ``encoder="auto"`` picks for such images.

Data: the 10,000 CIFAR-10 *test* JPEGs of ``../shared/data/images/cifar10``
(the 50,000 training JPEGs were not used in this reduced run), extracted to a temporary folder.

    OMP_NUM_THREADS=1 python benchmarks/bench_image_files.py [--quick] [--suite files|encoders|all] [--repeats 3]

The committed results: ``--repeats 3`` (sizes 2000 and 8000, 2 epochs, batch 256; encoders on 512 images).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import DATA_DIR  # noqa: E402
from _report import markdown_table, mean_std, write  # noqa: E402

ZIP = DATA_DIR / "images" / "cifar10" / "cifar10_test_jpeg.zip"


def _rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _extract(n, folder):
    """The first n JPEGs of the archive (classes interleaved) as files in ``folder``; their paths."""
    with zipfile.ZipFile(ZIP) as archive:
        names = sorted(name for name in archive.namelist() if name.endswith(".jpg"))
        # Round-robin over the classes so every subset holds all ten.
        by_class = {}
        for name in names:
            by_class.setdefault(name.split("/")[1], []).append(name)
        ordered = [name for group in zip(*by_class.values()) for name in group][:n]
        paths = []
        for i, name in enumerate(ordered):
            path = folder / f"{i:05d}.jpg"
            if not path.exists():
                path.write_bytes(archive.read(name))
            paths.append(str(path))
    return paths


def _child(mode, paths_file, epochs, batch_size):
    """One measured run, in its own process: prints a JSON line."""
    import torch

    from sk_ssl import ContrastiveEmbedder

    torch.set_num_threads(1)
    paths = Path(paths_file).read_text().split("\n")
    baseline = _rss_mib()
    start = time.perf_counter()
    if mode == "array":
        X = np.load(paths_file + ".npy")  # the images as the user holds them in memory
    else:
        X = paths
    load_s = time.perf_counter() - start
    est = ContrastiveEmbedder(encoder="cnn", max_epochs=epochs, batch_size=batch_size, random_state=0, device="cpu")
    start = time.perf_counter()
    est.fit(X)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    Z = est.transform(X)
    transform_s = time.perf_counter() - start
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({
        "mode": mode, "n": len(paths), "load_s": load_s, "fit_s": fit_s, "transform_s": transform_s,
        "images_per_s": len(paths) * (epochs + 1) / (load_s + fit_s + transform_s),
        "rss_after_imports_mib": baseline, "peak_rss_mib": peak_self, "peak_worker_rss_mib": peak_child,
        "extra_peak_mib": peak_self - baseline, "final_loss": float(est.history_[-1, "train_loss"]),
        "embedding_std": float(Z.std()),
    }))  # fmt: skip


def suite_files(sizes, epochs, batch_size, repeats, suffix=""):
    from PIL import Image

    rows, records = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        all_paths = _extract(max(sizes), folder)
        for n in sizes:
            paths_file = str(folder / f"paths_{n}.txt")
            Path(paths_file).write_text("\n".join(all_paths[:n]))
            array = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in all_paths[:n]])
            np.save(paths_file + ".npy", array)
            for mode in ("array", "files"):
                for _ in range(repeats):
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", mode, paths_file, str(epochs), str(batch_size)],
                        check=True, capture_output=True, text=True,
                    )  # fmt: skip
                    record = json.loads(out.stdout.strip().splitlines()[-1])
                    print(record, flush=True)
                    records.append(record)
    for n in sizes:
        by_mode = {m: [r for r in records if r["n"] == n and r["mode"] == m] for m in ("array", "files")}
        speed = {m: [r["images_per_s"] for r in rs] for m, rs in by_mode.items()}
        ratio = np.mean(speed["files"]) / np.mean(speed["array"])
        for mode, rs in by_mode.items():
            rows.append([
                n, mode, mean_std(speed[mode]), f"{ratio:.2f}" if mode == "files" else "1",
                f"{np.mean([r['extra_peak_mib'] for r in rs]):.0f}",
                f"{np.mean([r['peak_worker_rss_mib'] for r in rs]):.0f}" if mode == "files" else "-",
                mean_std([r["final_loss"] for r in rs]),
            ])  # fmt: skip
    header = ["N", "X", "images/s (fit+transform)", "ratio to array", "extra peak RSS, MiB (main)",
              "peak RSS, MiB (largest worker)", "final train loss"]  # fmt: skip
    markdown = (
        "# Image files vs in-memory array\n\n"
        f"`ContrastiveEmbedder(encoder='cnn', max_epochs={epochs}, batch_size={batch_size})` fit, then transform, "
        "on CIFAR-10 test JPEGs (32x32 RGB) read from disk as a list of paths vs the same images as one uint8 "
        "(N, 32, 32, 3) array (loaded from .npy; load time included). images/s counts every image pass "
        f"(epochs + transform) over the wall time of load + fit + transform; mean ± std over {repeats} run(s), "
        "each in its own process. Extra peak RSS: the main process's peak above its RSS after imports. "
        "Decoding workers: sk_ssl's default (cores - 1, at most 4). torch and OMP on 1 thread.\n\n"
        + markdown_table(header, rows)
    )
    write("image_files" + suffix, {"epochs": epochs, "batch_size": batch_size, "repeats": repeats, "runs": records}, markdown)


def suite_encoders(n, repeats, batch_size, suffix=""):
    import torch

    from sk_ssl import ContrastiveEmbedder

    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    with zipfile.ZipFile(ZIP) as archive:
        from io import BytesIO

        from PIL import Image

        names = sorted(name for name in archive.namelist() if name.endswith(".jpg"))[:: 10000 // n][:n]
        X = np.stack([np.asarray(Image.open(BytesIO(archive.read(name))).convert("RGB")) for name in names])
    rows, records = [], {}
    for encoder in ("cnn", "resnet18"):
        times = []
        for seed in range(repeats):
            est = ContrastiveEmbedder(encoder=encoder, max_epochs=1, batch_size=batch_size, random_state=seed,
                                      device="cpu")  # fmt: skip
            start = time.perf_counter()
            est.fit(X[rng.permutation(len(X))])
            times.append(time.perf_counter() - start)
        params = sum(p.numel() for p in est.module_.encoder.parameters())
        records[encoder] = {"epoch_s": times, "parameters": params}
        per_50k = np.mean(times) / n * 50000 / 60
        rows.append([encoder, f"{params / 1e6:.2f} M", mean_std(times), f"{n / np.mean(times):.0f}", f"{per_50k:.0f}"])
        print(rows[-1], flush=True)
    markdown = (
        "# Image encoders on CPU, 32x32 RGB\n\n"
        f"One `ContrastiveEmbedder` epoch (SimCLR, batch_size={batch_size}) on {n} CIFAR-10 test images, "
        f"mean ± std over {repeats} run(s), torch on 1 thread. A small ViT is not measured: sk_ssl has none yet "
        "(issue 13).\n\n"
        + markdown_table(["encoder", "parameters", "seconds per epoch", "images/s", "minutes per epoch of 50k"], rows)
    )
    write("image_encoders" + suffix, {"n_images": n, "batch_size": batch_size, "repeats": repeats, "encoders": records},
          markdown)  # fmt: skip


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["files", "encoders", "all"], default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--encoder-images", type=int, default=512)
    parser.add_argument("--quick", action="store_true", help="smoke run: 200/400 images, 1 epoch, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.epochs, args.repeats, args.encoder_images, args.batch_size = [200, 400], 1, 1, 32, 32
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.suite in ("files", "all"):
        suite_files(args.sizes, args.epochs, args.batch_size, args.repeats, "_quick" if args.quick else "")
    if args.suite in ("encoders", "all"):
        suite_encoders(args.encoder_images, args.repeats, args.batch_size, "_quick" if args.quick else "")


if __name__ == "__main__":
    main()
