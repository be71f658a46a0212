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
