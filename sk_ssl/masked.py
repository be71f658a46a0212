"""MaskedAutoencoder: masked modelling (VIME for tables, SimMIM and MAE for images) and a NaN-aware imputer."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn

from ._base import EmbedderMixin, _TorchEstimatorBase
from ._docstrings import _fill_doc
from .encoders import _ENCODERS
from ._sparse import _dense, _issparse, _nan_counts
from ._images import _as_given_layout
from ._tabular import MISSING, _code_columns, _codes_to_labels, _decode_codes, _unit_moments
from .objectives import _build_objective, _objective_names

__all__ = ["MaskedAutoencoder"]


@_fill_doc
class MaskedAutoencoder(EmbedderMixin, _TorchEstimatorBase):
    """Masked-modelling self-supervised embedding that also imputes missing values.

    ``fit`` trains an encoder to reconstruct samples from masked copies of
    them. ``transform`` returns the encoder's output; ``inverse_transform``
    decodes embeddings back to input units; ``reconstruct`` fills the NaN cells
    of X with the model's predictions.

    * **Tabular rows** (default): VIME (Yoon et al., 2020), as evaluated in
      "Revisiting pretraining objectives for tabular deep learning" (Rubachev
      et al., 2022). Every cell is masked with probability ``mask_ratio`` and
      replaced by a draw from its column's empirical marginal; the model
      reconstructs the original row (MSE on features standardized with
      training-set statistics) and predicts the mask (binary cross-entropy).
      Loss = reconstruction + ``mask_loss_weight`` x mask loss. 4 x 256 ReLU
      MLP encoder, ``Linear-ReLU-Linear`` decoder and mask head.
    * **Images** (``image_shape`` given, 3-D or 4-D input, or image files): SimMIM (Xie et al.,
      2022). Random square blocks of about a quarter of the image side are
      masked until ``mask_ratio`` of the image is hidden; masked pixels get a
      learned per-channel mask value and a mask-indicator channel is appended;
      a linear decoder predicts the pixels; L1 loss on the masked pixels only.
      Small CNN up to 32 pixels a side, else ResNet-18 (CIFAR stem). With a
      Vision Transformer (``encoder="vit"``) the mask covers whole patches
      and a learned mask token replaces their tokens at the input.
    * **Images, MAE** (``objective="mae"``, He et al., 2022): 75 % of the
      patches are dropped and a ViT encoder sees only the visible ones; a
      light transformer decoder predicts the pixels of the dropped patches
      (MSE on pixels normalized within each patch, masked patches only).

    **Missing values.** NaN cells are allowed in ``fit``, ``transform`` and
    ``reconstruct``. They are treated as masked: replaced at the input (by a
    marginal draw in training and by the training mean at inference for
    tables, by the mask value for images) and excluded from the reconstruction
    loss. Statistics are computed on the observed cells. So
    ``make_pipeline(MaskedAutoencoder(), LogisticRegression())`` works on data
    with holes, and ``reconstruct`` is an imputer. A column or a row that is
    entirely NaN in ``fit`` is an error.

    **Masked modelling or contrastive?** Under a linear probe (a linear model
    on the embedding with few labels), masked-model features are often weaker
    than contrastive ones (:class:`ContrastiveEmbedder`): reconstruction keeps
    every detail of the input, including what the labels do not depend on,
    while contrastive learning keeps what survives the augmentations. Prefer
    ``MaskedAutoencoder`` when you need imputation or reconstructions, when
    the data has many missing values (contrastive training needs complete
    rows), or when you will fine-tune or use a non-linear downstream model;
    prefer ``ContrastiveEmbedder`` for few-label classification with a linear
    model. See ``benchmarks/results/masked_representation.md`` for figures.

    Parameters
    ----------
    objective : {"auto", "vime", "simmim", "mae"}, default="auto"
        The masked-modelling method: ``"vime"`` for tabular rows, ``"simmim"``
        or ``"mae"`` (needs a ViT encoder; ``encoder="auto"`` gives one) for
        images; ``"auto"`` picks ``"vime"`` or ``"simmim"`` by the input (the
        resolved choice is ``objective_``). ``"mae"`` has no decoder from the
        pooled embedding: ``inverse_transform`` and ``reconstruct`` need
        ``"simmim"`` with a CNN.
    n_components : int, default=256
        Embedding dimension (the encoder's output width).
    encoder : {"auto", "mlp", "cnn", "resnet18", "vit", "vit_tiny", "vit_mean", "vit_tiny_mean"}, nn.Module class or instance, default="auto"
        ``"auto"`` picks ``"mlp"`` for tabular rows, ``"cnn"`` for images up to
        32 px and ``"resnet18"`` above, and ``"vit"`` for ``objective="mae"``.
        ``"vit"`` (CPU-friendly) and ``"vit_tiny"`` (ViT-Tiny) are Vision
        Transformers whose embedding is the CLS token; ``"vit_mean"`` and
        ``"vit_tiny_mean"`` mean-pool the patch tokens instead
        (:class:`~sk_ssl.encoders.ViTEncoder`). With a ViT, SimMIM masks whole
        patch tokens (a learned mask token replaces them at the input). A
        class is called as
        ``encoder(input_shape, n_components)``, where for images (CNN
        encoders under SimMIM) ``input_shape`` has ``2 * C`` channels (pixels
        and mask indicators); a :class:`~sk_ssl.encoders.ViTEncoder` subclass
        gets ``C`` channels.
        An ``nn.Module`` instance is your own backbone (e.g. a torchvision
        ResNet with its ``fc`` replaced by ``nn.Identity()``, pretrained
        weights loaded on your side): ``fit`` trains a deep copy of it (the
        instance passed in is never modified) and ``transform`` uses that
        copy. It must map ``(N, 2 * C, H, W)`` for images to ``(N, n_components)``, so
        set ``n_components`` to its output width (a dry forward pass checks
        it and names the width otherwise). Such an estimator clones and
        pickles, but ``save`` refuses it (the safe format holds no code).
    mask_ratio : float or "auto", default="auto"
        Tabular: probability that a cell is masked (0.3). Images: share of the
        image hidden by blocks (0.6, SimMIM's value for small blocks); MAE:
        share of patches dropped (0.75).
    mask_loss_weight : float, default=2.0
        Tabular only: weight of the mask-prediction loss (VIME's alpha). 0
        trains reconstruction only.
    block_size : int or "auto", default="auto"
        Images only: side of a masked block in pixels. ``"auto"`` is about a
        quarter of the shorter image side (at least 1); with a ViT encoder,
        one patch (a given size must be a multiple of the patch size).
    image_shape : tuple of int (C, H, W) or None, default=None
        %(image_shape)s
    channel_order : {"auto", "first", "last"}, default="auto"
        %(channel_order)s
    include_input : bool, default=False
        Append the standardized input features (NaN cells as 0, the training
        mean) to the embedding in ``transform``.
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        Tabular only: the categorical columns, as in
        ``HistGradientBoostingClassifier`` and :class:`ContrastiveEmbedder`.
        ``"from_dtype"``: the ``category``, ``object``/``string`` and
        ``bool`` columns of a pandas DataFrame (none for arrays). Or a
        boolean mask, column indices, or column names (for an object array,
        say). None: no categorical columns. Each gets a vocabulary (the 100
        most frequent categories; rarer and unseen ones share a reserved
        "unknown" code, counted in a warning at ``transform``), a learned
        embedding in the encoder and a softmax head in the decoder trained
        with cross-entropy (numbers keep the MSE); masking draws its
        categories from their frequencies. A missing category (NaN, None)
        is a missing cell: masked, without a target, and filled with a
        category by ``reconstruct``.
    max_epochs : int, default=100
        %(max_epochs)s
    batch_size : int, default=128
        Samples per step.
    learning_rate : float, default=1e-3
        %(learning_rate)s
    weight_decay : float, default=0.0
        %(weight_decay)s
    early_stopping : bool, default=False
        %(early_stopping)s
    warm_start : bool, default=False
        %(warm_start)s
        Kept from the first fit: the architecture, the standardization
        statistics and the masking (for tables, its column summaries); X must
        have the same features (or image shape). See also ``partial_fit``.
    validation_fraction : float, default=0.1
        %(validation_fraction)s
    n_iter_no_change : int, default=10
        %(n_iter_no_change)s
    device : str or torch.device, default="auto"
        %(device)s
    accelerator : accelerate.Accelerator or None, default=None
        %(accelerator)s
    verbose : int, default=0
        %(verbose)s
    callbacks : list of skorch callbacks or None, default=None
        %(callbacks)s
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and masking.
        %(random_state)s

    Attributes
    ----------
    module_ : MaskedModel or MAEModel
        The trained torch model (encoder, decoder, mask head or mask value,
        masking); ``objective="mae"`` gives an
        ``sk_ssl.objectives.mae.MAEModel``.
    objective_ : str
        The method that ran ("vime", "simmim" or "mae").
    mask_ratio_ : float
        The mask ratio that ran (``mask_ratio`` with "auto" resolved).
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``valid_loss`` (with early
        stopping), ``dur``.
    n_iter_ : int
        Number of epochs run.
    channel_order_ : {"first", "last"} or None
        Channel order of the fitted images' input (``"first"`` for flat rows
        and 3-D grey stacks), None for tabular data.
    image_shape_ : tuple of int or None
        Resolved image shape, None for tabular data.
    n_features_in_ : int
        Number of features seen in ``fit`` (pixels, for images).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when X had string column names.
    categorical_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        %(categorical_features_)s
    categories_ : list of (ndarray or None) or None
        %(categories_)s
    nan_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        Tabular: the numeric columns that held NaN in ``fit``; None when
        none did.

    See Also
    --------
    ContrastiveEmbedder : Contrastive alternative, usually better under a linear probe.
    sklearn.impute.IterativeImputer : Classical model-based imputer.

    References
    ----------
    .. [1] Yoon, Zhang, Jordon, van der Schaar. "VIME: Extending the Success of
       Self- and Semi-supervised Learning to Tabular Domain." NeurIPS 2020.
    .. [2] Rubachev, Alekberov, Gorishniy, Babenko. "Revisiting Pretraining
       Objectives for Tabular Deep Learning." arXiv:2207.03208, 2022.
    .. [3] Xie et al. "SimMIM: A Simple Framework for Masked Image Modeling."
       CVPR 2022.
    .. [4] He, Chen, Xie, Li, Dollar, Girshick. "Masked Autoencoders Are
       Scalable Vision Learners." CVPR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_ssl import MaskedAutoencoder
    >>> X, y = load_digits(return_X_y=True)
    >>> X_holes = X[:300].copy()
    >>> X_holes[::7, 10] = np.nan
    >>> mae = MaskedAutoencoder(n_components=32, max_epochs=2, random_state=0)
    >>> mae.fit_transform(X_holes).shape
    (300, 32)
    >>> filled = mae.reconstruct(X_holes)
    >>> bool(np.isfinite(filled).all()), bool((filled[1:7] == X[1:7]).all())
    (True, True)
    >>> mae.inverse_transform(mae.transform(X_holes)).shape
    (300, 64)
    """

    _parameter_constraints = {
        **_TorchEstimatorBase._parameter_constraints,
        "objective": [StrOptions({"auto", *_objective_names("masked")})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"auto", *_ENCODERS}), type, nn.Module],
        "mask_ratio": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
        "mask_loss_weight": [Interval(Real, 0, None, closed="left")],
        "block_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, list, None],
        "channel_order": [StrOptions({"auto", "first", "last"})],
        "include_input": ["boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    }

    _allow_nan = True
    _min_samples_reason = "the per-feature scale of the training data needs at least two rows"

    def __init__(
        self,
        *,
        objective="auto",
        n_components=256,
        encoder="auto",
        mask_ratio="auto",
        mask_loss_weight=2.0,
        block_size="auto",
        image_shape=None,
        channel_order="auto",
        include_input=False,
        categorical_features="from_dtype",
        max_epochs=100,
        batch_size=128,
        learning_rate=1e-3,
        weight_decay=0.0,
        early_stopping=False,
        warm_start=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        accelerator=None,
        verbose=0,
        callbacks=None,
        random_state=None,
    ):
        self.objective = objective
        self.n_components = n_components
        self.encoder = encoder
        self.mask_ratio = mask_ratio
        self.mask_loss_weight = mask_loss_weight
        self.block_size = block_size
        self.image_shape = image_shape
        self.channel_order = channel_order
        self.include_input = include_input
        self.categorical_features = categorical_features
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.warm_start = warm_start
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.accelerator = accelerator
        self.verbose = verbose
        self.callbacks = callbacks
        self.random_state = random_state

    def fit(self, X, y=None):
        """Train the encoder, decoder and mask head on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Training data, numeric; NaN marks missing cells (no infinity, no
            column or row entirely NaN).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : MaskedAutoencoder
            The fitted estimator.
        """
        return self._fit_embedder(X)

    def _check_fit_input(self, X, *, reset, continuing=False):
        X = self._validate_X(X, reset=reset, continuing=continuing)
        if isinstance(X, np.ndarray) or _issparse(X):  # image files (decoded per batch) hold no NaN
            _check_no_empty_lines(X)
        return X

    def _input_moments(self, X):
        # partial_fit's running statistics keep the code columns unstandardized.
        return [_unit_moments(self, moments) for moments in super()._input_moments(X)]

    def _build(self, X, y=None):
        data = "tabular" if self.image_shape_ is None else "image"
        name = self.objective if self.objective != "auto" else {"tabular": "vime", "image": "simmim"}[data]
        return _build_objective(self, name, data, X)

    def inverse_transform(self, X):
        """Decode embeddings back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components) or (n_samples, n_components + n_features)
            Embeddings from ``transform`` (the appended input columns of
            ``include_input=True`` are ignored).

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            Reconstructed samples in input units (images as flat rows). With
            categorical columns, an object array holding each categorical
            column's most likely category (its label as given in ``fit``).
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        widths = {self.n_components, self.n_components + (self.n_features_in_ if self.include_input else 0)}
        if Z.shape[1] not in widths:
            raise ValueError(
                f"X has {Z.shape[1]} columns but MaskedAutoencoder.inverse_transform expects embeddings with "
                f"{sorted(widths)} columns: pass the output of transform."
            )
        decoded = self._map_batches(self.module_.decode, Z[:, : self.n_components], dtype=Z.dtype)
        if getattr(self, "categories_", None) is not None:
            return _codes_to_labels(self, decoded)
        return decoded

    def reconstruct(self, X, *, n_iter=3):
        """Return X with every NaN cell filled by the model.

        Observed cells are returned unchanged (bit for bit). Missing cells
        first enter the model as masked (training mean for tables, mask value
        for images); then, for ``n_iter - 1`` more rounds, the row is fed back
        with its holes filled by the previous prediction, which sharpens the
        imputation when a row has several holes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Data of the same layout as in ``fit``, NaN marking missing cells.
        n_iter : int, default=3
            Rounds of prediction; 1 is a single pass.

        Returns
        -------
        X_filled : ndarray of the shape of X, or DataFrame
            Same float dtype as X (float64 for integer tables; integer
            images come back as float32 in [0, 1]), without NaN, in X's
            layout (channel order included). With categorical columns
            (``categories_``): X as given with its holes filled, every other
            cell unchanged (an unknown category stays as it is): a DataFrame
            (same index, columns and dtypes; a ``category`` column gains the
            filled categories it lacks, a ``bool`` column with holes becomes
            ``object``) for a DataFrame, else an object ndarray. A missing
            category is filled with the most likely category seen in ``fit``.
        """
        check_is_fitted(self)
        if not isinstance(n_iter, Integral) or n_iter < 1:
            raise ValueError(f"n_iter must be a positive int; got {n_iter!r}.")
        shape = getattr(X, "shape", None)
        original = X
        X = self._validate_X(X, reset=False)
        if not isinstance(X, np.ndarray) and not _issparse(X):
            raise ValueError("reconstruct fills NaN cells of arrays; image files have none. Pass an array of pixels.")
        # The filled output is dense anyway: a sparse X is densified here.
        X = _dense(X)
        missing = np.isnan(X)
        code_columns, _ = _code_columns(self)
        if code_columns:  # a missing category is code 0
            missing[:, code_columns] |= X[:, code_columns] == MISSING
        filled = X.copy()
        rows = np.flatnonzero(missing.any(axis=1))
        if len(rows):
            current, holes = X[rows], missing[rows]
            for _ in range(n_iter):
                predicted = self._map_batches(lambda x: self.module_.decode(self.module_.encode(x)), current)
                current = np.where(holes, predicted.astype(X.dtype), X[rows])
            filled[rows] = current
        if getattr(self, "categories_", None) is not None:
            return _decode_codes(self, filled, original)
        return _as_given_layout(filled, shape, getattr(self, "channel_order_", "first"), self.image_shape_)


def _check_no_empty_lines(X):
    """Reject all-NaN columns and rows: nothing to standardize or to learn from."""
    if _issparse(X):  # NaN can only be a stored value
        X = X.tocsr()
        nan = np.isnan(X.data)
        if not nan.any():
            return
        column_nan = np.bincount(X.indices[nan], minlength=X.shape[1])
        empty_columns = np.flatnonzero(column_nan == X.shape[0])
        row_nan = _nan_counts(X)
    else:
        missing = np.isnan(X)
        if not missing.any():
            return
        empty_columns = np.flatnonzero(missing.all(axis=0))
        row_nan = missing.sum(axis=1)
    if len(empty_columns):
        raise ValueError(
            f"Columns {empty_columns[:10].tolist()} of X are entirely NaN: they carry no information and have no "
            "statistics to standardize with. Drop them before fitting (e.g. X[:, ~np.isnan(X).all(axis=0)])."
        )
    empty_rows = np.flatnonzero(row_nan == X.shape[1])
    if len(empty_rows):
        raise ValueError(
            f"Rows {empty_rows[:10].tolist()} of X are entirely NaN: there is nothing to learn from them. Drop them "
            "before fitting (e.g. X[~np.isnan(X).all(axis=1)])."
        )
