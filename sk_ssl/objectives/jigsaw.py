"""Jigsaw puzzles (Noroozi & Favaro, ECCV 2016): which permutation shuffled the image's grid of tiles?

The image is cut into ``grid_size`` x ``grid_size`` tiles (pixels beyond the
last whole tile stay in place), the tiles are shuffled by one of a fixed set
of permutations, and the encoder sees the reassembled image (same shape as in
``transform``; the paper's per-tile siamese network would need a second input
size). The head predicts the permutation's index.
"""

import itertools
import math

import numpy as np
import torch

from ._contract import Objective
from ._pretext import CLASS_OUTPUTS, PretextClassificationLoss, PretextModel, pretext_parts


def permutation_set(n_tiles, n_permutations, seed=0):
    """``n_permutations`` permutations of ``n_tiles`` far apart in Hamming distance (the paper's greedy choice).

    All of them (identity first) when there are at most ``n_permutations``;
    otherwise the identity, then greedily the candidate (of a seeded random
    pool) whose smallest Hamming distance to those chosen is largest.
    """
    if math.factorial(n_tiles) <= n_permutations:
        return np.array(list(itertools.permutations(range(n_tiles))), dtype=np.int64)
    rng = np.random.RandomState(seed)
    pool = np.array([rng.permutation(n_tiles) for _ in range(max(2000, 20 * n_permutations))], dtype=np.int64)
    chosen = [np.arange(n_tiles)]
    nearest = (pool != chosen[0]).sum(axis=1)
    for _ in range(n_permutations - 1):
        best = int(np.argmax(nearest))
        chosen.append(pool[best])
        nearest = np.minimum(nearest, (pool != pool[best]).sum(axis=1))
    return np.stack(chosen)


def shuffle_tiles(x, grid_size, permutations):
    """Tile ``i`` (row-major) of each output image is tile ``permutations[n, i]`` of the input ``x[n]``."""
    n, c, height, width = x.shape
    t_h, t_w = height // grid_size, width // grid_size
    region = x[:, :, : grid_size * t_h, : grid_size * t_w]
    tiles = region.reshape(n, c, grid_size, t_h, grid_size, t_w).permute(0, 2, 4, 1, 3, 5)
    tiles = tiles.reshape(n, grid_size * grid_size, c, t_h, t_w)
    tiles = tiles[torch.arange(n, device=x.device).unsqueeze(1), permutations]
    tiles = tiles.reshape(n, grid_size, grid_size, c, t_h, t_w).permute(0, 3, 1, 4, 2, 5)
    out = x.clone()
    out[:, :, : grid_size * t_h, : grid_size * t_w] = tiles.reshape(n, c, grid_size * t_h, grid_size * t_w)
    return out


class JigsawModel(PretextModel):
    """Shuffle each image's tiles by a random permutation of the set; the label is its index."""

    def __init__(self, encoder, input_shape, mean, scale, head, grid_size, permutations):
        super().__init__(encoder, input_shape, mean, scale, head)
        self.grid_size = grid_size
        self.register_buffer("permutations", torch.as_tensor(permutations, dtype=torch.long))

    def forward(self, x):
        x = self.standardize(self.as_input(x))
        labels = torch.randint(len(self.permutations), (len(x),), device=x.device)
        shuffled = shuffle_tiles(x, self.grid_size, self.permutations[labels])
        return {"logits": self.head(self.encoder(shuffled)), "labels": labels}


class Jigsaw(Objective):
    """A ``grid_size`` x ``grid_size`` jigsaw (auto: 3 from 24 px a side, else 2) over ``n_permutations`` (auto 24)."""

    name = "jigsaw"
    family = "pretext"
    data = ("image",)
    outputs = CLASS_OUTPUTS

    def resolved(self, est):
        side = min(est.image_shape_[1:])
        grid = est.grid_size if est.grid_size != "auto" else (3 if side >= 24 else 2)
        if side < grid:
            raise ValueError(
                f"objective='jigsaw' with grid_size={grid} needs images at least {grid} pixels a side; these are "
                f"{est.image_shape_[1]} x {est.image_shape_[2]}. Use a smaller grid_size or objective='rotation'."
            )
        n_permutations = 24 if est.n_permutations == "auto" else est.n_permutations
        return {"grid_size_": grid, "n_permutations_": min(n_permutations, math.factorial(grid * grid))}

    def build(self, est, X):
        resolved = self.resolved(est)
        grid = resolved["grid_size_"]
        permutations = permutation_set(grid * grid, resolved["n_permutations_"])
        encoder, mean, scale, head = pretext_parts(est, X, len(permutations))
        model = JigsawModel(encoder, est._input_shape, mean, scale, head, grid, permutations)
        return model, self.criterion(PretextClassificationLoss())
