"""Column-block permutation: which block of columns was shuffled across the rows of the batch?

A table pretext task. The
columns are split into ``n_blocks`` contiguous blocks, in X's column order
(``numpy.array_split`` of the column indices, so blocks differ by at most one
column). Each row of the batch draws one block; that block's values are
replaced by those of another row of the batch (one random permutation of the
rows per step), so every value stays a real value of its column and each
column's marginal is kept, and only the relation between the block and the
rest of the row is broken. A head predicts which block was swapped
(cross-entropy over ``n_blocks`` classes). As VIME's mask estimation, it makes
the encoder model the dependencies between columns, but between groups of
columns rather than cells: order the columns so that a block is a meaningful
group (a sensor, a view, one source's features).
"""

import numpy as np
import torch

from ._contract import Objective
from ._pretext import CLASS_OUTPUTS, PretextClassificationLoss, PretextModel, pretext_parts


def column_blocks(n_features, n_blocks):
    """The block of each column: ``(n_features,)`` ints, contiguous blocks of near-equal size."""
    block_of = np.empty(n_features, dtype=np.int64)
    for block, columns in enumerate(np.array_split(np.arange(n_features), n_blocks)):
        block_of[columns] = block
    return block_of


def permute_blocks(x, block_of, labels, order):
    """Row ``i`` of the output: ``x[i]``, with the columns of block ``labels[i]`` taken from row ``order[i]``."""
    swapped = block_of.unsqueeze(0) == labels.unsqueeze(1)
    return torch.where(swapped, x[order], x)


class BlockPermutationModel(PretextModel):
    """Swap one random block per row with another row's; the label is the block."""

    def __init__(self, encoder, input_shape, mean, scale, head, block_of):
        super().__init__(encoder, input_shape, mean, scale, head)
        self.register_buffer("block_of", torch.as_tensor(block_of, dtype=torch.long))
        self.n_blocks = int(block_of.max()) + 1

    def forward(self, x):
        x = self.standardize(self.as_input(x))
        labels = torch.randint(self.n_blocks, (len(x),), device=x.device)
        # A row never takes its own values: a shift by 1..N-1 of a random permutation.
        perm = torch.randperm(len(x), device=x.device)
        shift = torch.randint(1, max(len(x), 2), (), device=x.device)
        order = torch.empty_like(perm)
        order[perm] = perm.roll(int(shift))
        permuted = permute_blocks(x, self.block_of, labels, order)
        return {"logits": self.head(self.encoder(permuted)), "labels": labels}


class BlockPermutation(Objective):
    """Predict which of ``n_blocks`` contiguous column blocks was swapped with another row's; tables only."""

    name = "block_permutation"
    family = "pretext"
    data = ("tabular",)
    outputs = CLASS_OUTPUTS

    def resolved(self, est):
        n_features = est.n_features_in_
        n_blocks = min(4, n_features) if est.n_blocks == "auto" else est.n_blocks
        if n_features < 2 or n_blocks > n_features:
            raise ValueError(
                f"objective='block_permutation' splits the {n_features} column(s) into n_blocks={n_blocks} "
                f"blocks, which needs at least 2 columns and n_blocks <= {n_features}. Pass a smaller n_blocks, "
                "or use objective='mask_estimation'."
            )
        return {"n_blocks_": n_blocks}

    def build(self, est, X):
        block_of = column_blocks(est.n_features_in_, self.resolved(est)["n_blocks_"])
        encoder, mean, scale, head = pretext_parts(est, X, int(block_of.max()) + 1)
        model = BlockPermutationModel(encoder, est._input_shape, mean, scale, head, block_of)
        return model, self.criterion(PretextClassificationLoss())
