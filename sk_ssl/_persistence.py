"""A safe file format for sk_ssl estimators: ``est.save(path)`` and :func:`load`.

Pickle and joblib rebuild any Python object a file names, so loading an
untrusted pickle can run arbitrary code. This format stores only data:

* ``sk_ssl.json``: format and sk_ssl versions, and a description of the
  estimator: its class name (looked up in an allow-list of sk_ssl's public
  estimators, never imported by name), ``get_params()`` and its fitted
  attributes as plain JSON values (nested sk_ssl estimators, such as a
  ``pretrainer``, described the same way, recursively), the device it was
  fitted on and the per-epoch training history.
* ``weights.pt``: the ``state_dict`` of each fitted estimator's ``module_``,
  read back with ``torch.load(..., weights_only=True, map_location="cpu")``,
  which reconstructs tensors and containers only.

The network is rebuilt from the fitted attributes by the estimator's own
``_rebuild_module`` (its ``_build`` on a stand-in input of the fitted layout),
then the weights are loaded into it.
"""

import contextlib
import io
import json
import os
import pickle
import tempfile
import zipfile

import numpy as np
import torch
from skorch.history import History

from ._engine import _loading_device, _module_device

__all__ = ["load"]

FORMAT_VERSION = 1
_FORMAT_NAME = "sk_ssl"
_METADATA = "sk_ssl.json"
_WEIGHTS = "weights.pt"
# Values of these kinds are stored as they are; numpy arrays, tuples, dicts,
# slices and devices get a one-key tag ({"__tuple__": [...]}).
_PLAIN = (type(None), bool, int, float, str)
# Per-epoch history entries kept in the file; per-batch records are dropped.
_HISTORY_TYPES = (bool, int, float, str, type(None))


# The allow-list: the only classes a file may name, filled by sk_ssl's
# registry of public estimators (sk_ssl/_registry.py) when the package is
# imported. Names are looked up here, never imported from a name the file gives.
_ALLOWED = {}


def _allow(classes):
    """Put ``classes`` on the allow-list (called once, by the registry)."""
    _ALLOWED.update({cls.__name__: cls for cls in classes})


def _estimator_classes():
    """The allow-list: every estimator a file may name, by class name."""
    return dict(_ALLOWED)


def _version():
    from . import __version__

    return __version__


# ------------------------------------------------------------------ writing
class _Writer:
    """Collects the weights of every estimator met while describing one."""

    def __init__(self):
        self.weights = {}
        self.refs = {}  # id(estimator) -> its reference in the file
        self.alive = []  # keeps described objects alive so their ids stay unique

    def estimator(self, est, where):
        if id(est) in self.refs:  # the same object again (e.g. pretrainer_ is pretrainer)
            return {"__ref__": self.refs[id(est)]}
        name = type(est).__name__
        if _estimator_classes().get(name) is not type(est):
            raise ValueError(
                f"{where} is a {type(est).__module__}.{name}, which is not one of sk_ssl's estimators "
                f"({sorted(_estimator_classes())}); the safe format stores only those. " + _USE_PICKLE
            )
        ref = str(len(self.refs))
        self.refs[id(est)] = ref
        self.alive.append(est)
        params = {
            key: self.value(value, f"{name} parameter {key!r}") for key, value in est.get_params(deep=False).items()
        }
        entry = {"__estimator__": name, "ref": ref, "params": params, "fitted": None}
        module = getattr(est, "module_", None)
        if module is not None:
            attributes = {
                key: self.value(value, f"{name} attribute {key!r}")
                for key, value in vars(est).items()
                if key.endswith("_") and not key.startswith("_") and key not in ("module_", "history_")
            }
            self.weights[ref] = {key: tensor.detach().cpu() for key, tensor in module.state_dict().items()}
            entry["fitted"] = {
                "attributes": attributes,
                "device": str(_module_device(module)),
                "history": _history_records(getattr(est, "history_", None)),
            }
        return entry

    def value(self, value, where):
        if isinstance(value, np.generic) and value.dtype.kind in "biufU":  # before float: np.float64 is one
            return {"__scalar__": [value.dtype.str, value.item()]}
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, list):
            return [self.value(v, where) for v in value]
        if isinstance(value, tuple):
            return {"__tuple__": [self.value(v, where) for v in value]}
        if isinstance(value, dict):
            return {"__dict__": [[self.value(k, where), self.value(v, where)] for k, v in value.items()]}
        if isinstance(value, slice):
            return {"__slice__": [self.value(v, where) for v in (value.start, value.stop, value.step)]}
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufUO":
            data = value.ravel().tolist()
            if value.dtype.kind == "O" and not all(isinstance(v, _PLAIN) for v in data):
                raise ValueError(f"{where} is an object array holding non-plain values. " + _USE_PICKLE)
            return {"__ndarray__": {"dtype": value.dtype.str, "shape": list(value.shape), "data": data}}
        if isinstance(value, tuple(_ALLOWED.values())):  # subclasses too: refused by name in estimator()
            return self.estimator(value, where)
        if isinstance(value, torch.nn.Module) and where.endswith("parameter 'encoder'"):
            raise ValueError(
                f"{where} is your own torch module ({type(value).__name__}): the safe format stores weights but "
                "cannot rebuild a module's architecture without running its code. " + _USE_PICKLE + " Or keep "
                "the code and the weights apart: torch.save(est.module_.encoder.state_dict(), path)."
            )
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise ValueError(
            f"{where} holds {shown} ({type(value).__name__}), which the safe format cannot store: it keeps plain "
            "values, arrays and sk_ssl estimators only, never code (callbacks, classes, modules, functions, "
            "random generators). Set it to None or a plain value with set_params (e.g. callbacks=None, "
            "accelerator=None, random_state=0) before saving, or " + _USE_PICKLE[0].lower() + _USE_PICKLE[1:]
        )


