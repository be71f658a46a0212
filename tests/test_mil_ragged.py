"""Packed (ragged) MIL batches: segment ops give the padded path's results.

The padded form (``pooling(h (B, L, D), mask (B, L))``, each pooling's own
``forward``) is the reference; the packed path (``sk_ssl._ragged``) must give
the same pooled vectors, weights and gradients to 1e-5, and a bag's output must
not depend on the other bags of its batch.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sk_ssl._ragged import _pool, _Segments
from sk_ssl.encoders import AttentionPooling, DualStreamPooling, MaxPooling, MeanPooling, SelfAttentionPooling
from sk_ssl.mil import _BagDataset, _SparseBagDataset

LENGTHS = [3, 1, 7, 2, 5]
POOLINGS = {
    "attention": lambda: AttentionPooling(8, 6),
    "gated_attention": lambda: AttentionPooling(8, 6, gated=True),
    "mean": MeanPooling,
    "max": MaxPooling,
    "transformer": lambda: SelfAttentionPooling(8, n_heads=2),
    "dsmil": lambda: DualStreamPooling(8, n_logits=2, query_features=6),
}


def _padded_reference(pooling, h, lengths):
    """The padded path, written out: pad to (B, L, D) with a mask, call the pooling's forward."""
    longest = max(lengths)
    padded = torch.zeros(len(lengths), longest, h.shape[1], dtype=h.dtype)
    mask = torch.zeros(len(lengths), longest, dtype=torch.bool)
    for i, part in enumerate(torch.split(h, lengths)):
        padded[i, : len(part)] = part
        mask[i, : len(part)] = True
    pooled, weights = pooling(padded, mask)
    return pooled, weights[mask]


