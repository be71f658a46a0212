"""The base class every sk_ssl estimator builds on.

It owns what all estimators share: parameter validation, input validation
(numeric check, images as flat rows, float dtypes), device choice, seeding,
the skorch training run, batched inference and feature names. A concrete
estimator adds its parameters, builds its model and criterion, and maps its
outputs.
"""

import contextlib
import copy
import itertools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from skorch.helper import predefined_split
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._engine import (
    _AcceleratedSSLNet,
    _BatchLoader,
    _EpochProgressBar,
    _loading_device,
    _module_device,
    _resolve_device,
    _SSLNet,
    _SubsetDataset,
    _to_device,
)
from ._faults import _EarlyStopping
from ._sparse import _as_dataset, _inference_rows, _issparse, _sparse_moments, _SparseDataset
from ._tabular import _encode_table, _fit_nan_features, _nan_to_zero, _template_rows
from ._images import _check_pixel_range, _file_rows, _image_rows, _is_path_sequence
from ._stats import _dense_moments, _mean_scale, _merge_moments
from .exceptions import TrainingDivergedError, TrainingInterruptedWarning

# Appended to an input error of a fit that continues training the fitted model
# (warm_start=True or partial_fit; ``continuing=True`` of the input checks).
_CONTINUE_HINT = (
    "{name} continues training the fitted model here (warm_start=True or partial_fit), so new data must have "
    "the layout of the first fit. Set warm_start=False (or use a new estimator) to fit from scratch."
)

_NON_NUMERIC_HINT = (
    "sk_ssl estimators need numeric features. Encode categorical or text columns first, e.g. "
    "make_pipeline(ColumnTransformer([('cat', OneHotEncoder(), categorical_columns)], "
    "remainder='passthrough'), {name}())."
)


