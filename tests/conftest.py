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


ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
                 "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
                 "income"]  # fmt: skip
ADULT_CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
                     "native_country"]  # fmt: skip


@pytest.fixture(scope="session")
def adult_frame():
    """The first 700 rows of UCI Adult (../shared/data) as a DataFrame with 8 categorical columns, and the
    string income labels; skipped where the data is absent."""
    import os
    from pathlib import Path

    data = Path(os.environ.get("SK_SSL_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
    path = data / "tabular" / "adult" / "adult-train.csv"
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/data; set SK_SSL_DATA)")
    import pandas as pd

    df = pd.read_csv(path, header=None, names=ADULT_COLUMNS, sep=r",\s*", engine="python", nrows=700, na_values="?")
    df[ADULT_CATEGORICAL] = df[ADULT_CATEGORICAL].fillna("missing")
    return df, df.pop("income").to_numpy(dtype=object)
