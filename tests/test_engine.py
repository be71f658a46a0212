import numpy as np
import pytest
import torch

from sk_ssl._engine import _ArrayDataset, _BatchLoader


def test_batch_loader_drops_only_a_short_tail():
    data = _ArrayDataset(torch.arange(10.0).view(10, 1))
    sizes = [len(x) for x, _ in _BatchLoader(data, 4, drop_last=True)]
    assert sizes == [4, 4]
    # Fewer samples than one batch: keep them all rather than train on nothing.
    assert [len(x) for x, _ in _BatchLoader(data, 32, drop_last=True)] == [10]
    assert [len(x) for x, _ in _BatchLoader(data, 4)] == [4, 4, 2]
    assert len(_BatchLoader(data, 4, drop_last=True)) == 2


def test_batch_loader_shuffles_with_its_generator_and_covers_everything():
    data = _ArrayDataset(torch.arange(12.0).view(12, 1), torch.arange(12.0))
    order_a = torch.cat([x for x, _ in _BatchLoader(data, 5, shuffle=True, generator=torch.Generator().manual_seed(0))])
    order_b = torch.cat([x for x, _ in _BatchLoader(data, 5, shuffle=True, generator=torch.Generator().manual_seed(0))])
    assert torch.equal(order_a, order_b)
    assert sorted(order_a.view(-1).tolist()) == list(range(12))
    assert not torch.equal(order_a.view(-1), torch.arange(12.0))
    x, y = next(iter(_BatchLoader(data, 5, shuffle=True, generator=torch.Generator().manual_seed(1))))
    assert torch.equal(x.view(-1), y)  # rows and targets stay paired


def test_dict_inputs_are_sliced_together():
    data = _ArrayDataset({"a": torch.arange(6.0), "b": torch.arange(6.0) * 10})
    batch, _ = next(iter(_BatchLoader(data, 3, shuffle=True, generator=torch.Generator().manual_seed(0))))
    assert torch.equal(batch["a"] * 10, batch["b"])


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (CI has none)")


@requires_cuda
@pytest.mark.parametrize("image_shape", [None, (1, 8, 8)], ids=["tabular", "image"])
def test_cuda_fit_runs_on_the_device_with_bf16_autocast(digits, image_shape):
    from sk_ssl import ContrastiveEmbedder

    X, _ = digits
    emb = ContrastiveEmbedder(image_shape=image_shape, max_epochs=2, random_state=0, device="cuda").fit(X[:512])
    assert next(emb.module_.parameters()).is_cuda
    assert all(np.isfinite(row["train_loss"]) for row in emb.history_)
    Z = emb.transform(X[:512])
    assert Z.shape == (512, 256) and np.isfinite(Z).all()


def test_auto_device_is_cuda_only_when_available():
    from sk_ssl._engine import _resolve_device

    assert _resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert _resolve_device("cpu").type == "cpu"
