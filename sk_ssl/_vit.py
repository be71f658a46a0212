"""A small Vision Transformer (ViT, Dosovitskiy et al., 2021) for the image estimators.

Patch embedding by a strided convolution, a CLS token, fixed 2-D sin-cos or
learned position embeddings, pre-norm transformer blocks on
``torch.nn.functional.scaled_dot_product_attention``. The token-level entry
points (:meth:`ViTEncoder.patch_tokens`, :meth:`ViTEncoder.encode_tokens`)
serve the masked image modelling objectives: MAE drops tokens before the
encoder, SimMIM replaces them by a mask token.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

# Named sizes: (width, depth, heads). "vit" is the CPU-friendly default; "vit_tiny" is ViT-Tiny (DeiT-Ti).
_VIT_SIZES = {"vit": (128, 4, 4), "vit_tiny": (192, 12, 3)}
# Estimator-level names: every size with CLS pooling, and with mean pooling ("_mean").
_VIT_NAMES = {
    **{name: dict(dim=d, depth=n, n_heads=h, pool="cls") for name, (d, n, h) in _VIT_SIZES.items()},
    **{f"{name}_mean": dict(dim=d, depth=n, n_heads=h, pool="mean") for name, (d, n, h) in _VIT_SIZES.items()},
}


def _auto_patch_size(height, width):
    """About an eighth of the shorter side (at least 2, at most 16), among the sizes dividing both sides.

    8 x 8 digits get 2 (16 tokens), 28 x 28 MNIST 4 (49), 32 x 32 CIFAR 4 (64),
    224 x 224 16 (196). Sides with no common divisor but 1 get 1 (a token per pixel).
    """
    target = min(16, max(2, min(height, width) // 8))
    return min(_common_divisors(height, width), key=lambda p: (abs(p - target), -p))


def _common_divisors(height, width):
    """The patch sizes that tile a ``height`` x ``width`` image, ascending."""
    gcd = math.gcd(height, width)
    return [p for p in range(1, gcd + 1) if gcd % p == 0]


def _sincos_2d(dim, grid_h, grid_w):
    """Fixed 2-D sin-cos position embeddings (MAE's), ``(grid_h * grid_w, dim)``; ``dim`` a multiple of 4."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    ys, xs = torch.meshgrid(torch.arange(grid_h, dtype=torch.float64), torch.arange(grid_w, dtype=torch.float64),
                            indexing="ij")  # fmt: skip
    out_y, out_x = ys.reshape(-1, 1) * omega, xs.reshape(-1, 1) * omega
    return torch.cat([out_y.sin(), out_y.cos(), out_x.sin(), out_x.cos()], dim=1).float()