class _TorchEstimatorBase(BaseEstimator):
    """A scikit-learn estimator around a torch model trained by the engine (not used directly).

    Named for what it is rather than for self-supervision: the supervised
    estimators (fine-tuners, MIL) build on it too.

    Subclasses declare their own ``__init__`` with all parameters (scikit-learn
    reads them from the signature) and extend ``_parameter_constraints``.
    """

    _parameter_constraints = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "warm_start": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        # Duck-typed, so that accelerate stays an optional dependency.
        "accelerator": [HasMethods(["prepare", "backward", "unwrap_model"]), None],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "random_state": ["random_state"],
    }

    # Rows per forward pass at inference; bounds memory of transform/predict.
    _inference_batch_size = 1024
    # Fewer samples than this cannot train the objective (see _min_samples_reason).
    _min_samples = 2
    _min_samples_reason = "a contrastive batch needs at least one other sample as a negative"
    # Whether NaN cells are accepted in X (e.g. treated as masked by the model).
    _allow_nan = False
    # Whether images (not only tables) may hold NaN when _allow_nan is set.
    _nan_in_images = True
    # Whether scipy sparse X is accepted (kept sparse, densified per batch; see _sparse.py).
    _accept_sparse = False

    # ------------------------------------------------------------------ input
    def _validate_X(self, X, *, reset, continuing=False):
        """Validate X and return a 2-D float array (images flattened).

        Images (4-D in either channel order, 3-D grey stacks, flat rows with
        ``image_shape``) go through :func:`sk_ssl._images._image_rows` first:
        the one input path of every image estimator, which also scales integer
        pixels to [0, 1]. ``reset`` has scikit-learn's meaning: True (a fit
        from scratch) also resolves ``n_features_in_``, ``image_shape_`` and
        ``channel_order_``; False checks X against them. ``continuing=True``
        (a fit that continues the fitted model, see :meth:`_continues_fit`;
        needs ``reset=False``) checks X like ``reset=False`` and its errors
        say how to start over; image files are still read once for the
        standardization statistics.

        float32 and float64 arrays are returned as they are, not copied
        (validation only reads them); integer tabular input becomes float64,
        integer images float32 in [0, 1].
        """
        if continuing:
            if reset:
                raise ValueError("reset=True starts a fit from scratch; a continued fit validates with reset=False.")
            with self._continue_hint():
                if _is_path_sequence(X):
                    return _file_rows(self, X, reset=False, fitting=True, image_shape=self._image_params()[0],
                                      name=type(self).__name__)  # fmt: skip
                return self._validate_X(X, reset=False)
        if _is_path_sequence(X):  # image files, decoded a batch at a time (sk_ssl._images._ImageFiles)
            return _file_rows(self, X, reset=reset, fitting=reset, image_shape=self._image_params()[0],
                              name=type(self).__name__)  # fmt: skip
        name = type(self).__name__
        X = _encode_table(self, X, reset)  # categorical columns as codes (estimators with categorical_features)
        dtypes = getattr(X, "dtypes", None)
        if dtypes is not None and hasattr(X, "columns"):
            bad = [str(col) for col, dt in zip(X.columns, dtypes) if not _is_numeric_dtype(dt)]
            if bad:
                raise ValueError(f"Non-numeric columns {bad}. " + _NON_NUMERIC_HINT.format(name=name))
        image_shape, channel_order = self._image_params()
        fitted = None if reset else (self.image_shape_, getattr(self, "channel_order_", "first"))
        X, shape_from_array, order, scaled = _image_rows(
            X, image_shape=image_shape, channel_order=channel_order, fitted=fitted, name=name
        )
        try:
            X = validate_data(
                self,
                X,
                reset=reset,
                accept_sparse=["csr"] if self._accept_sparse else False,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan" if self._allow_nan else True,
                ensure_min_samples=self._min_samples if reset else 1,
            )
        except ValueError as exc:
            if "could not convert" in str(exc):
                raise ValueError(f"{exc}. " + _NON_NUMERIC_HINT.format(name=name)) from exc
            if reset and "minimum of" in str(exc) and "is required" in str(exc):
                raise ValueError(f"{exc} by {name}: {self._min_samples_reason}.") from exc
            raise
        _check_float32_range(X.data if _issparse(X) else X, name)
        if reset:
            self.image_shape_ = self._resolve_image_shape(X.shape[1], shape_from_array, image_shape)
            self.channel_order_ = order if self.image_shape_ is not None else None
            _fit_nan_features(self, X)  # numeric columns with NaN: missing indicators (tables only)
        if self.image_shape_ is not None:
            _check_pixel_range(self, X, scaled=scaled, reset=reset, name=name)
            # A float64 sum: NaN propagates, no boolean copy of the images (infinity was refused above).
            if self._allow_nan and not self._nan_in_images and isinstance(X, np.ndarray) and \
                    np.isnan(X.sum(dtype=np.float64)):  # fmt: skip
                raise ValueError(f"{name} accepts NaN in tables only, but these images hold NaN pixels. Fill them "
                                 "first, or use MaskedAutoencoder, which treats NaN pixels as masked.")  # fmt: skip
        elif shape_from_array is not None and self.image_shape_ != shape_from_array:
            raise ValueError(f"X holds images of shape {shape_from_array} but {name} was fitted on {self.image_shape_}.")
        return X

    @contextlib.contextmanager
    def _continue_hint(self):
        """Append how to start over to an input error of a continued fit."""
        try:
            yield
        except ValueError as exc:
            raise ValueError(f"{exc} {_CONTINUE_HINT.format(name=type(self).__name__)}") from exc

    def _image_params(self):
        """``(image_shape, channel_order)`` parameters that read the input (see :mod:`sk_ssl._images`)."""
        return getattr(self, "image_shape", None), getattr(self, "channel_order", "auto")

    def _resolve_image_shape(self, n_features, shape_from_array, image_shape=...):
        # image_shape=... reads the estimator's parameter; estimators with
        # several inputs (e.g. one per view) pass each input's own shape.
        if image_shape is ...:
            image_shape = getattr(self, "image_shape", None)
        if image_shape is None:
            return shape_from_array
        shape = list(image_shape)
        if not (
            len(shape) == 3
            and all(isinstance(v, Integral) and (v > 0 or v == -1) for v in shape)
            and shape.count(-1) <= 1
        ):
            raise ValueError(
                f"image_shape must be (channels, height, width) of positive ints, one of them may be -1; "
                f"got {image_shape!r}."
            )
        if -1 in shape:
            known = math.prod(v for v in shape if v != -1)
            if n_features % known:
                raise ValueError(
                    f"image_shape={tuple(image_shape)} cannot hold {n_features} features per row: "
                    f"{n_features} is not a multiple of {known}."
                )
            shape[shape.index(-1)] = n_features // known
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={tuple(image_shape)} holds {math.prod(shape)} values but X has {n_features} "
                "features per row. Pass the (channels, height, width) of your images, with "
                "channels * height * width == n_features."
            )
        if shape_from_array is not None and tuple(shape) != shape_from_array:
            raise ValueError(f"image_shape={tuple(image_shape)} does not match the 4-D input's {shape_from_array}.")
        return tuple(shape)

    @property
    def _input_shape(self):
        return self.image_shape_ if self.image_shape_ is not None else (self.n_features_in_,)

    def _standardization(self, X, image_shape=...):
        """Mean and scale per feature (tabular) or per channel (images), flat.

        ``image_shape=...`` uses the fitted ``image_shape_``; estimators with
        several inputs pass each input's own shape (None for tabular).
        NaN cells (accepted by ``_allow_nan`` estimators) are left out. The
        same statistics as the running ones of ``partial_fit``.
        """
        if image_shape is ...:
            image_shape = self.image_shape_
        return _mean_scale(_moments(X, image_shape), image_shape)

    def _standardized_inputs(self):
        """``(model, columns, image_shape)`` per standardized input of ``module_``.

        ``model`` holds the ``mean`` and ``scale`` buffers, ``columns`` selects
        its columns of X (None: all). Estimators with several inputs (one per
        view) override this.
        """
        return [(self.module_, None, self.image_shape_)]

    def _input_moments(self, X):
        """Count, mean and sum of squared deviations of X, per standardized input."""
        return [_moments(X if cols is None else X[:, cols], shape) for _, cols, shape in self._standardized_inputs()]

    def _update_standardization(self, X):
        """Fold chunk X into the running statistics and write them into the model.

        Chan et al.'s pairwise merge of (count, mean, M2): the result equals
        the statistics of all chunks seen so far taken at once, whatever the
        chunk sizes.
        """
        merged = [_merge_moments(old, new) for old, new in zip(self._running_moments, self._input_moments(X))]
        for (model, _, shape), moments in zip(self._standardized_inputs(), merged):
            mean, scale = _mean_scale(moments, shape)
            with torch.no_grad():
                model.mean.copy_(torch.as_tensor(mean, dtype=torch.float32).view_as(model.mean))
                model.scale.copy_(torch.as_tensor(scale, dtype=torch.float32).view_as(model.scale))
        self._running_moments = merged

    # --------------------------------------------------------------- training
    def _seed(self):
        """A torch seed drawn from ``random_state`` (fresh for ``None``)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _callbacks(self, has_validation, epochs):
        callbacks = [copy.deepcopy(cb) for cb in (self.callbacks or [])]
        if has_validation and self.early_stopping:
            callbacks.append(_EarlyStopping(patience=self.n_iter_no_change))
        if self.verbose == 1:
            callbacks.append(_EpochProgressBar(epochs, type(self).__name__))
        return callbacks

    def _continues_fit(self, partial=False):
        """Whether this fit continues training the fitted model (else it starts from scratch).

        A fit continues when the estimator is fitted and either
        ``warm_start=True`` or this is ``partial_fit``. Pass the answer as
        ``continuing`` (with ``reset=not continuing``) to the input checks and
        to :meth:`_train`.
        """
        return hasattr(self, "module_") and (partial or bool(self.warm_start))

    def _training_device(self):
        """The device that ``fit`` trains on: ``device``'s, or the accelerator's."""
        if self.accelerator is None:
            return _resolve_device(self.device)
        device = torch.device(self.accelerator.device)
        if self.device != "auto":
            asked = _resolve_device(self.device)
            if asked.type != device.type or (asked.index is not None and asked.index != device.index):
                raise ValueError(
                    f"device={self.device!r} but the accelerator places this process on {device}. With an "
                    "accelerator, leave device='auto' (the accelerator decides), or configure the accelerator "
                    "(e.g. Accelerator(cpu=True))."
                )
        return device

    def _net_params(self):
        """Extra keyword arguments for the skorch net (default none).

        A hook for estimators that need more than the common settings, e.g.
        ``optimizer__param_groups`` for per-module learning rates.
        """
        return {}

    def _build(self, X, y=None):
        """Return ``(model, criterion)`` for the validated training data.

        Subclasses implement this; it runs under the seeded RNG, so weight
        initialisation is repeatable.
        """
        raise NotImplementedError

    def _validation_split(self, n_samples, seed, stratify=None):
        """Indices ``(valid, train)`` of the early-stopping hold-out.

        Stratified by ``stratify`` (class codes) when every class has at least
        two rows, so a rare class is not left out of either side; random
        otherwise.
        """
        n_valid = max(1, int(round(self.validation_fraction * n_samples)))
        if n_samples - n_valid < self._min_samples:
            raise ValueError(
                f"early_stopping needs at least {self._min_samples} training samples after holding out "
                f"validation_fraction={self.validation_fraction}; got {n_samples} samples. "
                "Use early_stopping=False or more data."
            )
        if stratify is not None:
            counts = np.unique(stratify, return_counts=True)[1]
            if counts.min() >= 2 and len(counts) <= n_valid <= n_samples - len(counts):
                train, valid = train_test_split(
                    np.arange(n_samples), test_size=n_valid, stratify=stratify, random_state=seed % 2**31
                )
                return torch.as_tensor(valid), torch.as_tensor(train)
        order = torch.randperm(n_samples, generator=torch.Generator().manual_seed(seed))
        return order[:n_valid], order[n_valid:]

    def _train(self, X, y=None, *, validation=None, stratify=None, continuing=False, partial=False):
        """Build the model with :meth:`_build` and train it through the shared engine.

        Sets ``module_``, ``history_`` and ``n_iter_``. ``X`` is a 2-D float
        array, a dict of arrays (passed to the model as keywords), or a dataset
        with ``__len__`` and ``batch(indices) -> (X_batch, y_batch)`` (e.g. for
        ragged data that is padded per batch); ``y`` is an array or None.
        ``validation`` is an explicit ``(X_val, y_val)`` pair (or a dataset)
        used instead of holding out ``validation_fraction``; ``stratify``
        holds class codes for a stratified hold-out.

        ``continuing`` is :meth:`_continues_fit`'s answer. True trains the
        fitted ``module_`` further instead of building a new one: the
        criterion and (when kept) the AdamW moments of the last call are
        restored and the epochs are appended to ``history_``. ``partial``
        (``partial_fit``) runs one epoch without a validation hold-out.

        Faults (docs/engine.md, "Faults"): on divergence the engine restores
        the last finite epoch's weights, which are kept here before the
        ``TrainingDivergedError`` propagates; with none (or after an
        interrupt before the first epoch ended) a fresh fit leaves the
        estimator unfitted, while a continued fit falls back to the model it
        started from. After an interrupt it warns ``TrainingInterruptedWarning``.
        """
        epochs = 1 if partial else self.max_epochs
        # FineTune*(pretrain="target_aware") pretraining this embedder: its targets and supervised head
        # (sk_ssl/objectives/target_aware.py).
        target_aware = None if continuing or partial else getattr(self, "_pretraining_targets", None)
        if target_aware is not None:
            y = _target_aware_targets(self, X, y, target_aware)
        device = self._training_device()
        seed, num_shards, shard = self._fit_seed(continuing)
        dataset, train_split = self._fit_datasets(X, y, validation, stratify, partial, seed, device)
        cuda_devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)
            module, criterion = (self.module_, self._continued_criterion()) if continuing else self._build(X, y)
            if target_aware is not None:
                module, criterion = target_aware.attach(module, criterion, X)
            net = self._make_net(module, criterion, epochs, train_split, device, seed, num_shards, shard)
            self._run_net(net, dataset, continuing)
        if net.faults_.interrupt_message_:
            warnings.warn(f"{type(self).__name__}: {net.faults_.interrupt_message_}", TrainingInterruptedWarning,
                          stacklevel=3)  # fmt: skip
        # The AdamW moments (twice the model's size) are kept only where a
        # later call will use them, so a default fit pickles as small as before.
        return self._keep_fit(net, keep_optimizer=partial or self.warm_start)

    def _fit_seed(self, continuing):
        """``(seed, num_shards, shard)`` of this fit: the torch seed and this process's data shard."""
        seed = self._seed()
        if continuing:
            # A fresh, repeatable stream per call: the same random_state and the
            # same sequence of calls give the same model, but a second call does
            # not replay the first call's shuffles and augmentations.
            seed = int(np.random.SeedSequence([seed, self.n_iter_]).generate_state(1)[0] % np.iinfo(np.int32).max)
        accelerator = self.accelerator
        if accelerator is None or accelerator.num_processes <= 1:
            return seed, 1, 0
        from accelerate.utils import broadcast_object_list

        # Every process must draw the same shuffling order (see
        # _BatchLoader), even with random_state=None: take process 0's seed.
        return broadcast_object_list([seed])[0], accelerator.num_processes, accelerator.process_index

    def _fit_datasets(self, X, y, validation, stratify, partial, seed, device):
        """``(training dataset, skorch train_split)``: the validation set, held out or given, if any."""
        dataset = X if hasattr(X, "batch") else _as_dataset(X, y, device)
        if partial:
            return dataset, None  # one pass over the chunk; nothing to hold out or stop early on
        if validation is not None:
            if not hasattr(validation, "batch"):
                validation = _as_dataset(*validation, device)
            return dataset, predefined_split(validation)
        if self.early_stopping:
            valid_idx, train_idx = self._validation_split(len(dataset), seed, stratify)
            return _SubsetDataset(dataset, train_idx), predefined_split(_SubsetDataset(dataset, valid_idx))
        return dataset, None

    def _make_net(self, module, criterion, epochs, train_split, device, seed, num_shards, shard):
        """The engine's skorch net for this fit (plain, or driven by the accelerator)."""
        accelerator = self.accelerator
        params = dict(
            module=module,
            criterion=criterion,
            optimizer=torch.optim.AdamW,
            lr=self.learning_rate,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=epochs,
            batch_size=self.batch_size,
            iterator_train=_BatchLoader,
            iterator_train__shuffle=True,
            iterator_train__drop_last=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_valid=_BatchLoader,
            train_split=train_split,
            callbacks=self._callbacks(train_split is not None, epochs),
            device=device,
            verbose=int(self.verbose >= 2),
        )
        if accelerator is None:
            return _SSLNet(**params, **self._net_params())
        params.update(
            accelerator=accelerator,
            # skorch leaves placement to the accelerator when device=None.
            device=None if accelerator.device_placement else device,
            # Unwrapped in _keep_fit, after the callbacks' on_train_end:
            # EarlyStopping restores its best weights into the still
            # wrapped module then.
            unwrap_after_train=False,
            # batch_size is per process, as with accelerate's own data
            # loaders, unless the accelerator splits batches; each
            # process keeps its shard of every global batch.
            batch_size=self.batch_size * (1 if accelerator.split_batches else num_shards),
            iterator_train__num_shards=num_shards,
            iterator_train__shard=shard,
            iterator_valid__batch_size=self.batch_size,
            # The accelerator's print (process 0 only) for verbose=2; any
            # sink other than print would print regardless of verbose.
            callbacks__print_log__sink=accelerator.print if self.verbose >= 2 else print,
        )
        if num_shards > 1:
            # Different augmentations on each process; the initial
            # weights are process 0's anyway (DDP broadcasts them).
            torch.manual_seed(seed + shard)
        return _AcceleratedSSLNet(**params, **self._net_params())

    def _run_net(self, net, dataset, continuing):
        """Train ``net`` on ``dataset``; on a fault keep what the engine restored (or forget the fit) and re-raise."""
        with contextlib.nullcontext() if self.accelerator is None else _releasing(self.accelerator):
            try:
                # What skorch's fit does (initialize, then partial_fit), with the
                # state of the last fit restored in between when continuing.
                net.initialize()
                if continuing:
                    self._restore_training_state(net)
                    net.keep_start_state()
                net.partial_fit(dataset, None)
            except (TrainingDivergedError, KeyboardInterrupt):
                # The engine has restored the last finite weights, if any epoch
                # finished; without one the estimator must not look fitted.
                faults = dict(getattr(net, "callbacks_", ())).get("fault_guard")  # none before initialize
                if faults is None or faults.last_finite_ is None:
                    self._forget_fit()
                else:
                    self._keep_fit(net)
                raise

    def _keep_fit(self, net, keep_optimizer=False):
        """Take the trained model, history and criterion (and the optimizer state) from ``net``.

        After a fault the optimizer state is not kept (``keep_optimizer``
        False): a continued fit then starts AdamW afresh.
        """
        module = net.module_ if self.accelerator is None else _unwrapped(self.accelerator, net.module_)
        self.module_ = module.eval()
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self._train_criterion = net.criterion_
        # On the host, so that the estimator pickles and loads without the GPU.
        self._optimizer_state = _host_copy(net.optimizer_.state_dict()) if keep_optimizer else None
        return self

    def _continued_criterion(self):
        """The criterion of the last fit; rebuilt when it is gone (e.g. after :func:`sk_ssl.load`)."""
        criterion = getattr(self, "_train_criterion", None)
        return criterion if criterion is not None else self._rebuild_module(return_criterion=True)[1]

    def _restore_training_state(self, net):
        """Give a freshly initialised net the history and optimizer state of the last fit."""
        net.history_ = self.history_
        state = getattr(self, "_optimizer_state", None)
        if state is None:
            return  # fitted with warm_start=False: AdamW starts with fresh moments
        # The current learning_rate / weight_decay win over the saved ones.
        current = [{key: group[key] for key in ("lr", "weight_decay")} for group in net.optimizer_.param_groups]
        try:
            net.optimizer_.load_state_dict(state)
        except ValueError:
            return  # parameter groups changed (e.g. encoder_lr_factor): fresh moments
        for group, values in zip(net.optimizer_.param_groups, current):
            group.update(values)

    def _forget_fit(self):
        """Drop the fitted model so a failed (re)fit leaves no stale or broken weights behind."""
        for name in ("module_", "history_", "n_iter_"):
            self.__dict__.pop(name, None)

    def __sklearn_is_fitted__(self):
        # ``n_features_in_`` is set when X is validated, before training can
        # fail; only a trained model makes the estimator fitted.
        return hasattr(self, "module_")

    # -------------------------------------------------------------- inference
    def _map_batches(self, fn, X, dtype=np.float32, ragged=False):
        """Apply ``fn`` to X in batches of ``_inference_batch_size``; return numpy.

        ``X`` is a 2-D array (sliced into float32 tensors one batch at a time,
        so a float64 X is never converted as a whole) or a dataset with
        ``batch`` (``fn`` then receives each batch's inputs as that dataset
        returns them). Batch outputs are written into one preallocated array
        of ``dtype``: peak memory is the output plus one batch, not twice the
        output (a list of batches joined at the end) plus a dtype copy.
        ``ragged=True`` is for an ``fn`` whose output rows are not one per
        input row (e.g. one per instance of a bag); those are concatenated.
        """
        device = next(self.module_.parameters()).device
        self.module_.eval()
        size = self._inference_batch_size
        if _issparse(X):  # densified one batch at a time
            size = _inference_rows(X.shape[1], size)
            X = _SparseDataset(X, device=device)
        if hasattr(X, "batch"):
            batches = (batch_X for batch_X, _ in _BatchLoader(X, size))
        else:  # slice lazily: only one batch is ever converted to float32
            batches = (X[start : start + size] for start in range(0, len(X), size))
        out, start, n_bad, first_bad = None, 0, 0, None
        with torch.inference_mode():
            if ragged:  # small outputs (e.g. instance weights): joined, then checked as a whole
                parts = [fn(_to_device(batch_X, device)).float().cpu().numpy() for batch_X in batches]
                batches = [np.concatenate(parts)]
            for batch_X in batches:
                batch_out = batch_X if ragged else fn(_to_device(batch_X, device)).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(batch_out) if ragged else len(X), *batch_out.shape[1:]), dtype=dtype)
                out[start : start + len(batch_out)] = batch_out
                # Checked per batch: a mask of the whole output would cost memory.
                finite = np.isfinite(batch_out.reshape(len(batch_out), -1)).all(axis=1)
                if not finite.all():
                    n_bad += int((~finite).sum())
                    first_bad = start + int(np.flatnonzero(~finite)[0]) if first_bad is None else first_bad
                start += len(batch_out)
        if n_bad:
            raise ValueError(
                f"{type(self).__name__} computed NaN or infinite outputs for {n_bad} input row(s) (the first is "
                f"row {first_bad}). The input is likely far outside the range seen in fit (huge values?): check X "
                "for huge values and scale it the way the training data was scaled."
            )
        return out

    # ------------------------------------------------------------ persistence
    def _template_fit_data(self):
        """Stand-in ``(X, y)`` of the fitted layout, for :meth:`_rebuild_module`.

        Only shapes matter: every value ``_build`` derives from the data
        (standardization, marginals) is overwritten by the saved state_dict.
        """
        return _template_rows(self, self.n_features_in_), None

    def _rebuild_module(self, return_criterion=False):
        """A fresh ``module_`` of the fitted architecture, built from fitted attributes.

        Its weights are placeholders for :func:`sk_ssl.load` to overwrite; the
        global torch RNG is left untouched. ``return_criterion=True`` returns
        ``(module, criterion)``, for a continued fit that lost its criterion.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            module, criterion = self._build(*self._template_fit_data())
        return (module.eval(), criterion) if return_criterion else module.eval()

    def save(self, path):
        """Write the estimator to a file that loads without running code.

        The file (a zip archive) holds the weights as a torch state_dict and
        the parameters, fitted attributes and sk_ssl version as JSON; read it
        back with :func:`sk_ssl.load`. Unlike pickle or joblib, loading such a
        file cannot execute code, so it is the format for sharing models. See
        the persistence page of the user guide for what is and is not saved.

        Parameters
        ----------
        path : str, path-like or binary file object
            Where to write; an existing file is replaced atomically (the
            file is written to a temporary file in the same directory, then
            renamed into place), so an interrupted save leaves the previous
            file intact. A file object is written in place.

        Raises
        ------
        ValueError
            When a parameter holds an object the format cannot describe
            without code (callbacks, a custom encoder class, an augmentation
            module, a callable view selector, a RandomState instance); use
            pickle or joblib for such estimators.
        """
        from ._persistence import _save  # the persistence module imports every estimator

        _save(self, path)

    def __getstate__(self):
        # Pickled state holds CPU tensors only, so a model fitted on a GPU
        # unpickles on a CPU-only machine; the live estimator is not touched.
        state = dict(super().__getstate__())
        module = state.get("module_")
        if isinstance(module, torch.nn.Module):
            device = _module_device(module)
            state["_module_device"] = str(device)
            if device.type != "cpu":
                state["module_"] = _cpu_copy(module)
        return state

    def __setstate__(self, state):
        state = dict(state)
        device = state.pop("_module_device", None)
        super().__setstate__(state)
        if device is not None:
            self.module_.to(_loading_device(device))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allow_nan
        tags.input_tags.sparse = self._accept_sparse
        tags.target_tags.required = False
        return tags


def _target_aware_targets(estimator, X, y, target_aware):
    """The targets of a target-aware pretraining fit; an error where the embedder cannot take them."""
    if y is not None or hasattr(X, "batch") or len(target_aware.targets) != getattr(X, "shape", (None,))[0]:
        raise ValueError(
            f"pretrain='target_aware' gives the pretrainer's training rows their targets, but "
            f"{type(estimator).__name__} trains on its own targets or on a data set read in batches (e.g. image "
            "files) here. Pass the rows as an array, or use pretrain=True."
        )
    return target_aware.targets


def _host_copy(state):
    """``state`` (nested dicts and lists of tensors, e.g. an optimizer state_dict) with tensors on the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {key: _host_copy(value) for key, value in state.items()}
    if isinstance(state, list):
        return [_host_copy(value) for value in state]
    return state


