"""ContrastiveEmbedder: two-view self-supervised embedding (SCARF, SimCLR, VICReg, Barlow Twins, BYOL, MoCo, DINO)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._base import EmbedderMixin, _TorchEstimatorBase
from ._docstrings import _fill_doc
from ._numeric_embeddings import NUMERIC_EMBEDDINGS
from ._tabular import _check_nan_columns, _unit_moments
from .encoders import _ENCODERS
from .objectives import _build_hybrid, _build_objective, _check_single_objective, _objective_names
from .objectives._schedules import _check_schedule

__all__ = ["ContrastiveEmbedder"]


@_fill_doc
class ContrastiveEmbedder(EmbedderMixin, _TorchEstimatorBase):
    """Two-view self-supervised embedding: SCARF, SimCLR, VICReg, Barlow Twins, BYOL, MoCo or DINO.

    ``fit`` trains an encoder so that two random views of the same sample map to
    nearby points and views of different samples map apart (InfoNCE).
    ``transform`` returns the encoder's output, a representation that a simple
    downstream model (e.g. ``LogisticRegression``) can use with few labels.

    * **Tabular rows** (default): SCARF (Bahri et al., 2022). Each row's
      corrupted view replaces exactly ``floor(corruption_rate * n_features)``
      random features with values drawn from that feature's empirical marginal;
      the clean row is the anchor; N x N InfoNCE; 4 x 256 ReLU MLP encoder.
    * **Images** (``image_shape`` given, 3-D or 4-D input, or image files): SimCLR (Chen et al.,
      2020). Two augmented views (random resized crop, brightness/contrast
      jitter, optional flip/grayscale/blur), NT-Xent over the 2N views; a small
      CNN up to 32 pixels a side, else a ResNet-18 with the CIFAR stem.

    ``objective`` swaps the loss (and the heads it needs) on the same views,
    encoder and projection head: VICReg, Barlow Twins, BYOL and DINO need no
    negatives; MoCo takes them from a momentum encoder (see "Choosing a
    method" in the user guide).

    Features (tabular) or channels (images) are standardized internally with
    training statistics. Tables may hold categorical columns (see
    ``categorical_features``) and NaN cells: a NaN enters the encoder as the
    training mean plus a missing indicator (one channel per column that held
    NaN in ``fit``), and SCARF corruption draws "missing" as a value.

    Parameters
    ----------
    objective : {"auto", "scarf", "simclr", "vicreg", "barlow_twins", "byol", "moco_v2", "moco_v3", "dino"}, default="auto"
        The self-supervised method. ``"auto"`` is ``"scarf"`` for tabular rows
        and ``"simclr"`` for images (the 0.1 behaviour). ``"scarf"`` is for
        tables only, ``"simclr"`` for images only; ``"vicreg"`` (Bardes et
        al., 2022), ``"barlow_twins"`` (Zbontar et al., 2021) and ``"byol"``
        (Grill et al., 2020, with a momentum target network) train on the
        same views as "auto" for either kind of data, and so do
        ``"moco_v2"`` (He et al., 2020: momentum key encoder, a queue of
        4096 negatives), ``"moco_v3"`` (Chen et al., 2021: predictor,
        in-batch negatives) and ``"dino"`` (Caron et al., 2021:
        self-distillation with centering and sharpening; multi-crop with a
        :class:`~sk_ssl.augment.MultiCrop` ``augmentation``). The resolved
        choice is ``objective_``. A pair ``(contrastive, masked)``, e.g.
        ``("simclr", "simmim")`` for images or ``("scarf", "vime")`` for
        tables, trains the **hybrid** objective: both methods on one shared
        encoder, their losses summed with ``loss_weights`` (the masked part
        runs with its default mask ratio; ``"mae"`` as the masked part needs
        a ViT ``encoder``; see "Choosing a method" in the user guide).
    loss_weights : {"auto", "balanced"} or tuple, default="auto"
        Hybrid objectives only: the weights ``(w_contrastive, w_masked)`` of
        the two losses, each >= 0, not both 0. ``(1, 0)`` trains exactly
        the contrastive objective alone.
        ``("balanced", w_contrastive, w_masked)`` first rescales the masked
        loss to the contrastive loss's running magnitude (the losses' scales
        differ, e.g. NT-Xent ~4 vs an L1 of ~0.5), so the weights say how
        hard each part pulls; ``"balanced"`` and ``"auto"`` are
        ``("balanced", 1.0, 1.0)``, the best single setting measured across
        digits, letter, covertype and phoneme (``bench_pretext.py``).
        The resolved weights are ``loss_weights_`` (None for a single
        objective).
        A continued fit (``warm_start``, ``partial_fit``) keeps the first
        fit's objective and weights.
    n_components : int, default=256
        Embedding dimension (the encoder's output width). 64-512 is typical.
    encoder : {"auto", "mlp", "cnn", "resnet18", "vit", "vit_tiny", "vit_mean", "vit_tiny_mean"}, nn.Module class or instance, default="auto"
        ``"auto"`` picks ``"mlp"`` for tabular rows, ``"cnn"`` for images up to
        32 px and ``"resnet18"`` above. ``"vit"`` (CPU-friendly) and
        ``"vit_tiny"`` (ViT-Tiny) are Vision Transformers whose embedding is
        the CLS token; ``"vit_mean"`` and ``"vit_tiny_mean"`` mean-pool the
        patch tokens instead (:class:`~sk_ssl.encoders.ViTEncoder`). A class is called as
        ``encoder(input_shape, n_components)``; see :mod:`sk_ssl.encoders`.
        %(encoder_instance)s
    projection_dim : int, default=128
        Output width of the projection head, used only by the loss.
    temperature : float or "auto", default="auto"
        Softmax temperature of the loss: ``"auto"`` is 1.0 for tabular data
        (SCARF) and 0.5 for images (SimCLR), 0.2 for MoCo and 0.1 for DINO
        (the student's; the teacher's is 0.04). Lower values (0.1-0.5) weight
        hard negatives more. Unused by "vicreg", "barlow_twins" and "byol"
        (``temperature_`` is then None).
    schedule : {"auto", "paper", "constant"}, default="auto"
        The momentum-teacher objectives ("byol", "moco_v2", "moco_v3",
        "dino") only. ``"paper"``: the target/key/teacher network's momentum
        rises from its base (0.99) to 1.0 along a half cosine over the fit's
        ``max_epochs`` x batches-per-epoch steps, and DINO's teacher
        temperature warms up from 0.04 to 0.07 over the first 30 % of them.
        ``"constant"``: fixed momentum 0.99 and teacher temperature 0.04.
        ``"auto"`` is "constant" for each of them (on short runs the
        schedules did not help; see "Schedules" in the objectives guide). The
        choice that ran is ``schedule_``. Any other objective accepts only
        "auto" or "constant".
    corruption_rate : float, default=0.6
        Tabular only: fraction of features corrupted in each row (SCARF's c).
        0.3-0.7 works on most tables.
    augmentation : nn.Module or None, default=None
        Replaces the default view generator. For images, e.g.
        ``ImageAugmentation(crop_scale=(0.2, 1.0), flip_prob=0.5)`` for natural
        photos. It receives batches shaped ``(N, *input_shape)`` in raw units.
        None uses :class:`~sk_ssl.augment.TabularCorruption` (tabular) or
        :class:`~sk_ssl.augment.ImageAugmentation` with a crop scale suited to
        the image size (images).
    image_shape : tuple of int (C, H, W) or None, default=None
        %(image_shape)s
    channel_order : {"auto", "first", "last"}, default="auto"
        %(channel_order)s
    include_input : bool, default=False
        Append the standardized input features to the embedding in
        ``transform`` (categorical columns as their integer codes). Useful for
        tabular data, where raw features often stay informative next to the
        embedding.
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        Tabular only: the categorical columns, as in
        ``HistGradientBoostingClassifier``. ``"from_dtype"``: the ``category``,
        ``object``/``string`` and ``bool`` columns of a pandas DataFrame (none
        for arrays), so a raw DataFrame goes straight in. Or a boolean mask,
        column indices, or column names. None: no categorical columns
        (non-numeric columns are then an error). Each categorical column gets
        a vocabulary in ``fit`` (the 100 most frequent categories; rarer ones
        and categories unseen in ``fit`` share a reserved "unknown" code, with
        a warning at ``transform`` that counts them; missing values a
        reserved "missing" code) and a learned embedding in the encoder;
        SCARF corruption draws its codes from their frequencies.
    numeric_embedding : {"none", "pwl", "periodic"}, default="none"
        Tabular only: how the encoder sees each numeric column (Gorishniy et
        al., 2022). ``"none"``: the standardized value. ``"pwl"``:
        piecewise-linear encoding over 16 quantile bins (the bin edges are
        per-column quantiles, no training row is stored), 16 values in
        [0, 1] per column. ``"periodic"``: trained sine/cosine features
        (16 frequencies) and a per-column linear layer with ReLU, 8 values
        per column. Both widen the encoder's input; categorical columns keep
        their learned embeddings. See "Few labels on tables" in the user
        guide for when they help.
    max_epochs : int, default=100
        %(max_epochs)s
    batch_size : int, default=128
        Samples per step. Contrastive learning profits from larger batches
        (more negatives): 128-1024.
    learning_rate : float, default=1e-3
        %(learning_rate)s
    weight_decay : float, default=0.0
        %(weight_decay)s
    early_stopping : bool, default=False
        %(early_stopping)s
    warm_start : bool, default=False
        %(warm_start)s
        Kept from the first fit: the architecture, the standardization
        statistics and the augmentation (for tables, its column summaries); X
        must have the same features (or image shape). See also ``partial_fit``.
    validation_fraction : float, default=0.1
        %(validation_fraction)s
    n_iter_no_change : int, default=10
        %(n_iter_no_change)s
    device : str or torch.device, default="auto"
        %(device)s
        On CUDA, augmentations run batched on the GPU and steps use bf16
        autocast.
    accelerator : accelerate.Accelerator or None, default=None
        %(accelerator)s
    verbose : int, default=0
        %(verbose)s
    callbacks : list of skorch callbacks or None, default=None
        %(callbacks)s
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and augmentation.
        %(random_state)s

    Attributes
    ----------
    module_ : ContrastiveModel
        The trained torch model (encoder, projection head, augmentation; for
        BYOL, MoCo and DINO also the predictor and the momentum target
        network; MoCo v2's queue, DINO's center).
    objective_ : str
        The method that ran (``objective`` with "auto" resolved).
    schedule_ : {"paper", "constant"} or None
        The momentum/teacher-temperature schedule that ran (None for the
        objectives without a momentum network).
    temperature_ : float or None
        The temperature that ran (None for objectives without one).
    loss_weights_ : tuple or None
        The loss weights of a hybrid objective, ``(w_a, w_b)`` or
        ``("balanced", w_a, w_b)``; None for a single objective.
    mask_ratio_ : float
        Hybrid objectives only: the masked part's mask ratio.
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
        Tables: the numeric columns that held NaN in ``fit``, each with a
        missing-indicator channel at the encoder's input; None when none did.

    See Also
    --------
    MaskedAutoencoder : Masked-modelling alternative that also imputes.
    sklearn.decomposition.PCA : Linear baseline.

    References
    ----------
    .. [1] Bahri, Jiang, Tay, Metzler. "SCARF: Self-Supervised Contrastive
       Learning using Random Feature Corruption." ICLR 2022.
    .. [2] Chen, Kornblith, Norouzi, Hinton. "A Simple Framework for Contrastive
       Learning of Visual Representations." ICML 2020.
    .. [3] Bardes, Ponce, LeCun. "VICReg: Variance-Invariance-Covariance
       Regularization for Self-Supervised Learning." ICLR 2022.
    .. [4] Zbontar, Jing, Misra, LeCun, Deny. "Barlow Twins: Self-Supervised
       Learning via Redundancy Reduction." ICML 2021.
    .. [5] Grill et al. "Bootstrap Your Own Latent: A New Approach to
       Self-Supervised Learning." NeurIPS 2020.
    .. [6] He, Fan, Wu, Xie, Girshick. "Momentum Contrast for Unsupervised
       Visual Representation Learning." CVPR 2020; Chen, Fan, Girshick, He.
       "Improved Baselines with Momentum Contrastive Learning." 2020.
    .. [7] Chen, Xie, He. "An Empirical Study of Training Self-Supervised
       Vision Transformers." ICCV 2021.
    .. [8] Caron et al. "Emerging Properties in Self-Supervised Vision
       Transformers." ICCV 2021.
    .. [9] Gorishniy, Rubachev, Babenko. "On Embeddings for Numerical
       Features in Tabular Deep Learning." NeurIPS 2022.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_ssl import ContrastiveEmbedder
    >>> X, y = load_digits(return_X_y=True)
    >>> emb = ContrastiveEmbedder(image_shape=(1, 8, 8), max_epochs=2, random_state=0)
    >>> emb.fit_transform(X[:200]).shape
    (200, 256)
    """

    _parameter_constraints = {
        **_TorchEstimatorBase._parameter_constraints,
        "objective": [StrOptions({"auto", *_objective_names("two_view")}), tuple],
        "loss_weights": [StrOptions({"auto", "balanced"}), tuple],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"auto", *_ENCODERS}), type, nn.Module],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "temperature": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "schedule": [StrOptions({"auto", "paper", "constant"})],
        "corruption_rate": [Interval(Real, 0, 1, closed="both")],
        "augmentation": [nn.Module, None],
        "image_shape": [tuple, list, None],
        "channel_order": [StrOptions({"auto", "first", "last"})],
        "include_input": ["boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "numeric_embedding": [StrOptions(set(NUMERIC_EMBEDDINGS))],
    }

    def __init__(
        self,
        *,
        objective="auto",
        loss_weights="auto",
        n_components=256,
        encoder="auto",
        projection_dim=128,
        temperature="auto",
        schedule="auto",
        corruption_rate=0.6,
        augmentation=None,
        image_shape=None,
        channel_order="auto",
        include_input=False,
        categorical_features="from_dtype",
        numeric_embedding="none",
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
        self.loss_weights = loss_weights
        self.n_components = n_components
        self.encoder = encoder
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.schedule = schedule
        self.corruption_rate = corruption_rate
        self.augmentation = augmentation
        self.image_shape = image_shape
        self.channel_order = channel_order
        self.include_input = include_input
        self.categorical_features = categorical_features
        self.numeric_embedding = numeric_embedding
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
        """Train the encoder on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Training data: numbers, NaN marking missing cells in tables (no
            infinity, no column entirely NaN); DataFrame columns of
            ``categorical_features`` as they are.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : ContrastiveEmbedder
            The fitted estimator.
        """
        return self._fit_embedder(X)

    # NaN in tables: a missing indicator per column with NaN in fit (sk_ssl._tabular); images stay complete.
    @property
    def _allow_nan(self):
        # Tables only: with image_shape the input is images (4-D input without it is caught by _nan_in_images).
        return getattr(self, "image_shape", None) is None

    _nan_in_images = False

    def _check_fit_input(self, X, *, reset, continuing=False):
        X = self._validate_X(X, reset=reset, continuing=continuing)
        _check_nan_columns(X, type(self).__name__)
        return X

    def _input_moments(self, X):
        # partial_fit's running statistics keep the code columns unstandardized.
        return [_unit_moments(self, moments) for moments in super()._input_moments(X)]

    def _build(self, X, y=None):
        data = "tabular" if self.image_shape_ is None else "image"
        self.temperature_ = self.schedule_ = None  # for the objectives without them
        if isinstance(self.objective, tuple):  # the hybrid: a contrastive and a masked objective on one encoder
            built = _build_hybrid(self, data, X)
        else:
            _check_single_objective(self)
            name = self.objective if self.objective != "auto" else {"tabular": "scarf", "image": "simclr"}[data]
            built = _build_objective(self, name, data, X)
        _check_schedule(self)
        return built