@pytest.mark.parametrize("name", list(POOLINGS))
def test_packed_pooling_matches_padded_pooling(name):
    torch.manual_seed(0)
    pooling = POOLINGS[name]().eval()
    h = torch.randn(sum(LENGTHS), 8, dtype=torch.float64, requires_grad=True)
    pooling = pooling.double()
    segments = _Segments(torch.tensor(LENGTHS))
    pooled, weights = _pool(pooling, h, segments)
    (grad,) = torch.autograd.grad((pooled * torch.arange(pooled.numel()).view_as(pooled)).sum(), h)
    ref_pooled, ref_weights = _padded_reference(pooling, h, LENGTHS)
    (ref_grad,) = torch.autograd.grad((ref_pooled * torch.arange(pooled.numel()).view_as(pooled)).sum(), h)
    assert pooled.shape[0] == len(LENGTHS) and weights.shape == (sum(LENGTHS),)
    torch.testing.assert_close(pooled, ref_pooled, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.double(), ref_weights.double(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad, ref_grad, atol=1e-5, rtol=1e-5)
    # Weights are per bag distributions.
    sums = torch.zeros(len(LENGTHS), dtype=torch.float64).index_add(0, segments.index, weights.double())
    torch.testing.assert_close(sums, torch.ones(len(LENGTHS), dtype=torch.float64))


def test_segment_softmax_is_stable_and_per_bag():
    segments = _Segments(torch.tensor([2, 3]))
    scores = torch.tensor([1e4, 1e4 - 1.0, -1e4, -1e4, -1e4 + 2.0])
    weights = segments.softmax(scores)
    assert torch.isfinite(weights).all()
    expected = torch.cat([torch.softmax(scores[:2], 0), torch.softmax(scores[2:], 0)])
    torch.testing.assert_close(weights, expected)


def test_segments_pad_and_unpad_round_trip():
    segments = _Segments(torch.tensor([2, 1, 3]))
    rows = torch.arange(6.0).view(6, 1)
    padded = segments.pad(rows)
    assert padded.shape == (3, 3, 1)
    assert segments.mask.tolist() == [[True, True, False], [True, False, False], [True, True, True]]
    assert padded[:, :, 0].tolist() == [[0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [3.0, 4.0, 5.0]]
    assert torch.equal(segments.unpad(padded), rows)


@pytest.mark.parametrize("pooling", ["attention", "gated_attention", "mean", "max", "instance_max", "transformer",
                                     "dsmil"])  # fmt: skip
def test_bag_outputs_do_not_depend_on_the_batch(pooling):
    """A fitted model scores a bag the same alone and packed among bags of other sizes."""
    from sk_ssl import MILMultitaskClassifier

    rng = np.random.RandomState(0)
    bags = [rng.normal(size=(n, 5)) for n in (4, 1, 9, 2, 6, 3)]
    y = np.array([0, 1, 0, 1, 1, 0])
    clf = MILMultitaskClassifier(pooling=pooling, n_components=8, hidden_dims=(16,), attention_dim=8, max_epochs=2,
                                 batch_size=4, device="cpu", random_state=0).fit(bags, y)  # fmt: skip
    together = clf.decision_function(bags)
    alone = np.array([clf.decision_function([bag])[0] for bag in bags])
    np.testing.assert_allclose(together, alone, atol=1e-5, rtol=1e-5)
    weights_together = clf.instance_weights(bags)
    for bag, w in zip(bags, weights_together):
        np.testing.assert_allclose(w, clf.instance_weights([bag])[0], atol=1e-5, rtol=1e-5)


def test_sparse_and_dense_datasets_pack_the_same_rows():
    rng = np.random.RandomState(0)
    dense = rng.binomial(1, 0.3, size=(11, 4)).astype(np.float32)
    lengths = [2, 5, 1, 3]
    indices = torch.tensor([3, 0, 2])
    X_dense, _ = _BagDataset(torch.from_numpy(dense), lengths).batch(indices)
    X_sparse, _ = _SparseBagDataset(sp.csr_matrix(dense), lengths).batch(indices)
    assert X_dense["lengths"].tolist() == X_sparse["lengths"].tolist() == [3, 2, 1]
    torch.testing.assert_close(X_dense["instances"], X_sparse["instances"])
    torch.testing.assert_close(X_dense["instances"], torch.from_numpy(dense[[8, 9, 10, 0, 1, 7]]))


def test_host_slices_and_device_gather_pack_the_same_batches():
    """On the CPU a batch concatenates its bags' slices; the gather used on accelerators gives the same rows."""
    rng = np.random.RandomState(0)
    lengths = rng.randint(1, 9, size=30)
    instances = torch.from_numpy(rng.normal(size=(lengths.sum(), 3)).astype(np.float32))
    sliced = _BagDataset(instances, lengths, torch.arange(30.0))
    gathered = _BagDataset(instances, lengths, torch.arange(30.0))
    gathered._bounds = None  # the accelerator path: one index_select
    assert sliced._bounds is not None
    generator = torch.Generator().manual_seed(0)
    for size in (1, 4, 16, 30):
        indices = torch.randperm(30, generator=generator)[:size]
        (X_s, y_s), (X_g, y_g) = sliced.batch(indices), gathered.batch(indices)
        assert torch.equal(X_s["lengths"], X_g["lengths"]) and torch.equal(y_s, y_g)
        assert torch.equal(X_s["instances"], X_g["instances"])
        expected = np.concatenate([np.split(instances.numpy(), np.cumsum(lengths)[:-1])[i] for i in indices.tolist()])
        np.testing.assert_array_equal(X_s["instances"].numpy(), expected)
    # A batch is a copy: the model may write to it without touching the training instances.
    no_bags = torch.tensor([], dtype=torch.long)
    assert sliced.batch(no_bags)[0]["instances"].shape == gathered.batch(no_bags)[0]["instances"].shape == (0, 3)
    before = instances.clone()
    for indices in (torch.tensor([4]), torch.tensor([4, 7])):
        X, _ = sliced.batch(indices)
        X["instances"].zero_()
        assert torch.equal(sliced.instances, before)
