import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sk_ssl.losses import InfoNCELoss, NTXentLoss, info_nce, nt_xent


def _nt_xent_reference(a, b, t):
    """Per-anchor loop, straight from the SimCLR paper's definition."""
    z = F.normalize(torch.cat([a, b]), dim=1)
    n, total = len(a), 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        sims = torch.stack([z[i] @ z[k] / t for k in range(2 * n) if k != i])
        pos = z[i] @ z[j] / t
        total += -(pos - torch.logsumexp(sims, 0))
    return total / (2 * n)


def test_nt_xent_matches_definition():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    torch.testing.assert_close(nt_xent(a, b, 0.5), _nt_xent_reference(a, b, 0.5))


def test_info_nce_is_cross_entropy_over_rows():
    g = torch.Generator().manual_seed(1)
    a, p = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    logits = F.normalize(a, dim=1) @ F.normalize(p, dim=1).T / 0.7
    expected = -torch.log_softmax(logits, dim=1).diagonal().mean()
    torch.testing.assert_close(info_nce(a, p, 0.7), expected)


def test_aligned_views_score_lower_than_shuffled_ones():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(32, 16, generator=g)
    shuffled = a[torch.randperm(32, generator=g)]
    assert info_nce(a, a, 0.1) < 0.05 < info_nce(a, shuffled, 0.1)
    assert nt_xent(a, a, 0.1) < nt_xent(a, shuffled, 0.1)


@pytest.mark.parametrize("loss", [InfoNCELoss(0.5), InfoNCELoss(0.5, symmetric=True), NTXentLoss(0.5)])
def test_criteria_take_model_output_pairs(loss):
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    value = loss((a, b), None)
    assert value.ndim == 0 and np.isfinite(value.item())


def test_masked_mean_ignores_unselected_cells_and_their_gradients():
    from sk_ssl.losses import masked_mean

    values = torch.tensor([[1.0, float("nan")], [3.0, 5.0]], requires_grad=True)
    weight = torch.tensor([[True, False], [True, False]])
    loss = masked_mean(values, weight)
    loss.backward()
    assert loss.item() == 2.0
    torch.testing.assert_close(values.grad, torch.tensor([[0.5, 0.0], [0.5, 0.0]]))
    assert masked_mean(values, torch.zeros_like(weight)).item() == 0.0


def test_mask_reconstruction_loss_is_mse_on_observed_plus_weighted_bce():
    from sk_ssl.losses import MaskReconstructionLoss

    torch.manual_seed(0)
    recon, logits, target = torch.randn(3, 6, 4).unbind()
    mask = torch.rand(6, 4) < 0.5
    observed = torch.rand(6, 4) < 0.8
    expected_mse = ((recon - target) ** 2)[observed].mean()
    expected = expected_mse + 2.0 * F.binary_cross_entropy_with_logits(logits, mask.float())
    loss = MaskReconstructionLoss(2.0)((recon, logits, target, mask, observed))
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(MaskReconstructionLoss(0.0)((recon, logits, target, mask, observed)), expected_mse)


def test_masked_l1_loss_counts_only_masked_pixels():
    from sk_ssl.losses import MaskedL1Loss

    recon, target = torch.zeros(2, 1, 2, 2), torch.arange(8.0).view(2, 1, 2, 2)
    loss_mask = torch.zeros(2, 1, 2, 2, dtype=torch.bool)
    loss_mask[0, 0, 0, 1] = loss_mask[1, 0, 1, 1] = True
    assert MaskedL1Loss()((recon, target, loss_mask)).item() == (1.0 + 7.0) / 2
