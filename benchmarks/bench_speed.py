"""Speed: ContrastiveEmbedder vs a minimal hand-written torch loop, same process.

Both sides train the same model (encoder, projection head, augmentation), the
same loss and optimizer, with the same batch size and epochs; the hand loop is
what a user would write without skorch or sklearn. Runs alternate (sk_ssl,
hand, sk_ssl, hand, ...) and the ratio of median throughputs is reported, so
machine noise hits both sides alike. Transform throughput is compared the same
way. Run: ``python benchmarks/bench_speed.py [--quick]``.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

from _data import load_tabular
from _report import markdown_table, write
from sk_ssl import ContrastiveEmbedder
from sk_ssl.augment import ImageAugmentation, TabularCorruption
from sk_ssl.encoders import MLPEncoder, ProjectionHead, SmallCNNEncoder
from sk_ssl.losses import InfoNCELoss, NTXentLoss
from sk_ssl.models import ContrastiveModel


def hand_model(X, image_shape, seed):
    """The same model ContrastiveEmbedder builds, from the public parts."""
    torch.manual_seed(seed)
    mean, scale = X.mean(0), X.std(0)
    scale[scale < 1e-8] = 1
    if image_shape is None:
        shape, encoder, aug = (X.shape[1],), MLPEncoder((X.shape[1],), 256), TabularCorruption(X, 0.6)
        mean, scale = mean, scale
        loss = InfoNCELoss(1.0)
    else:
        shape, encoder = image_shape, SmallCNNEncoder(image_shape, 256)
        aug = ImageAugmentation(crop_scale=(0.4, 1.0))
        mean, scale = np.full(X.shape[1], X.mean()), np.full(X.shape[1], X.std())
        loss = NTXentLoss(0.5)
    model = ContrastiveModel(encoder, shape, mean, scale, ProjectionHead(256, 256, 128), aug, image_shape is None)
    return model, loss


def hand_fit(X, image_shape, epochs, batch_size, seed):
    model, criterion = hand_model(X, image_shape, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    data = torch.tensor(X, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    n = len(data)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - n % batch_size, batch_size):
            loss = criterion(model(data[order[start : start + batch_size]]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def hand_transform(model, X, batch_size=1024):
    model.eval()
    with torch.inference_mode():
        return torch.cat(
            [model.encode(torch.tensor(X[s : s + batch_size], dtype=torch.float32)) for s in range(0, len(X), batch_size)]
        ).numpy()


def measure(X, image_shape, epochs, repeats, batch_size=128):
    # float32 in, as the hand loop computes: sk_ssl returns the input's dtype, so
    # float64 input would add a float32 -> float64 copy of the output to transform.
    X = np.asarray(X, dtype=np.float32)
    fit_sk, fit_hand, tr_sk, tr_hand = [], [], [], []
    n = len(X)
    for rep in range(repeats):
        est = ContrastiveEmbedder(image_shape=image_shape, max_epochs=epochs, batch_size=batch_size,
                                  random_state=rep, device="cpu")  # fmt: skip
        start = time.perf_counter()
        est.fit(X)
        fit_sk.append(n * epochs / (time.perf_counter() - start))
        start = time.perf_counter()
        model = hand_fit(X, image_shape, epochs, batch_size, rep)
        fit_hand.append(n * epochs / (time.perf_counter() - start))
        for _ in range(3):
            start = time.perf_counter()
            est.transform(X)
            tr_sk.append(n / (time.perf_counter() - start))
            start = time.perf_counter()
            hand_transform(model, X)
            tr_hand.append(n / (time.perf_counter() - start))
    return {
        "fit_samples_per_s": {"sk_ssl": float(np.median(fit_sk)), "hand_loop": float(np.median(fit_hand))},
        "fit_ratio": float(np.median(fit_sk) / np.median(fit_hand)),
        "transform_samples_per_s": {"sk_ssl": float(np.median(tr_sk)), "hand_loop": float(np.median(tr_hand))},
        "transform_ratio": float(np.median(tr_sk) / np.median(tr_hand)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args()
    epochs, repeats = (1, 1) if args.quick else (5, 5)
    digits = load_digits().data
    letter = load_tabular("letter")[0]
    cases = {
        "tabular (letter, 20000 x 16, SCARF MLP)": (letter[:2000] if args.quick else letter, None),
        "images (digits, 1797 x 1x8x8, SimCLR CNN)": (digits[:300] if args.quick else digits, (1, 8, 8)),
    }
    results, rows = {}, []
    for name, (X, image_shape) in cases.items():
        r = measure(X, image_shape, epochs, repeats)
        results[name] = r
        rows.append([name, f"{r['fit_samples_per_s']['sk_ssl']:,.0f}", f"{r['fit_samples_per_s']['hand_loop']:,.0f}",
                     f"**{r['fit_ratio']:.3f}**", f"{r['transform_samples_per_s']['sk_ssl']:,.0f}",
                     f"{r['transform_samples_per_s']['hand_loop']:,.0f}", f"**{r['transform_ratio']:.3f}**"])  # fmt: skip
    md = (
        f"## ContrastiveEmbedder vs a hand-written torch loop (CPU)\n\n"
        f"Same model, loss, augmentation, optimizer and batch size (128), float32 input; {epochs} epochs per fit "
        f"(sk_ssl's time includes input validation and building the model); "
        f"median of {repeats} alternating repeats (transform: 3 per repeat). Ratio = sk_ssl / hand loop "
        f"throughput (target >= 0.95).\n\n"
        + markdown_table(
            ["data", "fit sk_ssl (samples/s)", "fit hand loop", "fit ratio", "transform sk_ssl", "transform hand loop",
             "transform ratio"],  # fmt: skip
            rows,
        )
    )
    write("speed_contrastive" + ("_quick" if args.quick else ""), {"epochs": epochs, "repeats": repeats, "results": results}, md)


if __name__ == "__main__":
    main()
