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
by default; ``--train`` uses the 50,000 *training* JPEGs
(``cifar10_train_jpeg.zip``, sizes 5000 and 50000, 1 epoch, 1 repeat by
default). Either is extracted to a temporary folder. ``--workers K [K ...]``
also runs the files with K decoding workers (the default is sk_ssl's: cores -
1, at most 4), and the Markdown states the single-process decoding speed, to
show where the time goes.

    OMP_NUM_THREADS=1 python benchmarks/bench_image_files.py [--quick] [--suite files|encoders|all] [--repeats 3]
    OMP_NUM_THREADS=1 python benchmarks/bench_image_files.py --train --suite files --workers 2

The committed results: ``--repeats 3`` (sizes 2000 and 8000, 2 epochs, batch 256; encoders on 512 images),
and ``--train --suite files --workers 2`` (``image_files_train``).
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
TRAIN_ZIP = DATA_DIR / "images" / "cifar10" / "cifar10_train_jpeg.zip"


def _rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _extract(n, folder, zip_path=ZIP):
    """The first n JPEGs of the archive (classes interleaved) as files in ``folder``; their paths."""
    with zipfile.ZipFile(zip_path) as archive:
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


def _child(mode, paths_file, epochs, batch_size, workers=None):
    """One measured run, in its own process: prints a JSON line."""
    import torch

    import sk_ssl._images
    from sk_ssl import ContrastiveEmbedder

    if workers is not None:  # no public parameter: the benchmark sets the private default
        sk_ssl._images._default_num_workers = lambda: workers
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
        "mode": mode, "n": len(paths), "workers": sk_ssl._images._default_num_workers() if mode == "files" else None, "load_s": load_s, "fit_s": fit_s, "transform_s": transform_s,
        "images_per_s": len(paths) * (epochs + 1) / (load_s + fit_s + transform_s),
        "rss_after_imports_mib": baseline, "peak_rss_mib": peak_self, "peak_worker_rss_mib": peak_child,
        "extra_peak_mib": peak_self - baseline, "final_loss": float(est.history_[-1, "train_loss"]),
        "embedding_std": float(Z.std()),
    }))  # fmt: skip


def _decode_rate(paths):
    """Images/s of decoding ``paths`` in this one process (Pillow, as a worker does it), uint8 out."""
    from sk_ssl._images import _ImageFiles

    files = _ImageFiles(paths, (3, 32, 32), resize=False, num_workers=0)
    start = time.perf_counter()
    files.decode_uint8(np.arange(len(paths)))
    return len(paths) / (time.perf_counter() - start)


