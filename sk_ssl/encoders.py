"""Encoders and heads as plain torch modules, one home for all of them.

Every encoder takes ``(input_shape, out_features, **kwargs)`` and maps a batch of
shape ``(N, *input_shape)`` to ``(N, out_features)``. A user-defined
``nn.Module`` class with the same constructor signature can be passed to any
sk_ssl estimator as ``encoder=MyEncoder``; a ready instance (e.g. a
pretrained backbone) as ``encoder=my_module``, see :func:`make_encoder`.
"""

import copy
import functools
import itertools
import math

import torch
from torch import nn

from ._vit import _VIT_NAMES, ViTEncoder

__all__ = [
    "MLPEncoder",
    "SmallCNNEncoder",
    "ResNet18Encoder",
    "ViTEncoder",
    "ProjectionHead",
    "ReconstructionHead",
    "make_encoder",
    "AttentionPooling",
    "MeanPooling",
    "MaxPooling",
    "SelfAttentionPooling",
    "DualStreamPooling",
]


class MLPEncoder(nn.Module):
    """Fully connected encoder for tabular rows (SCARF: 4 layers of 256, ReLU).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample; it is flattened.
    out_features : int, default=256
        Width of the last layer, the embedding dimension.
    hidden_dims : tuple of int, default=(256, 256, 256)
        Widths of the layers before the last one.
    """

    def __init__(self, input_shape, out_features=256, hidden_dims=(256, 256, 256)):
        super().__init__()
        dims = [math.prod(input_shape), *hidden_dims, out_features]
        layers = [nn.Flatten()]
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def _conv_bn_relu(c_in, c_out, stride=1):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class SmallCNNEncoder(nn.Module):
    """Small convolutional encoder for small images (up to about 32 x 32).

    Three 3x3 conv-BN-ReLU stages of ``width``, ``2 * width`` and ``4 * width``
    channels; stages halve the resolution while it is above 8 pixels. The feature
    map is average-pooled to at most 2 x 2 (keeping coarse layout, which matters
    for digits) and projected to ``out_features``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)``.
    out_features : int, default=256
        Embedding dimension.
    width : int, default=32
        Channels of the first stage.
    """

    def __init__(self, input_shape, out_features=256, width=32):
        super().__init__()
        channels, height, width_px = input_shape
        stages, c_in = [], channels
        for c_out in (width, 2 * width, 4 * width):
            stride = 2 if min(height, width_px) > 8 else 1
            stages.append(_conv_bn_relu(c_in, c_out, stride))
            height, width_px = -(-height // stride), -(-width_px // stride)
            c_in = c_out
        pooled = (min(height, 2), min(width_px, 2))
        self.features = nn.Sequential(*stages, nn.AdaptiveAvgPool2d(pooled), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(c_in * pooled[0] * pooled[1], out_features), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.head(self.features(x))


class _BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet18Encoder(nn.Module):
    """ResNet-18 with the CIFAR stem (3x3 conv, stride 1, no max-pool).

    The standard choice of SimCLR reproductions on 32 x 32 images (lightly,
    solo-learn). The 512 pooled features are projected to ``out_features`` by a
    linear layer unless ``out_features == 512``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)``.
    out_features : int, default=512
        Embedding dimension.
    """

    def __init__(self, input_shape, out_features=512):
        super().__init__()
        channels = input_shape[0]
        layers = [
            nn.Conv2d(channels, 64, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        ]
        c_in = 64
        for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [_BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out, 1)]
            c_in = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Identity() if out_features == 512 else nn.Linear(512, out_features)

    def forward(self, x):
        return self.head(self.features(x))


class ProjectionHead(nn.Module):
    """MLP head used only by the training objective (``Linear-ReLU-Linear``).

    Parameters
    ----------
    in_features : int
        Input width (the encoder's ``out_features``).
    hidden_features : int, default=256
        Width of the hidden layer.
    out_features : int, default=128
        Output width.
    """

    def __init__(self, in_features, hidden_features=256, out_features=128):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden_features),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_features, out_features),
        )

    def forward(self, x):
        return self.layers(x)