def _moments(X, image_shape=None, rows_per_block=None):
    """``(count, mean, M2)`` per feature (per channel for images), ignoring NaN cells.

    Computed over blocks of rows and merged, so that a large X never has a
    float64 copy made of it as a whole; a sparse X is never densified.
    """
    if _issparse(X):
        return _sparse_moments(X, image_shape)
    if hasattr(X, "moments"):  # image files: their own streaming pass (sk_ssl._images._ImageFiles)
        return X.moments()
    return _dense_moments(X, image_shape, rows_per_block)


def _cpu_copy(module):
    """A deep copy of ``module`` with every parameter and buffer on the CPU.

    Tensors are copied straight to the host (through deepcopy's memo), so the
    device never holds a second copy of the model.
    """
    memo = {}
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        cpu = tensor.detach().to("cpu", copy=True)
        is_parameter = isinstance(tensor, torch.nn.Parameter)
        memo[id(tensor)] = torch.nn.Parameter(cpu, tensor.requires_grad) if is_parameter else cpu
    return copy.deepcopy(module, memo).to("cpu")


def _unwrapped(accelerator, module):
    """The plain model behind what ``accelerator.prepare`` returned."""
    module = accelerator.unwrap_model(module, keep_fp32_wrapper=False)
    # Mixed precision patched an autocast ``forward`` onto the instance, and
    # unwrapping leaves the original bound method there: drop it, so the fitted
    # model is exactly the class's (and pickles without that attribute).
    forward = vars(module).get("forward")
    if getattr(forward, "__func__", None) is type(module).forward:
        del module.forward
    return module


