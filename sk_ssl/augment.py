"""Batched augmentations in pure torch, one home for all of them.

Each augmentation is an ``nn.Module`` that takes a whole batch and draws its
randomness from torch's global generator, so that it runs on the same device as
the model (no per-sample Python loop, no host round trip) and is seeded by the
estimator's ``random_state``. They work on raw input values: image
augmentations here are invariant to the pixel scale (0..16 for digits, 0..255
for MNIST), so no [0, 1] convention is assumed.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._marginals import N_QUANTILES, _ColumnMarginals

__all__ = ["TabularCorruption", "ImageAugmentation", "MultiCrop", "MarginalMasking", "BlockMasking"]

# Luminance weights of R, G, B (ITU-R BT.601): grayscale, saturation jitter, colorization's input.
_LUMA = (0.299, 0.587, 0.114)


class TabularCorruption(nn.Module):
    """SCARF corruption: replace features by draws from their empirical marginal.

    For every row, exactly ``floor(corruption_rate * n_features)`` features are
    chosen uniformly at random and each is replaced by a draw from that
    feature's marginal distribution in the training rows. The rows themselves
    are not kept: only a fixed-size summary of each column (its distinct values
    and their frequencies when it has at most ``n_quantiles`` of them, else
    ``n_quantiles`` quantiles, interpolated linearly when drawing), so the
    module's size does not grow with the number of rows and no training row can
    be read back from it. "Missing" is a value like any other: a column with
    NaN in the training rows draws NaN with its share of NaN cells (the
    encoder then sees the cell as missing).

    Parameters
    ----------
    marginals : array-like or torch.Tensor of shape (n_rows, n_features)
        The training rows whose column marginals are summarized.
    corruption_rate : float, default=0.6
        Fraction of features replaced in every row.
    n_quantiles : int, default=128
        Values kept per column.
    """

    def __init__(self, marginals, corruption_rate=0.6, n_quantiles=N_QUANTILES):
        super().__init__()
        self.marginals = _ColumnMarginals(marginals, n_quantiles, keep_missing=True)
        self.corruption_rate = corruption_rate

    def forward(self, x):
        n_rows, n_features = x.shape
        n_corrupt = int(self.corruption_rate * n_features)
        if n_corrupt == 0:
            return x
        # Exactly n_corrupt features per row: the top-k of random keys is a
        # uniformly random subset of size k.
        keys = torch.rand(n_rows, n_features, device=x.device)
        chosen = keys.topk(n_corrupt, dim=1).indices
        mask = torch.zeros_like(x, dtype=torch.bool).scatter_(1, chosen, True)
        replacement = self.marginals.sample(n_rows, device=x.device, dtype=x.dtype)
        return torch.where(mask, replacement, x)


class ImageAugmentation(nn.Module):
    """SimCLR-style image augmentation on a batch of shape (N, C, H, W).

    Random resized crop (one ``grid_sample`` call for the whole batch), optional
    horizontal flip, brightness, contrast and (optionally) saturation jitter,
    optional grayscale (3-channel images only), optional Gaussian blur and
    optional solarization. Crops can be resized to another ``size`` (the local
    crops of :class:`MultiCrop`). Every knob off by default draws no random
    numbers, so the default views do not change when knobs are added.

    Parameters
    ----------
    crop_scale : tuple of float, default=(0.5, 1.0)
        Range of the crop's area as a fraction of the image. Small images need a
        larger lower bound than ImageNet's 0.08: an 8x8 digit cropped to 8 % of
        its area is no longer a digit.
    crop_ratio : tuple of float, default=(3/4, 4/3)
        Range of the crop's aspect ratio.
    flip_prob : float, default=0.0
        Probability of a horizontal flip. Off by default: digits and text are
        not mirror-symmetric.
    rotation : float, default=0.0
        Maximum rotation in degrees; each image is rotated by an angle drawn
        from ``[-rotation, rotation]`` (applied with the crop, one resampling).
    brightness : float, default=0.4
        Pixel values are multiplied by a factor drawn from
        ``[1 - brightness, 1 + brightness]``.
    contrast : float, default=0.4
        Deviations from the image mean are scaled by a factor drawn from
        ``[1 - contrast, 1 + contrast]``.
    jitter_prob : float, default=0.8
        Probability that brightness and contrast jitter is applied.
    grayscale_prob : float, default=0.2
        Probability of converting a 3-channel image to grayscale.
    blur_prob : float, default=0.0
        Probability of a Gaussian blur with sigma drawn from ``blur_sigma``
        (in pixels).
    blur_sigma : tuple of float, default=(0.1, 2.0)
        Range of the blur's standard deviation.
    saturation : float, default=0.0
        3-channel images: with the brightness and contrast jitter, each
        image's distance from its grayscale version is scaled by a factor
        drawn from ``[1 - saturation, 1 + saturation]`` (SimCLR's colour
        jitter uses ``0.8 * strength``, 0.4 at strength 0.5 as on CIFAR).
    solarize_prob : float, default=0.0
        Probability of solarizing an image: pixels above the midpoint of the
        image's own range are mirrored (``max + min - x``), torchvision's
        ``solarize`` at threshold 128 for 0..255 images whatever the pixel
        scale. BYOL and DINO use 0.2 on their second view.
    size : tuple of int (height, width) or None, default=None
        Output size of the crop; None keeps the input size. Smaller sizes
        make the local crops of :class:`MultiCrop`.

    Examples
    --------
    >>> import torch
    >>> from sk_ssl.augment import ImageAugmentation
    >>> augment = ImageAugmentation(crop_scale=(0.2, 1.0), flip_prob=0.5, saturation=0.4, solarize_prob=0.2)
    >>> augment(torch.rand(4, 3, 32, 32) * 255).shape
    torch.Size([4, 3, 32, 32])
    >>> ImageAugmentation(size=(16, 16))(torch.rand(4, 3, 32, 32)).shape
    torch.Size([4, 3, 16, 16])
    """

    def __init__(
        self,
        crop_scale=(0.5, 1.0),
        crop_ratio=(3 / 4, 4 / 3),
        flip_prob=0.0,
        rotation=0.0,
        brightness=0.4,
        contrast=0.4,
        jitter_prob=0.8,
        grayscale_prob=0.2,
        blur_prob=0.0,
        blur_sigma=(0.1, 2.0),
        saturation=0.0,
        solarize_prob=0.0,
        size=None,
    ):
        super().__init__()
        self.crop_scale = tuple(crop_scale)
        self.crop_ratio = tuple(crop_ratio)
        self.flip_prob = flip_prob
        self.rotation = rotation
        self.brightness = brightness
        self.contrast = contrast
        self.jitter_prob = jitter_prob
        self.grayscale_prob = grayscale_prob
        self.blur_prob = blur_prob
        self.blur_sigma = tuple(blur_sigma)
        self.saturation = saturation
        self.solarize_prob = solarize_prob
        self.size = tuple(size) if size is not None else None

    def _uniform(self, low, high, n, device):
        return torch.empty(n, device=device).uniform_(low, high)

    def _crop_and_flip(self, x):
        n = len(x)
        area = self._uniform(*self.crop_scale, n, x.device)
        log_ratio = self._uniform(math.log(self.crop_ratio[0]), math.log(self.crop_ratio[1]), n, x.device)
        ratio = log_ratio.exp()
        # Width and height of the crop as a fraction of the image side.
        width = (area * ratio).sqrt().clamp(max=1.0)
        height = (area / ratio).sqrt().clamp(max=1.0)
        # Crop centre in affine_grid's [-1, 1] coordinates, kept inside the image.
        centre_x = (torch.rand(n, device=x.device) * 2 - 1) * (1 - width)
        centre_y = (torch.rand(n, device=x.device) * 2 - 1) * (1 - height)
        flip = torch.where(torch.rand(n, device=x.device) < self.flip_prob, -1.0, 1.0)
        angle = self._uniform(-self.rotation, self.rotation, n, x.device) * (math.pi / 180)
        cos, sin = angle.cos(), angle.sin()
        # Output grid -> input coordinates: rotate, then scale to the crop
        # (flip mirrors x), then move to the crop centre.
        theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
        theta[:, 0, 0] = width * flip * cos
        theta[:, 0, 1] = -width * flip * sin
        theta[:, 0, 2] = centre_x
        theta[:, 1, 0] = height * sin
        theta[:, 1, 1] = height * cos
        theta[:, 1, 2] = centre_y
        shape = list(x.shape) if self.size is None else [*x.shape[:2], *self.size]
        grid = F.affine_grid(theta, shape, align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    def _jitter(self, x):
        n = len(x)
        applied = (torch.rand(n, 1, 1, 1, device=x.device) < self.jitter_prob).to(x.dtype)
        bright = self._uniform(1 - self.brightness, 1 + self.brightness, n, x.device).view(n, 1, 1, 1)
        contrast = self._uniform(1 - self.contrast, 1 + self.contrast, n, x.device).view(n, 1, 1, 1)
        jittered = x * bright
        mean = jittered.mean(dim=(1, 2, 3), keepdim=True)
        jittered = (jittered - mean) * contrast + mean
        if self.saturation > 0 and x.shape[1] == 3:
            saturation = self._uniform(1 - self.saturation, 1 + self.saturation, n, x.device).view(n, 1, 1, 1)
            gray = self._gray(jittered)
            jittered = (jittered - gray) * saturation + gray
        return applied * jittered + (1 - applied) * x

    def _gray(self, x):
        weights = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)

    def _solarize(self, x):
        if self.solarize_prob <= 0:
            return x
        low = x.amin(dim=(1, 2, 3), keepdim=True)
        high = x.amax(dim=(1, 2, 3), keepdim=True)
        applied = torch.rand(len(x), 1, 1, 1, device=x.device) < self.solarize_prob
        return torch.where(applied & (x >= (low + high) / 2), low + high - x, x)

    def _grayscale(self, x):
        if x.shape[1] != 3 or self.grayscale_prob <= 0:
            return x
        gray = self._gray(x).expand_as(x)
        applied = torch.rand(len(x), 1, 1, 1, device=x.device) < self.grayscale_prob
        return torch.where(applied, gray, x)

    def _blur(self, x):
        if self.blur_prob <= 0:
            return x
        n, c, h, w = x.shape
        radius = max(1, int(0.05 * min(h, w)))
        offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
        sigma = self._uniform(*self.blur_sigma, n, x.device)
        # A sample that is not blurred gets a near-delta kernel.
        sigma = torch.where(torch.rand(n, device=x.device) < self.blur_prob, sigma, 1e-3)
        kernel = torch.exp(-0.5 * (offsets[None, :] / sigma[:, None]) ** 2)
        kernel = kernel / kernel.sum(dim=1, keepdim=True)
        kernel = kernel.repeat_interleave(c, dim=0)  # one kernel per (sample, channel)
        flat = x.reshape(1, n * c, h, w)
        flat = F.pad(flat, (radius, radius, radius, radius), mode="reflect" if min(h, w) > radius else "replicate")
        flat = F.conv2d(flat, kernel.view(n * c, 1, -1, 1), groups=n * c)
        flat = F.conv2d(flat, kernel.view(n * c, 1, 1, -1), groups=n * c)
        return flat.view(n, c, h, w)

    def forward(self, x):
        x = self._crop_and_flip(x)
        x = self._jitter(x)
        x = self._grayscale(x)
        return self._solarize(self._blur(x))


class MultiCrop(nn.Module):
    """Multi-crop views (Caron et al., 2020): two global views plus ``n_local`` small local crops.

    The two global views may differ (the asymmetric views of BYOL and DINO:
    blur always on the first, rarely on the second, solarization on the
    second only); the local crops cover a small part of the image at a lower
    resolution, which is cheap and teaches local-to-global correspondence.
    Pass it as the ``augmentation`` of a ContrastiveEmbedder: DINO trains on
    every crop; the other objectives use the two global views only.

    Parameters
    ----------
    global_views : ImageAugmentation or sequence of two ImageAugmentation
        The augmentation of the two global views (one for both, or one each).
    local_view : ImageAugmentation or None, default=None
        The augmentation of the local crops; set its ``size`` (e.g. (16, 16)
        for 32 x 32 images, DINO's 96 px for 224 px) and a small
        ``crop_scale`` (DINO: (0.05, 0.4), with (0.4, 1.0) for the global
        views).
    n_local : int, default=0
        Number of local crops per image (DINO: 6 or 10).

    Examples
    --------
    >>> import torch
    >>> from sk_ssl.augment import ImageAugmentation, MultiCrop
    >>> crops = MultiCrop(
    ...     [ImageAugmentation(crop_scale=(0.4, 1.0), blur_prob=1.0),
    ...      ImageAugmentation(crop_scale=(0.4, 1.0), blur_prob=0.1, solarize_prob=0.2)],
    ...     local_view=ImageAugmentation(crop_scale=(0.05, 0.4), size=(16, 16)), n_local=4)
    >>> [tuple(view.shape) for view in crops(torch.rand(8, 3, 32, 32))][1:3]
    [(8, 3, 32, 32), (8, 3, 16, 16)]
    """

    def __init__(self, global_views, local_view=None, n_local=0):
        super().__init__()
        if isinstance(global_views, nn.Module):
            global_views = [global_views, global_views]
        if len(global_views) != 2:
            raise ValueError(f"MultiCrop takes one or two global view augmentations, got {len(global_views)}.")
        if n_local > 0 and local_view is None:
            raise ValueError(f"MultiCrop(n_local={n_local}) needs a local_view augmentation (e.g. "
                             "ImageAugmentation(crop_scale=(0.05, 0.4), size=(16, 16))).")  # fmt: skip
        self.global_views = nn.ModuleList(global_views)
        self.local_view = local_view
        self.n_local = n_local

    def global_pair(self, x):
        """The two global views of a batch ``(N, C, H, W)``."""
        return [augment(x) for augment in self.global_views]

    def forward(self, x):
        """``[global_1, global_2, local_1, ..., local_k]``, each ``(N, C, h, w)``."""
        return self.global_pair(x) + [self.local_view(x) for _ in range(self.n_local)]


class MarginalMasking(nn.Module):
    """VIME masking: mask each cell at random, fill it from the column's marginal.

    Every cell is masked independently with probability ``mask_ratio`` and its
    value replaced by a draw from that column's marginal distribution in the
    training rows (NaN training values are never drawn). As in
    :class:`TabularCorruption`, only a fixed-size summary of each column is
    kept, never the rows. Cells that are NaN in the input count as masked and
    are always replaced, so a row with holes becomes an ordinary corrupted row.

    Parameters
    ----------
    marginals : array-like or torch.Tensor of shape (n_rows, n_features)
        The training rows whose column marginals are summarized; may hold NaN
        but no column may be entirely NaN.
    mask_ratio : float, default=0.3
        Probability that a cell is masked.
    n_quantiles : int, default=128
        Values kept per column.

    Notes
    -----
    ``forward(x)`` returns ``(corrupted, mask)``: the corrupted batch (no NaN)
    and the boolean mask of replaced cells (masked or missing).
    """

    def __init__(self, marginals, mask_ratio=0.3, n_quantiles=N_QUANTILES):
        super().__init__()
        self.marginals = _ColumnMarginals(marginals, n_quantiles)
        self.mask_ratio = mask_ratio

    def forward(self, x):
        n_rows, n_features = x.shape
        mask = (torch.rand(n_rows, n_features, device=x.device) < self.mask_ratio) | torch.isnan(x)
        replacement = self.marginals.sample(n_rows, device=x.device, dtype=x.dtype)
        return torch.where(mask, replacement, x), mask


class BlockMasking(nn.Module):
    """SimMIM masking: hide random square blocks of every image.

    The image is tiled by ``block_size`` x ``block_size`` blocks and exactly
    ``round(mask_ratio * n_blocks)`` of them (at least one) are masked in
    every image, in all channels.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    mask_ratio : float, default=0.6
        Share of blocks masked.
    block_size : int or None, default=None
        Side of a block in pixels; None uses about a quarter of the image's
        shorter side (2 for 8 x 8 digits, 7 for 28 x 28 MNIST, 1 for images
        of a single row).

    Notes
    -----
    ``forward(n, device)`` returns a boolean mask of shape ``(n, 1, H, W)``.
    """

    def __init__(self, image_shape, mask_ratio=0.6, block_size=None):
        super().__init__()
        _, height, width = image_shape
        self.image_shape = tuple(image_shape)
        self.block_size = block_size if block_size is not None else max(1, round(min(height, width) / 4))
        self.grid = (math.ceil(height / self.block_size), math.ceil(width / self.block_size))
        n_blocks = self.grid[0] * self.grid[1]
        self.n_masked = min(n_blocks, max(1, round(mask_ratio * n_blocks)))
        self.mask_ratio = mask_ratio

    def forward(self, n, device=None):
        _, height, width = self.image_shape
        n_blocks = self.grid[0] * self.grid[1]
        # Exactly n_masked blocks per image: top-k of random keys.
        chosen = torch.rand(n, n_blocks, device=device).topk(self.n_masked, dim=1).indices
        blocks = torch.zeros(n, n_blocks, dtype=torch.bool, device=device).scatter_(1, chosen, True)
        blocks = blocks.view(n, 1, *self.grid)
        pixels = blocks.repeat_interleave(self.block_size, 2).repeat_interleave(self.block_size, 3)
        return pixels[:, :, :height, :width]