class ReconstructionHead(nn.Module):
    """Light decoder from an embedding back to a sample's shape.

    ``Linear-ReLU-Linear`` (tabular decoders and mask heads, as in VIME), or a
    single linear layer when ``hidden_features`` is None (SimMIM's one-layer
    prediction head, for images).

    Parameters
    ----------
    in_features : int
        Embedding width.
    output_shape : tuple of int
        Shape of one output sample, e.g. ``(n_features,)`` or ``(C, H, W)``.
    hidden_features : int or None, default=256
        Width of the hidden layer; None for a linear decoder.
    """

    def __init__(self, in_features, output_shape, hidden_features=256):
        super().__init__()
        self.output_shape = tuple(output_shape)
        out = math.prod(self.output_shape)
        if hidden_features is None:
            self.layers = nn.Linear(in_features, out)
        else:
            self.layers = nn.Sequential(
                nn.Linear(in_features, hidden_features), nn.ReLU(inplace=True), nn.Linear(hidden_features, out)
            )

    def forward(self, z):
        return self.layers(z).view(len(z), *self.output_shape)


class AttentionPooling(nn.Module):
    """Attention-based MIL pooling (Ilse, Tomczak, Welling, ICML 2018).

    ``a = softmax_i(w^T tanh(V h_i))``, or with ``gated=True``
    ``softmax_i(w^T (tanh(V h_i) * sigmoid(U h_i)))``; returns ``sum_i a_i h_i``.

    Parameters
    ----------
    in_features : int
        Width of the instance embeddings.
    hidden_features : int, default=128
        Width of the attention network (Ilse et al.'s L).
    gated : bool, default=False
        Use the gated variant.
    n_positions : int or None, default=None
        When set, a learned bias per position is added to the scores (for
        inputs whose positions mean something, e.g. views of a sample, unlike
        the instances of a bag).
    """

    def __init__(self, in_features, hidden_features=128, gated=False, n_positions=None):
        super().__init__()
        self.V = nn.Linear(in_features, hidden_features)
        self.U = nn.Linear(in_features, hidden_features) if gated else None
        self.w = nn.Linear(hidden_features, 1)
        self.position_bias = nn.Parameter(torch.zeros(n_positions)) if n_positions else None

    def forward(self, h, mask):
        # Scored on real instances only: padding costs no attention compute.
        real = h[mask]
        hidden = torch.tanh(self.V(real))
        if self.U is not None:
            hidden = hidden * torch.sigmoid(self.U(real))
        scores = torch.full(mask.shape, float("-inf"), device=h.device)
        scores[mask] = self.w(hidden).squeeze(-1).float()
        if self.position_bias is not None:
            scores = scores + self.position_bias.float()
        weights = torch.softmax(scores, dim=1)
        return torch.einsum("bl,bld->bd", weights.to(h.dtype), h), weights


class MeanPooling(nn.Module):
    """Mean of a bag's instance embeddings; every instance weighs ``1 / n_i``."""

    def forward(self, h, mask):
        weights = mask.float() / mask.sum(1, keepdim=True)
        return torch.einsum("bl,bld->bd", weights.to(h.dtype), h), weights


class MaxPooling(nn.Module):
    """Feature-wise max over a bag's instances.

    An instance's weight is the share of the ``D`` features at which it is the
    bag's maximum.
    """

    def forward(self, h, mask):
        masked = h.masked_fill(~mask[..., None], float("-inf"))
        pooled, argmax = masked.max(dim=1)
        counts = torch.zeros(mask.shape, dtype=torch.float32, device=h.device)
        counts.scatter_add_(1, argmax, torch.ones(argmax.shape, dtype=torch.float32, device=h.device))
        return pooled, counts / argmax.shape[1]