_USE_PICKLE = (
    "Use pickle or joblib instead (joblib.dump(est, path)); load such files only from sources you trust, since "
    "unpickling can run arbitrary code."
)


def _history_records(history):
    """Per-epoch records (losses, durations, flags) as JSON values; per-batch records are dropped."""
    if history is None:
        return None
    records = []
    for epoch in history:
        record = {}
        for key, value in epoch.items():
            value = value.item() if isinstance(value, np.generic) else value
            if key != "batches" and isinstance(value, _HISTORY_TYPES):
                record[key] = value
        records.append(record)
    return records


def _save(estimator, path):
    """Write ``estimator`` to ``path``; see :meth:`_TorchEstimatorBase.save`."""
    writer = _Writer()
    description = writer.estimator(estimator, type(estimator).__name__)
    metadata = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sk_ssl_version": _version(),
        "torch_version": torch.__version__,
        "estimator": description,
    }
    buffer = io.BytesIO()
    torch.save(writer.weights, buffer)
    if not isinstance(path, (str, os.PathLike)):  # a file object: written in place
        _write_archive(path, metadata, buffer)
        return
    # Atomic: write a temporary file beside the target, then rename it into
    # place, so an interrupted save (an error, a full disk, a killed process)
    # never leaves a half-written file where the previous one was.
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            _write_archive(file, metadata, buffer)
            file.flush()
            os.fsync(file.fileno())
        if os.path.exists(path):  # keep the permissions of the file being replaced
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        else:  # mkstemp creates 0o600; a new file gets the usual umask-based mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _write_archive(file, metadata, weights):
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(_METADATA, json.dumps(metadata, indent=1), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(_WEIGHTS, weights.getvalue())


# ------------------------------------------------------------------ reading
class _CorruptFile(ValueError):
    """The file is not an sk_ssl model file, or is damaged."""


class _VersionMismatch(ValueError):
    """The file was written by another sk_ssl or file-format version."""


class _Reader:
    def __init__(self, weights):
        self.weights = weights
        self.estimators = {}  # reference -> loaded estimator

    def estimator(self, entry):
        name = entry["__estimator__"]
        cls = _estimator_classes().get(name)
        if cls is None:
            known = sorted(_estimator_classes())
            raise _CorruptFile(f"it names the estimator class {name!r}, which is not one of {known}")
        params = {key: self.value(value) for key, value in entry["params"].items()}
        try:
            est = cls(**params)
        except TypeError as exc:
            raise _CorruptFile(f"its parameters do not fit {name}: {exc}") from exc
        self.estimators[entry["ref"]] = est
        fitted = entry["fitted"]
        if fitted is not None:
            for key, value in fitted["attributes"].items():
                setattr(est, key, self.value(value))
            module = est._rebuild_module()
            _load_state_dict(module, self.weights[entry["ref"]], name)
            est.module_ = module.to(_loading_device(fitted["device"])).eval()
            est.history_ = History(fitted["history"] or [])
        return est

    def value(self, value):
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 and "__estimator__" not in value:
            raise _CorruptFile(f"it holds an unknown value {value!r:.80}")
        if "__estimator__" in value:
            return self.estimator(value)
        (tag, content), = value.items()
        if tag == "__ref__":
            return self.estimators[content]
        if tag == "__tuple__":
            return tuple(self.value(v) for v in content)
        if tag == "__dict__":
            return {self.value(k): self.value(v) for k, v in content}
        if tag == "__slice__":
            return slice(*(self.value(v) for v in content))
        if tag == "__device__":
            return torch.device(content)
        if tag == "__scalar__":
            return np.dtype(content[0]).type(content[1])
        if tag == "__ndarray__":
            dtype = np.dtype(content["dtype"])
            if dtype.kind not in "biufUO":
                raise _CorruptFile(f"it holds an array of unsupported dtype {dtype}")
            if dtype.kind == "O":
                array = np.empty(len(content["data"]), dtype=object)
                array[:] = content["data"]
            else:
                array = np.asarray(content["data"], dtype=dtype)
            return array.reshape(content["shape"])
        raise _CorruptFile(f"it holds an unknown value tag {tag!r}")


def _upgrade_0_1_marginals(module, state):
    """A 0.1.0 file keeps the corruption's training rows: SCARF's ``*.marginals`` (n_rows x n_features), VIME's
    ``*.pool`` (each column's observed values first) with ``*.counts``. Summarize them the way today's corruption
    does (``sk_ssl._marginals``), so the file loads; only training draws read them."""
    from ._marginals import _ColumnMarginals
    from .augment import TabularCorruption

    for key in [k for k, v in state.items() if k.rpartition(".")[2] in ("marginals", "pool") and v.ndim == 2]:
        prefix = key.rpartition(".")[0]
        owner = module.get_submodule(prefix)
        if not isinstance(getattr(owner, "marginals", None), _ColumnMarginals):
            continue
        rows = state.pop(key).float()
        if key.endswith(".pool"):  # rows past a column's count of observed values are padding: NaN, not drawn
            counts = state.pop(f"{prefix}.counts")
            rows[torch.arange(len(rows))[:, None] >= counts[None, :]] = float("nan")
        owner.marginals = _ColumnMarginals(rows, owner.marginals.values.shape[1],
                                           keep_missing=isinstance(owner, TabularCorruption))  # fmt: skip
        state.update({f"{prefix}.marginals.{k}": v for k, v in owner.marginals.state_dict().items()})


def _load_state_dict(module, state, name):
    """Load ``state`` into ``module``; a buffer whose shape differs from the rebuilt one takes the saved shape."""
    _upgrade_0_1_marginals(module, state)
    buffers = dict(module.named_buffers())
    for key, tensor in state.items():
        owner, _, attr = key.rpartition(".")
        if key in buffers and buffers[key].shape != tensor.shape:
            module.get_submodule(owner).register_buffer(attr, torch.empty_like(tensor))
        elif key not in buffers and attr == "missing" and owner.endswith("marginals"):
            # Column summaries keep a share of missing cells only where the training rows had NaN, which
            # the stand-in rows of the rebuild need not reproduce (sk_ssl._marginals).
            with contextlib.suppress(AttributeError):
                module.get_submodule(owner).register_buffer(attr, torch.empty_like(tensor))
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise _CorruptFile(f"its weights do not match the {name} network rebuilt from its attributes: {exc}") from exc


def load(path):
    """Load an estimator written by ``est.save(path)``, without running code from the file.

    The estimator class is looked up in an allow-list of sk_ssl's estimators,
    parameters and fitted attributes are read from JSON, and the weights with
    ``torch.load(weights_only=True)``. A fitted model goes on the device it
    was fitted on when this machine has it, else on the CPU.

    Parameters
    ----------
    path : str, path-like or binary file object
        A file written by :meth:`ContrastiveEmbedder.save` (or the ``save`` of
        any sk_ssl estimator).

    Returns
    -------
    estimator : sk_ssl estimator
        Fitted if it was fitted when saved; it predicts as the saved one did
        and can be refitted.

    Raises
    ------
    ValueError
        When the file was written by another sk_ssl version or file-format
        version (the message names both), or is not an sk_ssl file or is
        damaged.

    Examples
    --------
    >>> import numpy as np
    >>> import sk_ssl
    >>> X = np.random.RandomState(0).normal(size=(60, 5))
    >>> emb = sk_ssl.ContrastiveEmbedder(n_components=8, max_epochs=2, random_state=0).fit(X)
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "embedder.skssl")
    >>> emb.save(path)
    >>> loaded = sk_ssl.load(path)
    >>> bool(np.array_equal(loaded.transform(X), emb.transform(X)))
    True
    """
    where = str(getattr(path, "name", path))
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(_METADATA))
            if not isinstance(metadata, dict) or metadata.get("format") != _FORMAT_NAME:
                raise _CorruptFile(f"{_METADATA} does not describe an sk_ssl estimator")
            _check_versions(metadata, where)
            weights = torch.load(io.BytesIO(archive.read(_WEIGHTS)), weights_only=True, map_location="cpu")
        if not isinstance(weights, dict):
            raise _CorruptFile(f"{_WEIGHTS} does not hold state_dicts")
        return _Reader(weights).estimator(metadata["estimator"])
    except _VersionMismatch:
        raise
    except _CorruptFile as exc:
        raise ValueError(f"'{where}' is not a valid sk_ssl model file: {exc}.") from exc
    except (
        zipfile.BadZipFile,
        pickle.UnpicklingError,
        ValueError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        AttributeError,
        RuntimeError,
        EOFError,
    ) as exc:
        raise ValueError(
            f"'{where}' is not a valid sk_ssl model file (written by est.save): it is damaged or of another kind "
            f"({type(exc).__name__}: {exc})."
        ) from exc


def _check_versions(metadata, where):
    file_format, file_version = metadata.get("format_version"), metadata.get("sk_ssl_version")
    if file_format != FORMAT_VERSION:
        raise _VersionMismatch(
            f"'{where}' uses sk_ssl file format version {file_format} (written by sk_ssl {file_version}), but this "
            f"sk_ssl {_version()} reads format version {FORMAT_VERSION}. Load it with sk_ssl {file_version}."
        )
    if file_version != _version():
        raise _VersionMismatch(
            f"'{where}' was written by sk_ssl {file_version}, but this is sk_ssl {_version()}. Models are only "
            f"loaded by the version that saved them: load it with sk_ssl {file_version}, or refit it here."
        )