@contextlib.contextmanager
def _releasing(accelerator):
    """Drop the accelerator's references to what one fit prepared.

    An ``Accelerator`` keeps every model and optimizer it prepares; the
    estimator holds the accelerator as a parameter, so without this a fitted
    estimator would pickle (and ``clone`` would deep-copy) its wrapped training
    model and optimizer state inside the accelerator. Objects prepared by the
    caller before the fit are kept.
    """
    kept = {name: list(getattr(accelerator, name, [])) for name in ("_models", "_optimizers", "_schedulers")}
    try:
        yield
    finally:
        for name, before in kept.items():
            if hasattr(accelerator, name):
                ids = {id(obj) for obj in before}
                setattr(accelerator, name, [obj for obj in getattr(accelerator, name) if id(obj) in ids])


def _class_codes(values, classes, *, name, fix):
    """Indices of ``values`` in the sorted fitted ``classes``; a clear error for a label not among them."""
    unknown = np.setdiff1d(values, classes)
    if len(unknown):
        raise ValueError(
            f"{name} has labels {unknown.tolist()} that the fitted model does not know (classes_: "
            f"{classes.tolist()}). {fix}"
        )
    return np.searchsorted(classes, values)


def _check_float32_range(X, name, input_name="X"):
    """Reject values that float32, the models' compute dtype, cannot hold (they would become inf)."""
    if X.dtype != np.float64 or not X.size or np.isnan(X).all():
        return
    limit = float(np.finfo(np.float32).max)
    largest = max(abs(float(np.nanmax(X))), abs(float(np.nanmin(X))))
    if largest > limit:
        raise ValueError(
            f"{input_name} holds values up to {largest:.3g} in magnitude, beyond float32's {limit:.3g}: {name} "
            "computes in float32, where they would become infinite. Scale "
            f"{input_name} (e.g. StandardScaler or a log transform) first."
        )


