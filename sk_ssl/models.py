"""Self-supervised models: an encoder plus the parts its objective needs.

A model's ``encode(x)`` maps raw rows (``(N, n_features)`` float32, images
flattened) to embeddings and is what ``transform`` uses. Its ``forward(x)``
returns the objective's **named outputs** (a dict of tensors with documented
shapes, see :mod:`sk_ssl.objectives`) that the criterion reads by name, and is
what training uses. A model that needs work after each optimizer step (e.g. a
momentum target) defines ``after_step()``; the engine calls it. Input standardization lives inside the model as buffers, so
a fitted model is self-contained and augmentations see raw values.
"""

import copy

import torch
from torch import nn

from . import _fusion
from ._ragged import _pool, _Segments
from .augment import MultiCrop
from .encoders import AttentionPooling

__all__ = ["SSLModel", "ContrastiveModel", "MaskedModel", "ViewFusion", "MultiViewModel", "MILModel", "FineTuneModel"]


class SSLModel(nn.Module):
    """Encoder behind a fixed standardization and reshape.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(N, *input_shape)`` to ``(N, D)``.
    input_shape : tuple of int
        ``(n_features,)`` or ``(C, H, W)``.
    mean, scale : array-like of shape (n_features,)
        Standardization statistics of the training data (flattened).
    """

    def __init__(self, encoder, input_shape, mean, scale):
        super().__init__()
        self.encoder = encoder
        self.input_shape = tuple(input_shape)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).view(1, *self.input_shape))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).view(1, *self.input_shape))

    def as_input(self, x):
        """Reshape flat rows to ``(N, *input_shape)``."""
        return x.view(len(x), *self.input_shape)

    def standardize(self, x):
        """Standardize a batch shaped ``(N, *input_shape)``.

        Tabular NaN cells become 0 (the training mean), unless the encoder
        reads them itself (missing indicators, see ``sk_ssl._tabular``).
        """
        x = (x - self.mean) / self.scale
        if len(self.input_shape) == 1 and not getattr(self.encoder, "reads_nan", False):
            x = torch.where(torch.isnan(x), torch.zeros_like(x), x)
        return x

    def encode(self, x):
        """Embed raw flat rows."""
        return self.encoder(self.standardize(self.as_input(x)))

    def export(self):
        """A float32 copy that keeps only what ``encode`` uses (see :meth:`FineTuneModel.strip`)."""
        return FineTuneModel.strip(copy.deepcopy(self).float())


class ContrastiveModel(SSLModel):
    """Two views through one encoder and projection head.

    Parameters
    ----------
    encoder, input_shape, mean, scale
        See :class:`SSLModel`.
    projection_head : nn.Module
        Used by the loss only; ``encode`` skips it.
    augmentation : nn.Module
        Draws a random view of a batch shaped ``(N, *input_shape)``.
    clean_anchor : bool
        True for SCARF (the clean row against one corrupted view), False for
        SimCLR (two augmented views).
    """

    def __init__(self, encoder, input_shape, mean, scale, projection_head, augmentation, clean_anchor):
        super().__init__(encoder, input_shape, mean, scale)
        self.projection_head = projection_head
        self.augmentation = augmentation
        self.clean_anchor = clean_anchor

    def views(self, x):
        """Both standardized views of raw flat rows, stacked: ``(2N, *input_shape)``."""
        x = self.as_input(x)
        if isinstance(self.augmentation, MultiCrop):  # its two global views; only DINO reads the local crops
            view_a, view_b = self.augmentation.global_pair(x)
        else:
            view_a = x if self.clean_anchor else self.augmentation(x)
            view_b = self.augmentation(x)
        return self.standardize(torch.cat([view_a, view_b]))

    def forward(self, x):
        """``{"view_a": (N, P), "view_b": (N, P)}``: the projected views; row i of each is sample i."""
        # One encoder pass over both views: a bigger batch is faster.
        both = self.projection_head(self.encoder(self.views(x)))
        return {"view_a": both[: len(x)], "view_b": both[len(x) :]}


