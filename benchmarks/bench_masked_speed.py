"""Training speed of MaskedAutoencoder.fit vs a minimal hand-written torch loop.

Both train the same model (4 x 256 MLP encoder, decoder and mask head,
marginal masking at 0.3, VIME loss) with AdamW at the same batch size on the
same rows, in the same process, alternately, so machine load hits both alike.
Ratio = samples/s of ``fit`` / samples/s of the hand loop; median over repeats
(target >= 0.95).

    python benchmarks/bench_masked_speed.py [--quick]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402
from _data import load_tabular  # noqa: E402

from sk_ssl import MaskedAutoencoder  # noqa: E402
from sk_ssl.augment import MarginalMasking  # noqa: E402
from sk_ssl.encoders import MLPEncoder, ReconstructionHead  # noqa: E402
from sk_ssl.losses import MaskReconstructionLoss  # noqa: E402
from sk_ssl.models import MaskedModel  # noqa: E402


def hand_loop(X, epochs, batch_size, seed):
    """The loop a user would write: no skorch, no validation, no history."""
    torch.manual_seed(seed)
    n, d = X.shape
    x_all = torch.tensor(X, dtype=torch.float32)
    model = MaskedModel(
        MLPEncoder((d,), 256), (d,), X.mean(0), np.where(X.std(0) < 1e-8, 1, X.std(0)),
        decoder=ReconstructionHead(256, (d,)), masking=MarginalMasking(X, 0.3),
        mask_head=ReconstructionHead(256, (d,)),
    )  # fmt: skip
    criterion = MaskReconstructionLoss(2.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n - n % batch_size, batch_size):
            loss = criterion(model(x_all[order[start : start + batch_size]]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        torch.stack(losses).cpu()
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    X, _, _ = load_tabular("letter")
    if args.quick:
        X, args.epochs, args.repeats = X[:2000], 1, 1
    n_used = (len(X) - len(X) % args.batch_size) * args.epochs
    # Warm-up (allocator, lazy init) for both.
    hand_loop(X[:1024], 1, args.batch_size, 0)
    MaskedAutoencoder(max_epochs=1, batch_size=args.batch_size, device="cpu", random_state=0).fit(X[:1024])
    hand, fit = [], []
    for repeat in range(args.repeats):
        start = time.perf_counter()
        hand_loop(X, args.epochs, args.batch_size, repeat)
        hand.append(n_used / (time.perf_counter() - start))
        start = time.perf_counter()
        MaskedAutoencoder(max_epochs=args.epochs, batch_size=args.batch_size, device="cpu", random_state=repeat).fit(X)
        fit.append(n_used / (time.perf_counter() - start))
        print(f"repeat {repeat}: hand {hand[-1]:.0f}/s, fit {fit[-1]:.0f}/s, ratio {fit[-1] / hand[-1]:.3f}", flush=True)
    ratios = np.asarray(fit) / np.asarray(hand)
    header = ["workload", "hand loop samples/s", "MaskedAutoencoder.fit samples/s", "ratio (median)", "ratios"]
    row = [
        f"letter {len(X)} x {X.shape[1]}, batch {args.batch_size}, {args.epochs} epochs",
        f"{np.median(hand):.0f}", f"{np.median(fit):.0f}", f"**{np.median(ratios):.3f}**",
        ", ".join(f"{r:.3f}" for r in ratios),
    ]  # fmt: skip
    markdown = (
        "## MaskedAutoencoder training speed vs a minimal hand-written torch loop (target ratio >= 0.95)\n\n"
        f"Same model, loss, masking and batch size, CPU, {args.repeats} alternating repeats in one process; "
        "fit's time includes input validation, standardization statistics and building the model.\n\n"
        + _report.markdown_table(header, [row])
    )
    payload = {"args": vars(args), "hand_samples_per_s": hand, "fit_samples_per_s": fit, "ratios": ratios.tolist()}
    _report.write("masked_speed" + ("_quick" if args.quick else ""), payload, markdown)


if __name__ == "__main__":
    main()
