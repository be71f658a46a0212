"""Training through Hugging Face Accelerate (the estimators' ``accelerator``).

Without a GPU this checks what runs on CPU: a one-process ``Accelerator(cpu=True)``
fit (it must equal the plain CPU fit), clone and pickle, the errors, and a real
two-process data-parallel fit over gloo (DDP on CPU), the same code path as
several GPUs under ``accelerate launch``.
"""

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

from sk_ssl._engine import _ArrayDataset, _BatchLoader
from sk_ssl._testing import _tested_estimator


def test_batch_loader_shards_are_disjoint_and_in_step():
    data = _ArrayDataset(torch.arange(20.0).view(20, 1))

    def batches(drop_last=True, **shards):
        generator = torch.Generator().manual_seed(0)
        loader = _BatchLoader(data, 8, shuffle=True, drop_last=drop_last, generator=generator, **shards)
        return [x.view(-1).tolist() for x, _ in loader]

    def shard(i, drop_last=True):
        return batches(drop_last, num_shards=2, shard=i)

    a, b, whole = shard(0), shard(1), batches()
    assert len(a) == len(b) == len(whole) == 2  # same number of steps on every process
    # Each global batch is split between the processes: together they see it once.
    for part_a, part_b, full in zip(a, b, whole):
        assert len(part_a) == len(part_b) == 4
        assert sorted(part_a + part_b) == sorted(full)
    # Without drop_last the short tail is split as evenly as possible.
    assert [len(x) for x in shard(0, drop_last=False)] == [4, 4, 2]
    assert [len(x) for x in shard(1, drop_last=False)] == [4, 4, 2]


accelerate = pytest.importorskip("accelerate", reason="needs the 'multigpu' extra (accelerate)")


@pytest.fixture(autouse=True)
def _fresh_accelerate_state():
    # Accelerate's state is one per process and refuses a second configuration
    # (e.g. another mixed_precision): start and leave each test without one.
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(True)
    GradientState._reset_state()


@pytest.fixture
def accelerator():
    return accelerate.Accelerator(cpu=True)


def _on(acc):
    # The plain fit runs on CPU too, also where CUDA is available; with an
    # accelerator, device stays "auto" (the accelerator decides).
    return {"accelerator": acc, "device": "auto"} if acc is not None else {"device": "cpu"}


