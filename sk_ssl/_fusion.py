"""Learned fusions of MultiViewEmbedder's view embeddings: per-view weights and a transformer over view tokens.

:class:`~sk_ssl.models.ViewFusion` holds one of these for ``fusion="weighted"``
and ``fusion="transformer"``. Both take the per-view embeddings ``h`` of shape
``(V, N, D)`` and the presence mask ``present`` ``(V, N)``; a missing view
never reaches the output.
"""

import torch
from torch import nn

# The fusions implemented here, by ViewFusion's name.
LEARNED = ("weighted", "transformer")


def make_fusion(fusion, n_views, dim):
    """The learned fusion module of ``fusion`` ("weighted" or "transformer")."""
    return WeightedFusion(n_views) if fusion == "weighted" else TransformerFusion(n_views, dim)


def masked_softmax(scores, present):
    """Softmax over views (dim 0) of ``scores`` (V, N), 0 for missing views."""
    return torch.softmax(scores.masked_fill(~present, float("-inf")), dim=0)


class WeightedFusion(nn.Module):
    """One learned scalar per view: ``sum_v softmax(logits)_v h_v`` over the present views.

    The weights are global (the same for every sample), unlike the per-sample
    gated attention of ``fusion="attention"``: they say how much each view
    counts in the fused embedding. A row missing a view renormalises the
    softmax over the views it has.
    """

    # The logits are ``scale * raw``: AdamW moves each raw parameter by about
    # the learning rate per step, so V scalars learned at the encoders' rate
    # would hardly move in a short fit; the scale lets them move faster.
    scale = 10.0

    def __init__(self, n_views):
        super().__init__()
        self.raw = nn.Parameter(torch.zeros(n_views))

    def logits(self):
        """The view scores (V,) whose softmax is the weights."""
        return self.scale * self.raw.float()

    def view_weights(self):
        """The learned weights (V,), summing to 1: the fusion weights of a row with every view."""
        return torch.softmax(self.logits(), dim=0)

    def weights(self, present, dtype):
        """Per-sample weights (V, N): the softmax renormalised over each row's present views."""
        return masked_softmax(self.logits()[:, None].expand(present.shape), present).to(dtype)


class _Block(nn.Module):
    """Pre-norm transformer block: self-attention across the view tokens, then an MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, tokens, padding):
        x = self.norm1(tokens)
        tokens = tokens + self.attention(x, x, x, key_padding_mask=padding, need_weights=False)[0]
        return tokens + self.mlp(self.norm2(tokens))


class TransformerFusion(nn.Module):
    """Self-attention across the view tokens, then the mean of the present tokens.

    Each view's embedding is one token, plus a learned embedding of its view
    type (which view it is); ``n_layers`` pre-norm transformer blocks attend
    across the present views of each sample (missing views are masked out of
    the keys), and the fused embedding is the mean of the present views'
    output tokens. This is the cross-modal self-attention of multimodal
    transformers (Tsai et al., 2019) over one token per view.

    Order: self-attention without positions is permutation-equivariant, and
    the mean is invariant, so the output depends on the *set* of
    (view embedding, view type) pairs, never on the order the views are
    listed in; the view-type embeddings are what tell the views apart.

    Parameters
    ----------
    n_views : int
        Number of views V.
    dim : int
        Embedding width D.
    n_layers : int, default=2
        Transformer blocks.
    """

    def __init__(self, n_views, dim, n_layers=2):
        super().__init__()
        heads = next(h for h in (4, 2, 1) if dim % h == 0)
        self.view_type = nn.Parameter(0.02 * torch.randn(n_views, dim))
        self.blocks = nn.ModuleList([_Block(dim, heads) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, h, present, view_type=None):
        """Fused embedding (N, D) of ``h`` (V, N, D); ``view_type`` (V, D) overrides the learned one (tests)."""
        view_type = self.view_type if view_type is None else view_type
        tokens = h.transpose(0, 1) + view_type.to(h.dtype)  # (N, V, D)
        padding = ~present.T  # (N, V): True where the key is masked
        for block in self.blocks:
            tokens = block(tokens, padding)
        tokens = self.norm(tokens)
        weights = present.T.to(tokens.dtype)
        return (weights.unsqueeze(-1) * tokens).sum(1) / weights.sum(1, keepdim=True)