class SelfAttentionPooling(nn.Module):
    """Transformer pooling: a class token attends over the bag's instances (TransMIL spirit).

    A learned class token is prepended to the instance embeddings, then
    ``n_layers`` pre-norm transformer blocks (multi-head self-attention and an
    MLP, each with a residual) let every instance see every other one, so the
    bag vector can depend on *combinations* of instances (e.g. "A and B
    together"), which any weighted mean of per-instance values (mean or
    attention pooling followed by a linear head) cannot express. The pooled
    vector is the class token's final state. Padding is masked out of the
    keys, so it never changes the result. Unlike TransMIL (Shao et al.,
    NeurIPS 2021) there is no positional encoding (PPEG): the instances of a
    bag here have no spatial layout.

    The returned weights are the class token's attention over the instances in
    the last block, averaged over heads and renormalised to sum to one over
    the real instances.

    Parameters
    ----------
    in_features : int
        Width of the instance embeddings.
    n_heads : int, default=4
        Attention heads; must divide ``in_features``.
    n_layers : int, default=1
        Transformer blocks.
    dropout : float, default=0.0
        Dropout inside the blocks.
    """

    def __init__(self, in_features, n_heads=4, n_layers=1, dropout=0.0):
        super().__init__()
        if in_features % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide in_features={in_features}.")
        self.cls_token = nn.Parameter(torch.randn(1, 1, in_features) * 0.02)
        self.attn_norms = nn.ModuleList(nn.LayerNorm(in_features) for _ in range(n_layers))
        self.attentions = nn.ModuleList(
            nn.MultiheadAttention(in_features, n_heads, dropout=dropout, batch_first=True) for _ in range(n_layers)
        )
        self.mlp_norms = nn.ModuleList(nn.LayerNorm(in_features) for _ in range(n_layers))
        self.mlps = nn.ModuleList(
            nn.Sequential(
                nn.Linear(in_features, 2 * in_features), nn.GELU(), nn.Dropout(dropout),
                nn.Linear(2 * in_features, in_features),
            )
            for _ in range(n_layers)
        )  # fmt: skip
        self.norm = nn.LayerNorm(in_features)

    def forward(self, h, mask):
        batch = h.shape[0]
        # Padding rows are zeroed first: garbage there must not reach the real rows through the MLP/LayerNorm.
        x = torch.cat([self.cls_token.expand(batch, -1, -1).to(h.dtype), h * mask[..., None].to(h.dtype)], dim=1)
        keep = torch.cat([mask.new_ones(batch, 1), mask], dim=1)
        attn = None
        for norm, attention, mlp_norm, mlp in zip(self.attn_norms, self.attentions, self.mlp_norms, self.mlps):
            y = norm(x)
            out, attn = attention(y, y, y, key_padding_mask=~keep, need_weights=True, average_attn_weights=True)
            x = x + out
            x = x + mlp(mlp_norm(x))
        weights = attn[:, 0, 1:].float() * mask
        weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
        return self.norm(x[:, 0]), weights


class DualStreamPooling(nn.Module):
    """DSMIL's dual-stream pooling (Li, Li, Eliceiri, CVPR 2021); returns the bag *logits*.

    Stream 1, max-instance: an instance classifier scores every instance and
    the bag takes, per logit, its critical instance's score
    ``c_m = max_i W_0 h_i``. Stream 2, bag: every instance is weighted by the
    similarity of its query ``q_i`` to the critical instance's query,
    ``a_i = softmax_i(<q_i, q_m> / sqrt(d))``, and the bag score is a linear
    function of ``b = sum_i a_i v_i``. The output is the mean of the two
    streams' logits (DSMIL averages the two streams' losses; averaging the
    logits keeps one loss and one set of probabilities). Use it with an
    identity head: it already returns ``(B, n_logits)`` logits.

    Weights: the bag stream's attention ``a`` (averaged over logits when there
    are several); the critical instance is the one the task builds on.

    Parameters
    ----------
    in_features : int
        Width of the instance embeddings.
    n_logits : int, default=1
        Logits of the task (1 for a binary task); each has its own critical
        instance.
    query_features : int, default=128
        Width of the queries.
    """

    def __init__(self, in_features, n_logits=1, query_features=128):
        super().__init__()
        self.instance_classifier = nn.Linear(in_features, n_logits)
        self.query = nn.Sequential(nn.Linear(in_features, query_features), nn.ReLU(),
                                   nn.Linear(query_features, query_features), nn.Tanh())  # fmt: skip
        self.value = nn.Linear(in_features, in_features)
        # One bag-stream classifier per logit (DSMIL's Conv1d over the per-class bag vectors).
        self.bag_weight = nn.Parameter(torch.empty(n_logits, in_features))
        self.bag_bias = nn.Parameter(torch.zeros(n_logits))
        nn.init.kaiming_uniform_(self.bag_weight, a=math.sqrt(5))

    def forward(self, h, mask):
        scores = self.instance_classifier(h).float().masked_fill(~mask[..., None], float("-inf"))  # (B, L, K)
        max_logits, critical = scores.max(dim=1)  # (B, K)
        q = self.query(h)  # (B, L, Q)
        q_critical = torch.gather(q, 1, critical[..., None].expand(-1, -1, q.shape[-1]))  # (B, K, Q)
        similarity = torch.einsum("bkq,blq->bkl", q_critical, q).float() / math.sqrt(q.shape[-1])
        attention = torch.softmax(similarity.masked_fill(~mask[:, None, :], float("-inf")), dim=-1)  # (B, K, L)
        bag = torch.einsum("bkl,bld->bkd", attention.to(h.dtype), self.value(h))  # (B, K, D)
        bag_logits = (bag * self.bag_weight).sum(-1) + self.bag_bias
        return (max_logits + bag_logits.float()) / 2, attention.mean(1)