BAGS = np.repeat(np.arange(50), 4)  # 200 rows in 50 bags of 4
# The fast configurations of sk_ssl._testing; digits rows as 8 x 8 images, early stopping on for the images.
CASES = {
    "contrastive-images": lambda acc, X: _tested_estimator(
        "ContrastiveEmbedder-images", image_shape=(1, 8, 8), early_stopping=True, **_on(acc)
    ).fit(X),
    "masked": lambda acc, X: _tested_estimator("MaskedAutoencoder", **_on(acc)).fit(X),
    "multiview": lambda acc, X: _tested_estimator("MultiViewEmbedder", **_on(acc)).fit(X),
    "mil": lambda acc, X: _tested_estimator("MILMultitaskClassifier", **_on(acc)).fit(
        X, np.arange(50) % 2, bag_ids=BAGS
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_cpu_accelerator_fit_equals_plain_fit(digits, accelerator, case):
    X = digits[0][:200]
    accelerated = CASES[case](accelerator, X)
    plain = CASES[case](None, X)
    if case == "mil":
        out, expected = accelerated.predict_proba(X, bag_ids=BAGS), plain.predict_proba(X, bag_ids=BAGS)
    else:
        out, expected = accelerated.transform(X), plain.transform(X)
    assert np.all(np.isfinite(out))
    # One process on CPU, no mixed precision: the same computation, bit for bit.
    np.testing.assert_array_equal(out, expected)
    assert accelerated.history_[:, "train_loss"] == plain.history_[:, "train_loss"]
    # The fitted model is the plain torch module, not the accelerator's wrapper.
    assert type(accelerated.module_) is type(plain.module_)


def test_accelerator_mixed_precision(digits):
    # The accelerator's bf16 autocast replaces sk_ssl's own; CPU runs it too.
    X = digits[0][:200]
    accelerator = accelerate.Accelerator(cpu=True, mixed_precision="bf16")
    est = _tested_estimator(
        "ContrastiveEmbedder-images", image_shape=(1, 8, 8), accelerator=accelerator, device="auto"
    ).fit(X)
    assert np.all(np.isfinite(est.history_[:, "train_loss"]))
    Z = est.transform(X)
    assert Z.dtype == X.dtype and np.all(np.isfinite(Z))
    # Unwrapped after training: float32 weights, the model's own forward.
    assert next(est.module_.parameters()).dtype == torch.float32
    assert "forward" not in vars(est.module_)


def test_finetune_with_accelerator(digits, accelerator):
    X, y = digits[0][:200], digits[1][:200]
    # The fast configuration: a one-epoch pretrainer, ten epochs of fine-tuning at learning_rate=1e-2.
    clf = _tested_estimator("FineTuneClassifier", accelerator=accelerator, device="auto").fit(X, y)
    assert clf.score(X, y) > 0.3  # ten classes: chance is 0.1


def test_accelerated_estimator_clones_and_pickles(digits, accelerator):
    X = digits[0][:100]
    est = _tested_estimator("ContrastiveEmbedder", accelerator=accelerator, device="auto").fit(X)
    # The accelerator keeps no reference to what the fit prepared, so neither
    # pickling nor clone drags the training model along.
    assert accelerator._models == [] and accelerator._optimizers == []
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    copy = clone(est)
    assert isinstance(copy.accelerator, accelerate.Accelerator)
    np.testing.assert_array_equal(copy.fit(X).transform(X), est.transform(X))


def test_accelerator_errors_name_the_fix(digits, accelerator):
    X = digits[0][:64]
    with pytest.raises(ValueError, match="accelerator places this process on cpu"):
        _tested_estimator("ContrastiveEmbedder", accelerator=accelerator, device="meta").fit(X)
    with pytest.raises(ValueError, match="'accelerator' parameter"):
        _tested_estimator("ContrastiveEmbedder", accelerator="cuda").fit(X)


# A standalone script for two launched processes: its estimator is spelled out so the script reads on its own.
_TWO_PROCESS_SCRIPT = """
import sys
import numpy as np
from accelerate import Accelerator
from sklearn.datasets import load_digits
from sk_ssl import ContrastiveEmbedder

X = load_digits().data[:256]
accelerator = Accelerator(cpu=True)
assert accelerator.num_processes == 2, accelerator.state
# random_state=None on purpose: the seed must come from process 0.
est = ContrastiveEmbedder(n_components=8, max_epochs=3, batch_size=32, early_stopping=True, accelerator=accelerator)
Z = est.fit_transform(X)
weights = np.concatenate([p.detach().numpy().ravel() for p in est.module_.parameters()])
np.savez(
    sys.argv[1] + f"/rank{accelerator.process_index}.npz",
    Z=Z,
    weights=weights,
    loss=est.history_[:, "train_loss"],
    steps=est.history_[:, "train_batch_count"],
)
"""


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_two_process_data_parallel_fit(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent(_TWO_PROCESS_SCRIPT))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           str(tmp_path)]  # fmt: skip
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (np.load(tmp_path / f"rank{r}.npz") for r in (0, 1))
    # DDP keeps one model: identical weights, embeddings and (averaged) losses.
    np.testing.assert_array_equal(rank0["weights"], rank1["weights"])
    np.testing.assert_array_equal(rank0["Z"], rank1["Z"])
    np.testing.assert_array_equal(rank0["loss"], rank1["loss"])
    assert np.all(np.isfinite(rank0["loss"]))
    # 230 training rows (10% held out), global batch 2 x 32: 3 steps per
    # epoch on each process, not the 7 of one process seeing everything.
    assert list(rank0["steps"]) == [3, 3, 3]