class MaskedModel(SSLModel):
    """Masked modelling: encode a masked sample, decode the original.

    Cells that are NaN in the input are treated as masked: they are filled at
    the input and have no reconstruction target.

    * Tabular rows (VIME): ``masking`` replaces cells by draws from their
      column's marginal; a decoder reconstructs the standardized row and a mask
      head predicts which cells were replaced. ``forward`` returns the named
      outputs ``reconstruction``, ``mask_logits``, ``target``, ``mask`` and
      ``observed`` (each ``(N, n_features)``) for
      :class:`~sk_ssl.losses.MaskReconstructionLoss`. At inference missing
      cells are filled with the training mean.
    * Images (SimMIM): ``masking`` draws random blocks; masked and missing
      pixels are replaced by a learned per-channel mask value and a
      mask-indicator channel per image channel is appended, so the encoder
      sees ``2 * C`` channels. ``forward`` returns the named outputs
      ``reconstruction``, ``target`` and ``loss_mask`` (each ``(N, C, H, W)``)
      for :class:`~sk_ssl.losses.MaskedL1Loss`.

    Parameters
    ----------
    encoder, input_shape, mean, scale
        See :class:`SSLModel`. For images the encoder takes ``2 * C``
        channels.
    decoder : nn.Module
        Maps embeddings to ``(N, *input_shape)`` standardized values.
    masking : nn.Module
        :class:`~sk_ssl.augment.MarginalMasking` (tabular) or
        :class:`~sk_ssl.augment.BlockMasking` (images).
    mask_head : nn.Module or None, default=None
        Tabular only: maps embeddings to ``(N, n_features)`` mask logits.
    """

    def __init__(self, encoder, input_shape, mean, scale, decoder, masking, mask_head=None):
        super().__init__(encoder, input_shape, mean, scale)
        self.decoder = decoder
        self.masking = masking
        self.mask_head = mask_head
        self.is_image = len(self.input_shape) == 3
        if self.is_image:
            self.mask_token = nn.Parameter(torch.zeros(1, self.input_shape[0], 1, 1))

    def standardize(self, x):
        """Standardize a batch shaped ``(N, *input_shape)``; NaN becomes 0, the training mean."""
        x = (x - self.mean) / self.scale
        return torch.where(torch.isnan(x), torch.zeros_like(x), x)

    def _image_input(self, x, hidden):
        """Standardized images with ``hidden`` pixels set to the mask value, plus the indicator channels."""
        filled = torch.where(hidden, self.mask_token.to(x.dtype), x)
        return torch.cat([filled, hidden.to(x.dtype).expand_as(x)], dim=1)

    def encode(self, x):
        """Embed raw flat rows; NaN cells are treated as masked."""
        x = self.as_input(x)
        if self.is_image:
            return self.encoder(self._image_input(self.standardize(x), torch.isnan(x)))
        return self.encoder(self.standardize(x))

    def decode(self, z):
        """Map embeddings to flat rows in input units."""
        return (self.decoder(z) * self.scale + self.mean).flatten(1)

    def forward(self, x):
        x = self.as_input(x)
        observed = ~torch.isnan(x)
        target = self.standardize(x)  # missing cells are 0 here and excluded below
        if self.is_image:
            hidden = self.masking(len(x), x.device) | ~observed
            reconstruction = self.decoder(self.encoder(self._image_input(target, hidden)))
            return {"reconstruction": reconstruction, "target": target, "loss_mask": hidden & observed}
        corrupted, mask = self.masking(x)
        z = self.encoder(self.standardize(corrupted))
        return {
            "reconstruction": self.decoder(z),
            "mask_logits": self.mask_head(z),
            "target": target,
            "mask": mask,
            "observed": observed,
        }