def _is_numeric_dtype(dtype):
    try:
        return np.issubdtype(np.dtype(dtype), np.number) or np.issubdtype(np.dtype(dtype), np.bool_)
    except TypeError:  # pandas extension dtypes
        return getattr(dtype, "kind", "O") in "biuf"


class EmbedderMixin(TransformerMixin):
    """``transform`` and feature names for estimators that output embeddings.

    Expects ``n_components`` and ``include_input`` parameters and a fitted
    ``module_`` with ``encode`` and ``standardize``. Also gives the embedders
    ``partial_fit``: their ``fit`` and ``partial_fit`` both go through
    :meth:`_fit_embedder`, with the estimator's ``_check_fit_input``.
    """

    _accept_sparse = True

    def partial_fit(self, X, y=None):
        """Train on one chunk of data: one epoch over it, continuing earlier calls.

        For data that does not fit in memory: call ``partial_fit`` once per
        chunk, and pass over the stream again for more epochs. The first call
        on an unfitted estimator builds the model; every later call (also one
        after ``fit``) trains it one epoch further, keeping the AdamW moments
        of earlier ``partial_fit`` calls, with a random stream
        drawn from ``random_state`` and the number of epochs so far (so a
        sequence of calls is repeatable). The feature standardization is the
        running mean and variance of all chunks seen, updated before each
        chunk is trained on. ``max_epochs``, ``early_stopping`` and
        ``warm_start`` do not apply. The model's other data-dependent parts
        (the augmentation's per-column summaries for tables) come from the
        first chunk.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            One chunk, with the features (and image shape) of the first one.
        y : None
            Ignored; present for API compatibility.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit_embedder(X, partial=True)

    def _fit_embedder(self, X, partial=False):
        """``fit`` (``partial=False``) or ``partial_fit`` of an embedder."""
        self._validate_params()
        continuing = self._continues_fit(partial)
        X = self._check_fit_input(X, reset=not continuing, continuing=continuing)
        # Without the running counts (a model read by sk_ssl.load: the file
        # holds weights, not counts) the statistics stay as they are rather
        # than jump to one chunk's.
        if partial and continuing and getattr(self, "_running_moments", None) is not None:
            self._update_standardization(X)
        self._train(X, continuing=continuing, partial=partial)
        if not continuing:
            # Statistics of the data _build standardized with, so that later
            # partial_fit chunks merge into them.
            self._running_moments = self._input_moments(X)
        return self

    def export_encoder(self):
        """A copy of the fitted encoder, for reuse in another model or estimator.

        The one public way to reuse a fitted embedder's encoder (FineTune's
        ``pretrainer`` and MIL's ``instance_encoder`` use it). The copy keeps
        the input standardization and reshape, so ``export_encoder().encode(x)``
        embeds raw flat float32 rows as ``transform`` does (without
        ``include_input``); the parts only the training objective uses
        (projection head, decoder, augmentation with its donor rows, BYOL's
        target network) are dropped. The estimator is not changed.

        Returns
        -------
        encoder : sk_ssl.models.SSLModel
            A float32 torch module on the fitted model's device, in eval mode.

        Raises
        ------
        ValueError
            When the embedder has no single encoder (``MultiViewEmbedder`` has
            one per view).
        """
        check_is_fitted(self)
        export = getattr(self.module_, "export", None)
        if export is None:
            raise ValueError(
                f"{type(self).__name__} has no single encoder to export (its module_ is a "
                f"{type(self.module_).__name__}). Use ContrastiveEmbedder, MaskedAutoencoder or PretextEmbedder."
            )
        return export().eval()

    def transform(self, X):
        """Embed X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Data of the same layout as in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components) or (n_samples, n_components + n_features)
            Encoder output (not the projection head's), followed by the
            standardized input when ``include_input=True``. Same float dtype as X.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        module = self.module_
        if not self.include_input:
            return self._map_batches(module.encode, X, dtype=X.dtype)

        def encode_and_input(x):
            # One pass, one output array: no second array to hstack.
            return torch.cat([module.encode(x), _nan_to_zero(module.standardize(module.as_input(x))).flatten(1)], dim=1)

        return self._map_batches(encode_and_input, X, dtype=X.dtype)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, used when ``include_input=True``. Defaults to
            ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``<classname>0 .. <classname>{n_components - 1}``, then the input
            names when ``include_input=True``.
        """
        check_is_fitted(self)
        input_names = _check_feature_names_in(self, input_features)
        prefix = type(self).__name__.lower()
        names = [f"{prefix}{i}" for i in range(self.n_components)]
        if self.include_input:
            names += list(input_names)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


__all__ = ["EmbedderMixin"]  # _TorchEstimatorBase is private: estimators are the API