def suite_files(sizes, epochs, batch_size, repeats, suffix="", zip_path=ZIP, workers=()):
    from PIL import Image

    from sk_ssl._images import _default_num_workers

    default_workers = _default_num_workers()
    variants = [("array", None), ("files", None)] + [("files", k) for k in workers if k != default_workers]
    rows, records = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        all_paths = _extract(max(sizes), folder, zip_path)
        decode_rate = _decode_rate(all_paths[:2000])
        print({"decode_images_per_s_one_process": decode_rate}, flush=True)
        for n in sizes:
            paths_file = str(folder / f"paths_{n}.txt")
            Path(paths_file).write_text("\n".join(all_paths[:n]))
            array = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in all_paths[:n]])
            np.save(paths_file + ".npy", array)
            del array
            for mode, k in variants:
                for _ in range(repeats):
                    command = [sys.executable, __file__, "--child", mode, paths_file, str(epochs), str(batch_size)]
                    out = subprocess.run(command + ([str(k)] if k is not None else []),
                                         check=True, capture_output=True, text=True)  # fmt: skip
                    record = json.loads(out.stdout.strip().splitlines()[-1])
                    print(record, flush=True)
                    records.append(record)
    for n in sizes:
        array_speed = [r["images_per_s"] for r in records if r["n"] == n and r["mode"] == "array"]
        for mode, k in variants:
            k = default_workers if (mode == "files" and k is None) else k
            rs = [r for r in records if r["n"] == n and r["mode"] == mode and r["workers"] == k]
            speed = [r["images_per_s"] for r in rs]
            ratio = np.mean(speed) / np.mean(array_speed)
            rows.append([
                n, mode, "-" if k is None else k, mean_std(speed), f"{ratio:.2f}" if mode == "files" else "1",
                f"{np.mean([r['extra_peak_mib'] for r in rs]):.0f}",
                f"{np.mean([r['peak_worker_rss_mib'] for r in rs]):.0f}" if mode == "files" else "-",
                mean_std([r["fit_s"] for r in rs]), mean_std([r["transform_s"] for r in rs]),
                mean_std([r["final_loss"] for r in rs]),
            ])  # fmt: skip
    header = ["N", "X", "decoding workers", "images/s (fit+transform)", "ratio to array", "extra peak RSS, MiB (main)",
              "peak RSS, MiB (largest worker)", "fit s", "transform s", "final train loss"]  # fmt: skip
    which = "training" if zip_path == TRAIN_ZIP else "test"
    markdown = (
        "# Image files vs in-memory array\n\n"
        f"`ContrastiveEmbedder(encoder='cnn', max_epochs={epochs}, batch_size={batch_size})` fit, then transform, "
        f"on CIFAR-10 {which} JPEGs (32x32 RGB) read from disk as a list of paths vs the same images as one uint8 "
        "(N, 32, 32, 3) array (loaded from .npy; load time included). images/s counts every image pass "
        f"(epochs + transform) over the wall time of load + fit + transform; mean ± std over {repeats} run(s), "
        "each in its own process. Extra peak RSS: the main process's peak above its RSS after imports. "
        f"Decoding workers: sk_ssl's default is cores - 1, at most 4 (here {default_workers}). A fit on files "
        "decodes every file once more before training (the standardization statistics). "
        "torch and OMP on 1 thread.\n\n"
        f"Decoding alone (Pillow, one process, uint8 out): {decode_rate:.0f} images/s.\n\n"
        + markdown_table(header, rows)
    )
    write("image_files" + suffix, {"epochs": epochs, "batch_size": batch_size, "repeats": repeats, "zip": ZIP.name
          if zip_path == ZIP else TRAIN_ZIP.name, "decode_images_per_s_one_process": decode_rate, "runs": records},
          markdown)  # fmt: skip


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
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), *map(int, sys.argv[6:7]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["files", "encoders", "all"], default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="default 2000 8000 (--train: 5000 50000)")
    parser.add_argument("--epochs", type=int, default=None, help="default 2 (--train: 1)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=None, help="default 2 (--train: 1)")
    parser.add_argument("--train", action="store_true", help="the 50,000 CIFAR-10 training JPEGs")
    parser.add_argument("--workers", type=int, nargs="*", default=[], help="also run the files with K workers")
    parser.add_argument("--encoder-images", type=int, default=512)
    parser.add_argument("--quick", action="store_true", help="smoke run: 200/400 images, 1 epoch, 1 repeat")
    args = parser.parse_args()
    train = args.train
    args.sizes = args.sizes or ([5000, 50000] if train else [2000, 8000])
    args.epochs = args.epochs or (1 if train else 2)
    args.repeats = args.repeats or (1 if train else 2)
    if args.quick:
        args.sizes, args.epochs, args.repeats, args.encoder_images, args.batch_size = [200, 400], 1, 1, 32, 32
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.suite in ("files", "all"):
        suffix = ("_train" if train else "") + ("_quick" if args.quick else "")
        suite_files(args.sizes, args.epochs, args.batch_size, args.repeats, suffix, TRAIN_ZIP if train else ZIP,
                    args.workers)  # fmt: skip
    if args.suite in ("encoders", "all"):
        suite_encoders(args.encoder_images, args.repeats, args.batch_size, "_quick" if args.quick else "")


if __name__ == "__main__":
    main()
