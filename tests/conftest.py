import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

# Two cores: extra torch threads only contend with each other in small tests.
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's bundled 8x8 digits (1797 x 64, real data)."""
    return load_digits(return_X_y=True)


@pytest.fixture
def rng():
    return np.random.RandomState(0)
