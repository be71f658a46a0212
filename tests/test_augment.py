import numpy as np
import pytest
import torch

from sk_ssl.augment import ImageAugmentation, TabularCorruption


def test_tabular_corruption_replaces_exactly_k_features_from_marginals():
    torch.manual_seed(0)
    # Distinct values per column: any change is visible, and every replacement
    # must come from the same column of the training rows.
    marginals = torch.arange(200.0).view(20, 10) + 1000 * torch.arange(10.0)
    x = -torch.ones(64, 10)
    out = TabularCorruption(marginals, corruption_rate=0.6)(x)
    changed = out != x
    assert torch.all(changed.sum(1) == 6)
    for j in range(10):
        assert set(out[changed[:, j], j].tolist()) <= set(marginals[:, j].tolist())


def test_tabular_corruption_rate_zero_is_identity():
    x = torch.randn(4, 3)
    assert torch.equal(TabularCorruption(x, 0.0)(x), x)


def test_image_augmentation_is_seeded_and_keeps_shape():
    x = torch.rand(8, 3, 16, 16)
    aug = ImageAugmentation(flip_prob=0.5, blur_prob=0.5)
    torch.manual_seed(0)
    a = aug(x)
    torch.manual_seed(0)
    b = aug(x)
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.allclose(a, x)


def test_full_crop_with_flip_mirrors_the_image():
    x = torch.rand(2, 1, 6, 6)
    aug = ImageAugmentation(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_prob=1.0, jitter_prob=0.0)
    torch.testing.assert_close(aug(x), x.flip(-1))


def test_identity_settings_leave_images_unchanged():
    x = torch.rand(3, 3, 8, 8)
    aug = ImageAugmentation(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), jitter_prob=0.0, grayscale_prob=0.0)
    torch.testing.assert_close(aug(x), x)


def test_grayscale_makes_channels_equal():
    x = torch.rand(4, 3, 8, 8)
    aug = ImageAugmentation(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), jitter_prob=0.0, grayscale_prob=1.0)
    out = aug(x)
    torch.testing.assert_close(out[:, 0], out[:, 1])
    torch.testing.assert_close(out[:, 0], (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1))


def test_marginal_masking_draws_observed_values_of_the_same_column():
    from sk_ssl.augment import MarginalMasking

    torch.manual_seed(0)
    marginals = torch.arange(200.0).view(20, 10) + 1000 * torch.arange(10.0)
    marginals[::2, 3] = float("nan")  # never drawn
    masking = MarginalMasking(marginals, mask_ratio=0.3)
    x = -torch.ones(2000, 10)
    x[:5, 7] = float("nan")
    out, mask = masking(x)
    assert not torch.isnan(out).any()
    assert mask[:5, 7].all()  # missing cells always count as masked
    assert torch.equal(out[~mask], x[~mask])
    assert abs(mask[5:].float().mean().item() - 0.3) < 0.02
    for j in range(10):
        observed = marginals[:, j][~torch.isnan(marginals[:, j])]
        assert set(out[mask[:, j], j].tolist()) <= set(observed.tolist())


def test_marginal_masking_rejects_an_unobserved_column():
    from sk_ssl.augment import MarginalMasking

    with pytest.raises(ValueError, match="all-NaN columns"):
        MarginalMasking(torch.tensor([[1.0, float("nan")], [2.0, float("nan")]]))


@pytest.mark.parametrize("shape, block, n_masked", [((1, 8, 8), 2, 10), ((3, 28, 28), 7, 10), ((1, 1, 5), 1, 3)])
def test_block_masking_hides_whole_blocks_at_the_ratio(shape, block, n_masked):
    from sk_ssl.augment import BlockMasking

    torch.manual_seed(0)
    masking = BlockMasking(shape, mask_ratio=0.6)
    assert masking.block_size == block
    mask = masking(16)
    assert mask.shape == (16, 1, *shape[1:]) and mask.dtype == torch.bool
    blocks = mask[:, :, ::block, ::block]
    # Every block is all-masked or all-visible, and each image has n_masked of them.
    torch.testing.assert_close(mask, blocks.repeat_interleave(block, 2).repeat_interleave(block, 3)[..., : shape[1], : shape[2]])
    assert torch.all(blocks.flatten(1).sum(1) == n_masked)
    assert not torch.equal(mask[0], mask[1])


def test_column_summaries_draw_from_each_marginal():
    from sk_ssl._marginals import _ColumnMarginals

    rng = np.random.RandomState(0)
    n = 20_000
    X = np.column_stack([
        rng.lognormal(size=n),  # continuous, skewed: quantiles
        rng.uniform(size=n) < 0.3,  # binary: exact frequencies
        rng.poisson(3.0, size=n),  # counts: exact distinct values
    ]).astype(np.float64)
    X[::10, 0] = np.nan  # ignored
    marginals = _ColumnMarginals(X)
    assert marginals.values.shape == (3, 128) and marginals.discrete.tolist() == [0.0, 1.0, 1.0]
    torch.manual_seed(0)
    drawn = marginals.sample(n).numpy()
    assert drawn.shape == (n, 3) and drawn.dtype == np.float32 and np.isfinite(drawn).all()
    observed = np.sort(X[:, 0][~np.isnan(X[:, 0])])
    # Kolmogorov-Smirnov distance between drawn and training values of the continuous column.
    grid = np.quantile(observed, np.linspace(0.001, 0.999, 500))
    ks = np.abs(np.searchsorted(np.sort(drawn[:, 0]), grid) / n - np.searchsorted(observed, grid) / len(observed))
    assert ks.max() < 0.02
    assert observed[0] not in marginals.values[0] and observed[-1] not in marginals.values[0]  # no exact extremes
    assert abs(drawn[:, 1].mean() - X[:, 1].mean()) < 0.015 and set(np.unique(drawn[:, 1])) == {0.0, 1.0}
    assert set(np.unique(drawn[:, 2])) <= set(np.unique(X[:, 2]))
    for value in range(6):
        assert abs((drawn[:, 2] == value).mean() - (X[:, 2] == value).mean()) < 0.015


def test_column_summaries_do_not_grow_with_the_rows():
    from sk_ssl._marginals import _ColumnMarginals

    rng = np.random.RandomState(0)
    small, large = _ColumnMarginals(rng.normal(size=(300, 4))), _ColumnMarginals(rng.normal(size=(30_000, 4)))
    assert [b.shape for b in small.buffers()] == [b.shape for b in large.buffers()]