class ViewFusion(nn.Module):
    """Fuse per-view embeddings of shape (V, N, D), skipping missing views.

    Parameters
    ----------
    fusion : {"concat", "mean", "attention", "weighted", "transformer"}
        ``"concat"``: the V embeddings side by side, (N, V * D); a missing
        view's block is filled with the mean of the sample's present views
        (the views are trained into one shared space, so that is the best
        guess of it). ``"mean"``: the mean over present views, (N, D).
        ``"attention"``: a weighted mean over present views, (N, D), with
        weights from a masked softmax over learned scores: the gated
        attention pooling of MIL (:class:`~sk_ssl.encoders.AttentionPooling`)
        over the views, plus a learned bias per view. ``"weighted"``: a
        weighted mean, (N, D), with one learned weight per view (a softmax
        over learned scalars, renormalised over the present views).
        ``"transformer"``: self-attention across the view tokens, then their
        mean, (N, D). Both: :mod:`sk_ssl._fusion`.
    n_views : int
        Number of views V.
    dim : int
        Embedding width D.
    hidden : int, default=64
        Width of the attention scorer (``"attention"`` only).
    """

    def __init__(self, fusion, n_views, dim, hidden=64):
        super().__init__()
        self.fusion = fusion
        self.attention = AttentionPooling(dim, hidden, gated=True, n_positions=n_views) if fusion == "attention" else None
        self.learned = _fusion.make_fusion(fusion, n_views, dim) if fusion in _fusion.LEARNED else None

    def weights(self, h, present):
        """Fusion weights (V, N): masked attention or learned weights, else uniform over present views."""
        if self.attention is not None:
            # AttentionPooling pools over dim 1: the views of each sample are its "bag".
            return self.attention(h.transpose(0, 1), present.T)[1].T.to(h.dtype)
        if self.fusion == "weighted":
            return self.learned.weights(present, h.dtype)
        return _fusion.masked_softmax(torch.zeros(present.shape, dtype=h.dtype, device=h.device), present)

    def forward(self, h, present):
        if self.fusion == "transformer":
            return self.learned(h, present)
        if self.fusion == "concat":
            mean = (self.weights(h, present).unsqueeze(-1) * h).sum(0)
            h = torch.where(present.unsqueeze(-1), h, mean.unsqueeze(0))
            return h.permute(1, 0, 2).reshape(h.shape[1], -1)
        return (self.weights(h, present).unsqueeze(-1) * h).sum(0)


class MultiViewModel(nn.Module):
    """One encoder per view, a shared projection head and a fusion.

    Takes flat rows of the whole X and slices each view's columns itself. A
    view is missing in a row when all its columns are NaN; missing views are
    encoded from the training mean and masked out of the loss and the fusion.

    Parameters
    ----------
    views : list of SSLModel
        One standardizing encoder per view, each with output width D.
    columns : list of array-like of int
        The columns of X each view reads, in the order of ``views``.
    fusion : ViewFusion
        Combines the view embeddings for ``encode``.
    projection_head : nn.Module
        Shared by all views: maps the embeddings to the loss's space. Sharing
        it keeps the views' embeddings comparable, which mean fusion and the
        filling of missing views rely on.
    augmentations : list of nn.Module or None
        Optional within-view augmentation (raw units, shaped like the view's
        ``input_shape``), one per view; None entries leave a view as is.
    fused_loss : bool, default=False
        Also return the projected fused embedding, so that the criterion
        contrasts each view with it (trains the attention weights).
    """

    def __init__(self, views, columns, fusion, projection_head, augmentations=None, fused_loss=False):
        super().__init__()
        self.views = nn.ModuleList(views)
        for i, cols in enumerate(columns):
            self.register_buffer(f"columns_{i}", torch.as_tensor(cols, dtype=torch.long))
        self.fusion = fusion
        self.projection_head = projection_head
        self.augmentations = nn.ModuleList(
            [aug if aug is not None else nn.Identity() for aug in (augmentations or [None] * len(views))]
        )
        self.fused_loss = fused_loss

    def split(self, x):
        """Per-view raw inputs ``(N, *input_shape)`` and a presence mask (V, N)."""
        inputs, present = [], []
        for i, view in enumerate(self.views):
            xv = x[:, getattr(self, f"columns_{i}")]
            present.append(~torch.isnan(xv).all(dim=1))
            inputs.append(view.as_input(xv))
        return inputs, torch.stack(present)

    def _encode_inputs(self, inputs):
        # A missing view (all NaN) enters its encoder at the training mean
        # (0 after standardization); its output is masked downstream.
        # A table view's encoder with missing indicators reads its NaN cells itself.
        return torch.stack(
            [
                view.encoder(view.standardize(xv) if getattr(view.encoder, "reads_nan", False) else
                             torch.nan_to_num(view.standardize(xv), nan=0.0))
                for view, xv in zip(self.views, inputs)
            ]
        )  # fmt: skip

    def encode_views(self, x):
        """Per-view embeddings (V, N, D) and the presence mask (V, N)."""
        inputs, present = self.split(x)
        return self._encode_inputs(inputs), present

    def encode(self, x):
        """The fused embedding of raw flat rows."""
        return self.fusion(*self.encode_views(x))

    def forward(self, x):
        inputs, present = self.split(x)
        inputs = [aug(xv) for aug, xv in zip(self.augmentations, inputs)]
        h = self._encode_inputs(inputs)
        out = {"views": self.projection_head(h), "present": present}
        if self.fused_loss:
            out["fused"] = self.projection_head(self.fusion(h, present))
        return out


