"""GPU throughput: SimCLR with a ResNet-18 (CIFAR stem) on 32 x 32 x 3 images.

ContrastiveEmbedder(encoder=ResNet-18) trains on MNIST digits padded to 32 x 32
and repeated to three channels (the compute of CIFAR-10, from data on disk),
through the estimator's own ``fit``: no separate loop. Reported:

* fit throughput in images per second after warm-up: the median over the
  epochs after the first of ``images per epoch / epoch time`` (skorch's
  ``dur``; the engine copies the epoch's losses to the host at its end, so the
  GPU work of the epoch is included);
* peak GPU memory (``torch.cuda.max_memory_allocated``) of the fit;
* the share of step time spent in augmentation: the fitted model's
  augmentation module alone, timed on batches of the same size and device, two
  views per step as in training, with ``torch.cuda.synchronize``, under the
  same bf16 autocast as the training step.

Reference: lightly's published SimCLR / ResNet-18 / CIFAR-10 run, 200 epochs
of 50,000 images at batch size 512 in 87 minutes, about 1,900 images/s
(lightly augments on the CPU in its data loader); the target is three times
that on one H100.

Run: ``python benchmarks/bench_gpu.py`` (``--channels-last``, ``--compile``,
``--batch-size``, ``--epochs``). Without CUDA it exits with a message and
writes nothing; ``--device cpu --quick`` is a few-step smoke run on CPU.
"""

import argparse
import sys
import time

import numpy as np
import torch

from _data import load_mnist
from _report import markdown_table, write
from sk_ssl import ContrastiveEmbedder
from sk_ssl.encoders import ResNet18Encoder

LIGHTLY_IMAGES_PER_S = 50_000 * 200 / (87 * 60)  # 1,916
TARGET_IMAGES_PER_S = 3 * LIGHTLY_IMAGES_PER_S


def encoder_class(channels_last, compile_):
    """ResNet-18 (CIFAR stem) with the options under test.

    Both are properties of the encoder, so they go in through the public
    ``encoder=`` class parameter; the engine needs no change for them.
    """

    class BenchResNet18(ResNet18Encoder):
        def __init__(self, input_shape, out_features):
            super().__init__(input_shape, out_features)
            if channels_last:
                # Module.to(device) later keeps this memory format.
                self.to(memory_format=torch.channels_last)
            if compile_:
                self.features = torch.compile(self.features)

        def forward(self, x):
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            return super().forward(x)

    return BenchResNet18


def mnist_32x32x3(n):
    """``n`` MNIST training digits as float32 (n, 3, 32, 32): padded by 2, grey repeated to RGB."""
    images = load_mnist("train")[0][:n]
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return np.repeat(padded[:, None], 3, axis=1).astype(np.float32)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def augmentation_seconds_per_step(est, X, batch_size, device, steps):
    """Time of the two augmented views of one step, the fitted augmentation alone."""
    augmentation = est.module_.augmentation
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda" and torch.cuda.is_bf16_supported()
        else torch.autocast("cpu", enabled=False)
    )
    batches = [
        torch.tensor(X[start : start + batch_size], device=device)
        for start in range(0, batch_size * steps, batch_size)
    ]
    with torch.no_grad(), autocast:
        augmentation(batches[0]), augmentation(batches[0])  # warm-up (kernels, caches)
        synchronize(device)
        start = time.perf_counter()
        for batch in batches:
            augmentation(batch), augmentation(batch)
        synchronize(device)
    return (time.perf_counter() - start) / len(batches)