_ENCODERS = {
    "mlp": MLPEncoder,
    "cnn": SmallCNNEncoder,
    "resnet18": ResNet18Encoder,
    **{name: functools.partial(ViTEncoder, **spec) for name, spec in _VIT_NAMES.items()},
}


def make_encoder(encoder, input_shape, out_features, **kwargs):
    """Build an encoder from a name or a user class.

    Parameters
    ----------
    encoder : {"auto", "mlp", "cnn", "resnet18", "vit", "vit_tiny", "vit_mean", "vit_tiny_mean"}, nn.Module class or instance
        ``"auto"`` picks ``"mlp"`` for 1-D samples, ``"cnn"`` for images up to
        32 pixels a side (CIFAR size: on a CPU a ResNet-18 epoch
        is ~40x slower there, benchmarks/results/image_encoders.md) and
        ``"resnet18"`` above. The ``"vit*"`` names are :class:`ViTEncoder`
        sizes (``"vit"``: CPU-friendly, ``"vit_tiny"``: ViT-Tiny; ``_mean``:
        mean-pooled patch tokens instead of the CLS token). An instance (the user's own
        backbone, possibly pretrained) is deep-copied, never modified, and
        must map ``(N, *input_shape)`` to ``(N, out_features)``: a dry forward
        pass checks it.
    input_shape : tuple of int
        Shape of one sample: ``(n_features,)`` or ``(C, H, W)``.
    out_features : int
        Embedding dimension.
    **kwargs
        Passed to the encoder's constructor.

    Returns
    -------
    module : nn.Module
    """
    if isinstance(encoder, nn.Module):
        return _own_encoder(encoder, tuple(input_shape), out_features)
    if encoder == "auto":
        if len(input_shape) == 1:
            encoder = "mlp"
        else:
            encoder = "cnn" if max(input_shape[1:]) <= 32 else "resnet18"
    if isinstance(encoder, str):
        if encoder not in _ENCODERS:
            raise ValueError(f"Unknown encoder {encoder!r}; use one of {['auto', *_ENCODERS]} or an nn.Module class.")
        if encoder != "mlp" and len(input_shape) != 3:
            raise ValueError(
                f"encoder={encoder!r} needs images: pass image_shape=(C, H, W) or a 4-D array (n, C, H, W)."
            )
        encoder = _ENCODERS[encoder]
    return encoder(tuple(input_shape), out_features, **kwargs)


def _own_encoder(module, input_shape, out_features):
    """A deep copy of the user's ``module``, checked by a dry forward pass to map samples to ``out_features``.

    The copy is what trains, so the module passed in keeps its weights (and
    its BatchNorm statistics). The dry pass runs in eval mode without
    gradients on two zero samples, on the module's device.
    """
    encoder = copy.deepcopy(module)
    device = next(itertools.chain(encoder.parameters(), encoder.buffers()), torch.empty(0)).device
    was_training = encoder.training
    sample = torch.zeros((2, *input_shape), device=device)
    try:
        with torch.no_grad():
            out = encoder.eval()(sample)
    except Exception as exc:  # the user's code: any failure means it does not fit this input
        raise ValueError(
            f"encoder={type(module).__name__}(...) failed on a batch of shape {tuple(sample.shape)}, the shape of "
            f"its input here (N, *input_shape): {type(exc).__name__}: {exc}. The module must accept such batches "
            "(for MaskedAutoencoder on images, 2 * C channels: the image plus its mask indicator channels)."
        ) from exc
    encoder.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[1] != out_features:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        width = f" Pass n_components={out.shape[1]} (its output width)." if getattr(out, "ndim", 0) == 2 else (
            " It must return one embedding per sample, (N, D): end it with e.g. nn.Flatten() or a pooling layer."
        )
        raise ValueError(
            f"encoder={type(module).__name__}(...) maps a batch of shape {tuple(sample.shape)} to {shape}, but "
            f"the estimator expects (N, n_components) = (N, {out_features}).{width}"
        )
    return encoder
