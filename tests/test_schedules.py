"""The papers' schedules of the momentum-teacher objectives: cosine momentum to 1.0, DINO's teacher warm-up."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sk_ssl import ContrastiveEmbedder
from sk_ssl.objectives._schedules import cosine_momentum, horizon, teacher_temperature
from sk_ssl.objectives.dino import DINOLoss, dino_loss

FAST = dict(image_shape=(1, 8, 8), max_epochs=2, batch_size=64, n_components=16, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


class _Record(Callback):
    """After each batch: the momentum the step used and the number of steps the model counted.

    The estimator fits a copy of its callbacks, so the record lives on the class (reset per instance).
    """

    momenta, steps = [], []

    def __init__(self):
        type(self).momenta.clear()
        type(self).steps.clear()

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            model = net.module_
            type(self).momenta.append(model.current_momentum())
            type(self).steps.append(model.steps)


def test_cosine_momentum_rises_monotonically_from_base_to_one():
    values = [cosine_momentum(0.99, step, 50) for step in range(61)]
    assert values[0] == 0.99 and values[50] == 1.0 and values[60] == 1.0
    assert all(b > a for a, b in zip(values[:50], values[1:51]))  # strictly rising until the horizon
    assert cosine_momentum(0.99, 25, 50) == pytest.approx(0.995)  # half way: half the gap
    assert cosine_momentum(0.99, 3, 0) == 0.99  # no horizon: the base


def test_teacher_temperature_warms_up_linearly_then_stays():
    values = [teacher_temperature(step, 100) for step in range(101)]
    assert values[0] == pytest.approx(0.04)
    assert values[15] == pytest.approx(0.055)  # half of the 30-step warm-up
    assert all(v == pytest.approx(0.07) for v in values[30:])
    assert all(b >= a for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("objective", ["byol", "moco_v2", "moco_v3", "dino"])
def test_paper_schedule_momentum_rises_to_one_over_the_fit(small_digits, objective):
    X, _ = small_digits
    record = _Record()
    emb = ContrastiveEmbedder(objective=objective, schedule="paper", callbacks=[record], **FAST).fit(X)
    model = emb.module_
    assert emb.schedule_ == "paper"
    assert model.horizon == FAST["max_epochs"] * (len(X) // FAST["batch_size"]) == len(record.momenta)
    assert record.steps == list(range(1, model.horizon + 1))
    assert all(b > a for a, b in zip(record.momenta, record.momenta[1:]))
    assert record.momenta[0] > model.momentum and record.momenta[-1] == 1.0


def test_last_scheduled_step_leaves_the_target_unchanged(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective="byol", schedule="paper", **FAST).fit(X)
    model = emb.module_
    before = [p.clone() for p in model.target_encoder.parameters()]
    model.after_step()  # past the horizon: momentum 1.0, the target is frozen
    assert all(torch.equal(a, b) for a, b in zip(before, model.target_encoder.parameters()))


def test_auto_keeps_the_constant_momentum(small_digits):
    X, _ = small_digits
    record = _Record()
    emb = ContrastiveEmbedder(objective="byol", callbacks=[record], **FAST).fit(X)
    assert emb.schedule_ == "constant" and set(record.momenta) == {0.99}


def test_dino_teacher_temperature_follows_the_schedule(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective="dino", schedule="paper", **{**FAST, "max_epochs": 1}).fit(X)
    model = emb.module_.train()
    x = torch.as_tensor(X[:8], dtype=torch.float32)
    for step, expected in [(0, 0.04), (1, 0.04 + 0.03 / (0.3 * model.horizon)), (model.horizon, 0.07)]:
        model.steps = step
        with torch.no_grad():
            out = model(x)
        assert float(out["teacher_temperature"]) == pytest.approx(expected)
        # The loss reads the scheduled temperature, not its constant default.
        expected_loss = dino_loss(out["student"], out["teacher"], out["center"], 0.1, expected)
        torch.testing.assert_close(DINOLoss()(out), expected_loss)
    model.schedule = "constant"
    assert "teacher_temperature" not in model(x)


def test_paper_schedule_needs_a_momentum_objective(small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="schedule='paper'.*objective='simclr' has none"):
        ContrastiveEmbedder(objective="simclr", schedule="paper", **FAST).fit(X)
    emb = ContrastiveEmbedder(objective="simclr", schedule="constant", **{**FAST, "max_epochs": 1}).fit(X)
    assert emb.schedule_ is None


def test_horizon_counts_full_batches_of_every_epoch():
    emb = ContrastiveEmbedder(max_epochs=7, batch_size=64)
    assert horizon(emb, np.zeros((300, 4))) == 7 * 4
    assert horizon(emb, np.zeros((10, 4))) == 7  # fewer rows than a batch: one step per epoch


def test_hybrid_takes_the_schedule_of_its_contrastive_part():
    X = np.random.RandomState(0).normal(size=(200, 6))
    params = dict(schedule="paper", max_epochs=1, batch_size=64, n_components=8, random_state=0, device="cpu")
    emb = ContrastiveEmbedder(objective=("byol", "vime"), **params).fit(X)
    first = emb.module_.first
    assert emb.schedule_ == "paper" and first.horizon == first.steps == 3 and first.current_momentum() == 1.0
    with pytest.raises(ValueError, match="schedule='paper'"):
        ContrastiveEmbedder(objective=("scarf", "vime"), **params).fit(X)