def run(args, device):
    n_images, batch_size, epochs = args.n_images, args.batch_size, args.epochs
    X = mnist_32x32x3(n_images)
    est = ContrastiveEmbedder(
        encoder=encoder_class(args.channels_last, args.compile),
        n_components=512,
        batch_size=batch_size,
        max_epochs=epochs,
        device=device,
        random_state=0,
    )
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    est.fit(X)
    synchronize(device)
    fit_seconds = time.perf_counter() - start
    peak_gib = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None

    steps = len(X) // batch_size if len(X) >= batch_size else 1
    images_per_epoch = steps * batch_size if len(X) >= batch_size else len(X)
    durations = est.history_[:, "dur"]
    measured = durations[1:] if len(durations) > 1 else durations  # the first epoch is warm-up (and compile)
    epoch_seconds = float(np.median(measured))
    images_per_s = images_per_epoch / epoch_seconds
    step_seconds = epoch_seconds / steps
    aug_step_seconds = augmentation_seconds_per_step(est, X, min(batch_size, len(X)), device, min(steps, 20))
    losses = est.history_[:, "train_loss"]
    return {
        "images": len(X),
        "batch_size": batch_size,
        "epochs": epochs,
        "channels_last": args.channels_last,
        "compile": args.compile,
        "device": str(device),
        "autocast": "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "none",
        "images_per_s": images_per_s,
        "first_epoch_s": float(durations[0]),
        "epoch_s_median_after_warmup": epoch_seconds,
        "fit_wall_s": fit_seconds,
        "step_ms": 1e3 * step_seconds,
        "augmentation_ms_per_step": 1e3 * aug_step_seconds,
        "augmentation_share": aug_step_seconds / step_seconds,
        "peak_memory_gib": peak_gib,
        "train_loss_first_last": [float(losses[0]), float(losses[-1])],
        "vs_lightly": images_per_s / LIGHTLY_IMAGES_PER_S,
        "vs_target": images_per_s / TARGET_IMAGES_PER_S,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="'cuda' (default), 'cuda:N', or 'cpu' with --quick")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=4, help="epochs; the first is warm-up (default 4)")
    parser.add_argument("--n-images", type=int, default=50_000, help="images per epoch (default 50,000 as CIFAR-10)")
    parser.add_argument("--channels-last", action="store_true", help="channels_last memory format for the encoder")
    parser.add_argument("--compile", action="store_true", help="torch.compile the encoder's convolutional trunk")
    parser.add_argument("--quick", action="store_true", help="a few steps (smoke run; results are not committed)")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            "bench_gpu: CUDA is not available on this machine, so there is nothing to measure; no results written. "
            "Run it on a CUDA GPU, or `python benchmarks/bench_gpu.py --device cpu --quick` for a smoke run."
        )
        return 0
    if device.type == "cpu" and not args.quick:
        print("bench_gpu: CPU throughput is not what this benchmark is for; use --device cpu only with --quick.")
        return 2
    if args.quick:  # two epochs of two small steps
        args.batch_size = min(args.batch_size, 16)
        args.n_images, args.epochs = 2 * args.batch_size, 2

    result = run(args, device)
    options = ", ".join(name for name, on in (("channels_last", args.channels_last), ("torch.compile", args.compile))
                        if on) or "none"  # fmt: skip
    row = [
        options,
        result["batch_size"],
        f"{result['images_per_s']:,.0f}",
        f"{result['vs_lightly']:.2f}x / {result['vs_target']:.2f}x",
        f"{result['step_ms']:.1f}",
        f"{100 * result['augmentation_share']:.1f} %",
        "-" if result["peak_memory_gib"] is None else f"{result['peak_memory_gib']:.2f}",
    ]
    md = (
        f"## SimCLR ResNet-18 (CIFAR stem) fit throughput, 32 x 32 x 3 ({result['device']})\n\n"
        f"ContrastiveEmbedder.fit on {result['images']:,} MNIST digits padded to 32 x 32 x 3, "
        f"{result['epochs']} epochs (median epoch time after the first), {result['autocast']} autocast. "
        f"lightly's published ResNet-18 SimCLR CIFAR-10 run: {LIGHTLY_IMAGES_PER_S:,.0f} images/s; "
        f"target {TARGET_IMAGES_PER_S:,.0f} images/s (3x) on one H100.\n\n"
        + markdown_table(
            ["options", "batch", "images/s", "vs lightly / vs target", "step (ms)", "augmentation share",
             "peak GPU memory (GiB)"],  # fmt: skip
            [row],
        )
    )
    suffix = ("_channels_last" if args.channels_last else "") + ("_compile" if args.compile else "")
    write("gpu_throughput" + suffix + ("_quick" if args.quick else ""), result, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