class MILModel(SSLModel):
    """Multiple-instance, multi-task classifier over packed batches of bags.

    A batch is the instances of its bags, bag after bag, ``(N, ...)``, with
    ``lengths`` ``(B,)`` (see :mod:`sk_ssl._ragged`). A shared instance
    encoder embeds every instance once; then each task has its own pooling
    and head. Attention and mean pooling reduce per bag with segment
    operations; other poolings see the batch padded to its longest bag and
    masked. With ``instance_level=True`` a task's head scores every instance
    and the pooling (a :class:`~sk_ssl.encoders.MaxPooling`) takes the bag's
    maximum score (mi-Net style), so a bag is positive only through an
    instance that is.

    Parameters
    ----------
    encoder, input_shape, mean, scale
        See :class:`SSLModel`; the encoder maps instances to ``(N, D)``.
    poolings : list of nn.Module
        One pooling per task, see :mod:`sk_ssl.encoders`.
    heads : list of nn.Module
        One head per task, ``(N, D) -> (N, n_logits_j)``.
    instance_level : bool, default=False
        Apply each head to instances before pooling (see above).
    dropout : float, default=0.0
        Dropout on the instance embeddings during training.
    """

    def __init__(self, encoder, input_shape, mean, scale, poolings, heads, instance_level=False, dropout=0.0):
        super().__init__(encoder, input_shape, mean, scale)
        self.poolings = nn.ModuleList(poolings)
        self.heads = nn.ModuleList(heads)
        self.instance_level = instance_level
        self.dropout = nn.Dropout(dropout)

    def task_outputs(self, lengths, instances):
        """Per task, ``(bag logits (B, n_logits_j), instance weights (N,))``."""
        segments = _Segments(lengths)
        h = self.dropout(self.encode(instances))
        outputs = []
        for pooling, head in zip(self.poolings, self.heads):
            if self.instance_level:
                outputs.append(_pool(pooling, head(h), segments))
            else:
                pooled, weights = _pool(pooling, h, segments)
                outputs.append((head(pooled), weights))
        return outputs

    def forward(self, lengths, instances):
        """Bag logits of all tasks side by side, ``(B, sum_j n_logits_j)``."""
        return torch.cat([logits.float() for logits, _ in self.task_outputs(lengths, instances)], dim=1)

    def instance_weights(self, lengths, instances):
        """Instance weights per task, ``(N, n_tasks)``."""
        return torch.stack([weights.float() for _, weights in self.task_outputs(lengths, instances)], dim=-1)


class FineTuneModel(nn.Module):
    """A (pretrained) backbone's embedding followed by a supervised head.

    Parameters
    ----------
    backbone : SSLModel
        Supplies ``encode(x)`` on raw flat rows (standardization, reshape and,
        for masked models, NaN handling included). Only what ``encode`` uses
        is trained; objective-only parts (projection head, decoder,
        augmentation) should be removed beforehand, see :meth:`strip`.
    head : nn.Module
        Maps embeddings ``(N, D)`` to ``(N, n_outputs)``.
    freeze_encoder : bool, default=False
        Keep the backbone fixed: its parameters get no gradient and it stays
        in eval mode (BatchNorm statistics and dropout unchanged), so only the
        head is trained (a probe).
    """

    def __init__(self, backbone, head, freeze_encoder=False):
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            self.backbone.requires_grad_(False)

    @staticmethod
    def strip(backbone):
        """Drop a pretrained model's submodules other than its encoder, in place.

        The projection head, decoder, mask head and augmentation (which may
        hold a copy of the training rows) serve the pretext objective only.
        """
        for name, _ in list(backbone.named_children()):
            if name != "encoder":
                setattr(backbone, name, None)
        return backbone

    def train(self, mode=True):
        super().train(mode)
        if self.freeze_encoder:
            self.backbone.eval()
        return self

    def encode(self, x):
        """The backbone's embedding of raw flat rows."""
        return self.backbone.encode(x)

    def forward(self, x):
        return self.head(self.backbone.encode(x))