class _Attention(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, length, dim = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, self.n_heads, dim // self.n_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(n, length, dim))


class _Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``."""

    def __init__(self, dim, n_heads, mlp_ratio=4.0):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _Attention(dim, n_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _Transformer(nn.Module):
    """``depth`` blocks and a final LayerNorm; the encoder of the ViT and the decoder of MAE."""

    def __init__(self, dim, depth, n_heads, mlp_ratio=4.0):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide the width dim={dim}.")
        self.blocks = nn.ModuleList(_Block(dim, n_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.apply(_init_weights)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


def _init_weights(module):
    # MAE's initialisation: Xavier-uniform linear layers, zero biases, unit LayerNorms.
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class ViTEncoder(nn.Module):
    """Vision Transformer encoder for images: patches, a CLS token, pre-norm blocks.

    The image is cut into ``patch_size`` x ``patch_size`` patches, each
    linearly embedded (a strided convolution) to ``dim`` features, plus a
    position embedding; a learned CLS token is prepended and ``depth``
    pre-norm transformer blocks (multi-head self-attention through
    ``torch.nn.functional.scaled_dot_product_attention``, a GELU MLP) process
    the sequence; a final LayerNorm follows. The output is the CLS token
    (``pool="cls"``) or the mean of the patch tokens (``pool="mean"``),
    projected linearly to ``out_features`` unless that equals ``dim``.

    By name on the image estimators: ``encoder="vit"`` (width 128, depth 4,
    4 heads: a CPU-friendly size) and ``"vit_tiny"`` (ViT-Tiny: 192, 12, 3),
    CLS-pooled; ``"vit_mean"`` and ``"vit_tiny_mean"`` are the same with
    mean pooling. The patch size is then ``"auto"``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)``.
    out_features : int, default=128
        Embedding dimension (``transform``'s width).
    patch_size : int or "auto", default="auto"
        Side of a patch in pixels; it must divide both image sides.
        ``"auto"``: about an eighth of the shorter side, at least 2 and at
        most 16 (2 for 8 x 8 digits, 4 for 32 x 32 CIFAR-10, 16 for 224 x 224).
    dim : int, default=128
        Token width.
    depth : int, default=4
        Transformer blocks.
    n_heads : int, default=4
        Attention heads; must divide ``dim``.
    mlp_ratio : float, default=4.0
        Hidden width of the blocks' MLP, as a multiple of ``dim``.
    position : {"sincos", "learned"}, default="sincos"
        Fixed 2-D sin-cos position embeddings (MAE's choice; ``dim`` must be
        a multiple of 4) or learned ones.
    pool : {"cls", "mean"}, default="cls"
        The embedding: the final CLS token, or the mean of the final patch
        tokens.

    Examples
    --------
    >>> import torch
    >>> from sk_ssl.encoders import ViTEncoder
    >>> vit = ViTEncoder((3, 32, 32), 64, dim=32, depth=2, n_heads=2)
    >>> vit.patch_size, vit.n_patches
    (4, 64)
    >>> vit(torch.zeros(5, 3, 32, 32)).shape
    torch.Size([5, 64])
    """

    def __init__(self, input_shape, out_features=128, *, patch_size="auto", dim=128, depth=4, n_heads=4,
                 mlp_ratio=4.0, position="sincos", pool="cls"):  # fmt: skip
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"ViTEncoder needs images (C, H, W); got input_shape={tuple(input_shape)}.")
        channels, height, width = input_shape
        if patch_size == "auto":
            patch_size = _auto_patch_size(height, width)
        if not isinstance(patch_size, int) or patch_size < 1 or height % patch_size or width % patch_size:
            raise ValueError(
                f"patch_size={patch_size!r} does not divide the {height} x {width} image: patches must tile it. "
                f"Use one of {_common_divisors(height, width)} or 'auto'."
            )
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool={pool!r}; use 'cls' (the CLS token) or 'mean' (mean of the patch tokens).")
        if position not in ("sincos", "learned"):
            raise ValueError(f"position={position!r}; use 'sincos' (fixed) or 'learned'.")
        if position == "sincos" and dim % 4:
            raise ValueError(f"position='sincos' needs dim divisible by 4; got dim={dim}. Use position='learned'.")
        self.input_shape = tuple(input_shape)
        self.patch_size, self.dim, self.pool = patch_size, dim, pool
        self.grid = (height // patch_size, width // patch_size)
        self.n_patches = self.grid[0] * self.grid[1]
        self.patch_embed = nn.Conv2d(channels, dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        if position == "sincos":
            self.register_buffer("pos_embed", _sincos_2d(dim, *self.grid)[None])
        else:
            self.pos_embed = nn.Parameter(torch.randn(1, self.n_patches, dim) * 0.02)
        self.transformer = _Transformer(dim, depth, n_heads, mlp_ratio)
        self.head = nn.Identity() if out_features == dim else nn.Linear(dim, out_features)
        # MAE's initialisation: the patch projection like a linear layer, small normal CLS token.
        nn.init.xavier_uniform_(self.patch_embed.weight.view(dim, -1))
        nn.init.zeros_(self.patch_embed.bias)
        nn.init.normal_(self.cls_token, std=0.02)

    def patchify(self, images):
        """``(N, C, H, W)`` -> ``(N, L, p * p * C)``: the pixels of each patch, row-major over the grid."""
        n, channels = images.shape[:2]
        p, (gh, gw) = self.patch_size, self.grid
        x = images.reshape(n, channels, gh, p, gw, p)
        return x.permute(0, 2, 4, 3, 5, 1).reshape(n, gh * gw, p * p * channels)

    def unpatchify(self, patches):
        """Inverse of :meth:`patchify`: ``(N, L, p * p * C)`` -> ``(N, C, H, W)``."""
        n, channels = patches.shape[0], self.input_shape[0]
        p, (gh, gw) = self.patch_size, self.grid
        x = patches.reshape(n, gh, gw, p, p, channels).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(n, channels, gh * p, gw * p)

    def patch_tokens(self, images, mask=None, mask_token=None):
        """Embedded patches plus position embeddings, ``(N, L, dim)``, without the CLS token.

        With ``mask`` (``(N, L)`` bool) the embeddings of the masked patches
        are replaced by ``mask_token`` (``(1, 1, dim)``) before the position
        embeddings are added (SimMIM).
        """
        tokens = self.patch_embed(images).flatten(2).transpose(1, 2)
        if mask is not None:
            tokens = torch.where(mask[..., None], mask_token.to(tokens.dtype), tokens)
        return tokens + self.pos_embed.to(images.dtype)

    def encode_tokens(self, tokens):
        """Run the transformer on ``(N, L', dim)`` patch tokens (any subset); ``(N, 1 + L', dim)``, CLS first."""
        cls = self.cls_token.expand(len(tokens), -1, -1).to(tokens.dtype)
        return self.transformer(torch.cat([cls, tokens], dim=1))

    def pooled(self, hidden):
        """The embedding of ``encode_tokens``' output: CLS token or mean patch token, through the head."""
        return self.head(hidden[:, 0] if self.pool == "cls" else hidden[:, 1:].mean(1))

    def forward(self, x):
        return self.pooled(self.encode_tokens(self.patch_tokens(x)))


def _is_vit(encoder):
    """Whether an estimator's ``encoder`` parameter is a ViT (a name, the class or a subclass, an instance)."""
    if isinstance(encoder, str):
        return encoder in _VIT_NAMES
    return isinstance(encoder, ViTEncoder) or (isinstance(encoder, type) and issubclass(encoder, ViTEncoder))
