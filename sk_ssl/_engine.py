"""The one training engine: a skorch net specialised for self-supervised models.

Every sk_ssl estimator trains through :class:`_SSLNet`. The model's ``forward``
returns its objective's named outputs and the objective's criterion (see
:mod:`sk_ssl.objectives`) turns them into a scalar, so a new method is an
objective (a model plus a criterion), not a new loop.

What it changes from plain skorch, and why:

* batches are sliced from tensors that already sit on the training device
  (:class:`_BatchLoader`), instead of collating one sample at a time;
* batch losses are kept on the device and copied to the host once per epoch,
  so a GPU step never waits for the host;
* bf16 autocast on CUDA devices that support it;
* one hook for per-step work beyond the loss: after each optimizer step the
  engine calls the model's ``after_step()`` when it has one (e.g. BYOL's
  momentum target network, :mod:`sk_ssl.objectives.byol`);
* faults are explicit: a non-finite loss or weight stops training, restores
  the last finite weights and raises :class:`TrainingDivergedError`; an
  interrupt (Ctrl-C) keeps early stopping's best or the last completed
  epoch's weights and the estimator warns ``TrainingInterruptedWarning``.
  One default callback does it, :class:`sk_ssl._faults._FaultGuard`.

:class:`_AcceleratedSSLNet` is the same net driven by a Hugging Face
``accelerate.Accelerator`` (several GPUs for one fit).
"""

import contextlib
import itertools
import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.hf import AccelerateMixin  # imports no Hugging Face library itself

from ._faults import _FaultGuard

__all__ = []  # nothing public: estimators are the API


def _resolve_device(device):
    """Map ``"auto"`` to CUDA when available, else CPU, and check the name."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; use device='auto' or 'cpu'.")
    return resolved


def _module_device(module):
    """The device of a module's first parameter or buffer (CPU when it has none)."""
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        return tensor.device
    return torch.device("cpu")


def _loading_device(recorded):
    """Where a model saved from ``recorded`` goes on this machine: there if available, else the CPU."""
    device = torch.device(recorded)
    if device.type == "cuda" and torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count():
        return device
    if device.type == "mps" and torch.backends.mps.is_available():
        return device
    return torch.device("cpu")


class _ArrayDataset(torch.utils.data.Dataset):
    """Tensors already on the training device, sliced a whole batch at a time.

    Parameters
    ----------
    X : torch.Tensor or dict of torch.Tensor
        Inputs; a dict is passed to the model as keyword arguments.
    y : torch.Tensor or None
        Targets, if the objective has any.
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def _first(self):
        return next(iter(self.X.values())) if isinstance(self.X, dict) else self.X

    def __len__(self):
        return len(self._first())

    @property
    def device(self):
        """Where the tensors live; batch indices are moved here once per epoch."""
        return getattr(self._first(), "device", torch.device("cpu"))

    def batch(self, indices):
        if isinstance(self.X, dict):
            X = {key: value[indices.to(value.device)] for key, value in self.X.items()}
        else:
            X = self.X[indices.to(self.X.device)]
        y = None if self.y is None else self.y[indices.to(self.y.device)]
        return X, y

    def __getitem__(self, index):
        return self.batch(torch.as_tensor([index]))


def _to_device(data, device):
    """float32 tensors on ``device`` from an array, a tensor, a dict of them, or None.

    ``torch.tensor`` copies numpy input, so a read-only array (a memmap) is
    never written to.
    """
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: _to_device(value, device) for key, value in data.items()}
    if isinstance(data, torch.Tensor):
        return data.to(device)
    return torch.tensor(np.asarray(data, dtype=np.float32), device=device)


class _SubsetDataset(torch.utils.data.Dataset):
    """Rows ``indices`` of a dataset that has ``batch``; used for validation splits."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.device = getattr(dataset, "device", torch.device("cpu"))
        self.indices = indices.to(self.device)

    def __len__(self):
        return len(self.indices)

    def batch(self, indices):
        return self.dataset.batch(self.indices[indices])

    def __getitem__(self, index):
        return self.batch(torch.as_tensor([index]))


def _prefetched(dataset, index_batches):
    """The batches of ``dataset`` at ``index_batches``.

    A dataset with ``iter_batches(index_batches)`` (image files, decoded ahead
    in background workers) reads them itself, also under a subset (early
    stopping's split); any other dataset slices one ``batch(indices)`` at a time.
    """
    inner, mapped = dataset, index_batches
    while not hasattr(inner, "iter_batches") and hasattr(inner, "dataset") and hasattr(inner, "indices"):
        mapped = [inner.indices[i] for i in mapped]
        inner = inner.dataset
    if hasattr(inner, "iter_batches"):
        return inner.iter_batches(mapped)
    return (dataset.batch(indices) for indices in index_batches)


class _BatchLoader:
    """A DataLoader replacement that indexes whole batches of a ``_ArrayDataset``.

    ``drop_last`` drops the final short batch only when there is at least one
    full batch: a contrastive batch of one or two rows has almost no negatives
    and only adds noise.

    ``num_shards > 1`` (data-parallel training, one process per shard): every
    process draws the same order (same ``generator`` seed), cuts it into the
    same batches and keeps part ``shard`` of each, so the processes see
    disjoint rows and run the same number of steps.
    """

    def __init__(self, dataset, batch_size, shuffle=False, drop_last=False, generator=None, num_shards=1, shard=0):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.num_shards = num_shards
        self.shard = shard

    def _stop(self):
        n = len(self.dataset)
        if self.drop_last and n >= self.batch_size:
            return n - n % self.batch_size
        return n

    def __len__(self):
        return math.ceil(self._stop() / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        # One host-to-device copy per epoch; slicing it per batch stays on the device.
        order = order.to(getattr(self.dataset, "device", "cpu"))
        index_batches = []
        for start in range(0, self._stop(), self.batch_size):
            indices = order[start : start + self.batch_size]
            if self.num_shards > 1:
                indices = indices.tensor_split(self.num_shards)[self.shard]
            index_batches.append(indices)
        # Datasets that decode (image files) read ahead in background workers; others slice here.
        yield from _prefetched(self.dataset, index_batches)


class _EpochProgressBar(Callback):
    """One tqdm bar over epochs, showing the latest losses (``verbose=1``)."""

    def __init__(self, total, desc):
        self.total = total
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {key: f"{row[key]:.4f}" for key in ("train_loss", "valid_loss") if key in row}
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


class _SSLNet(NeuralNet):
    """skorch ``NeuralNet`` that trains a model together with its own criterion."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, y_true)

    def get_default_callbacks(self):
        # First of all: the guard sees each epoch before any callback records
        # it, stops training or touches weights.
        return [("fault_guard", _FaultGuard()), *super().get_default_callbacks()]

    @property
    def faults_(self):
        """This fit's :class:`~sk_ssl._faults._FaultGuard`."""
        return dict(self.callbacks_)["fault_guard"]

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        self._after_step()
        return step

    def _model(self):
        """The model itself, behind any DistributedDataParallel wrapper."""
        return getattr(self.module_, "module", self.module_)

    def _after_step(self):
        """The engine's per-step hook: the model's ``after_step()``, if it has one, after each optimizer step."""
        hook = getattr(self._model(), "after_step", None)
        if hook is not None:
            hook()

    def _autocast(self):
        device = torch.device(self.device)
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def infer(self, x, **fit_params):
        with self._autocast():
            return super().infer(x, **fit_params)

    def _epoch_losses(self, losses):
        """The epoch's batch losses as recorded and checked (a hook for data-parallel nets)."""
        return losses

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            # Kept on the device: one host copy per epoch, not one per batch.
            losses.append(step["loss"].detach())
            sizes.append(len(next(iter(batch[0].values()))) if isinstance(batch[0], dict) else len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        values = self._epoch_losses(torch.stack(losses).float()).cpu().numpy() if losses else np.empty(0)
        for entry, value, size in zip(self.history[-1]["batches"][-len(values) :], values, sizes):
            entry[prefix + "_loss"] = float(value)
            entry[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(values))
        if not np.all(np.isfinite(values)):
            bad = values[~np.isfinite(values)][0]
            raise self.faults_.diverged(self, f"The {prefix} loss became {bad} in epoch {len(self.history)}")

    # ------------------------------------------------------------------ faults
    def keep_start_state(self):
        """Make the current weights the fallback of a continued fit (see :class:`_FaultGuard`)."""
        self.faults_.keep_start_state(self)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except KeyboardInterrupt:
            self.faults_.interrupted(self)  # early stopping stops by raising it too
            raise

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # skorch swallows the KeyboardInterrupt, then runs on_train_end
        # (early stopping loads its best weights); what to keep is decided after.
        super().partial_fit(X, y, classes, **fit_params)
        self.faults_.keep_after_interrupt(self)
        return self


def _has_trainable_parameters(obj):
    return isinstance(obj, torch.nn.Module) and any(p.requires_grad for p in obj.parameters())


class _AcceleratedSSLNet(AccelerateMixin, _SSLNet):
    """:class:`_SSLNet` trained through a Hugging Face ``accelerate.Accelerator``.

    The accelerator owns device placement, mixed precision and, under
    ``accelerate launch``, DistributedDataParallel. What differs from skorch's
    plain ``AccelerateMixin``, and why:

    * batches come from :class:`_BatchLoader`, which is no torch
      ``DataLoader``: ``accelerator.prepare`` would hand it back unchanged and
      every process would train on every row. ``_TorchEstimatorBase._train``
      shards it instead (``num_shards``/``shard``), so the iterator is not
      prepared here;
    * the validation set is not sharded and its outputs are not gathered:
      every process computes the same full validation loss, so early stopping
      stops all of them in the same epoch (a process that stops alone leaves
      the others waiting forever in the next all-reduce), and gathering would
      put each row in a contrastive batch several times, as its own negative;
    * batch losses are averaged over the processes once per epoch, so the
      history is the same on every process and a diverged loss stops them all;
    * mixed precision is the accelerator's (``mixed_precision=``), not our own
      bf16 autocast.
    """

    def _autocast(self):
        return contextlib.nullcontext()

    def _initialize_accelerator(self):
        # A criterion without trainable parameters (most losses) needs no
        # preparing, and DistributedDataParallel refuses to wrap one.
        criteria = self._criteria
        self._criteria = [name for name in criteria if _has_trainable_parameters(getattr(self, name + "_"))]
        try:
            super()._initialize_accelerator()
        finally:
            self._criteria = criteria
        if self.accelerator.device_placement:  # skorch places nothing when device=None
            for name in criteria:
                criterion = getattr(self, name + "_")
                if isinstance(criterion, torch.nn.Module) and not _has_trainable_parameters(criterion):
                    setattr(self, name + "_", criterion.to(self.accelerator.device))
        return self

    def get_iterator(self, dataset, training=False):
        return _SSLNet.get_iterator(self, dataset, training=training)

    def evaluation_step(self, batch, training=False):
        return _SSLNet.evaluation_step(self, batch, training=training)

    def _epoch_losses(self, losses):
        return self.accelerator.reduce(losses, reduction="mean")

    def _model(self):
        return self.accelerator.unwrap_model(self.module_, keep_fp32_wrapper=True)
