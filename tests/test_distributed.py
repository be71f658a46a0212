"""Hyper-parameter search across processes through joblib's dask backend.

The recipe of docs/scaling.md, on a real two-process ``LocalCluster``: the
search must give the serial search's ``cv_results_``, and every worker must run
torch on one thread (two workers x N threads would oversubscribe the cores).
"""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sk_ssl import ContrastiveEmbedder

distributed = pytest.importorskip("distributed", reason="needs the 'distributed' extra (dask.distributed)")
joblib = pytest.importorskip("joblib")


def _torch_threads(_=None):
    return torch.get_num_threads()


@pytest.fixture(scope="module")
def client():
    # processes=True: real worker processes, so estimators and data travel
    # pickled, as they would to another machine.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _search(X, y):
    pipe = make_pipeline(
        ContrastiveEmbedder(n_components=8, max_epochs=2, batch_size=64, random_state=0),
        LogisticRegression(max_iter=200),
    )
    grid = {"contrastiveembedder__corruption_rate": [0.3, 0.6], "contrastiveembedder__learning_rate": [1e-3, 3e-3]}
    return GridSearchCV(pipe, grid, cv=2, n_jobs=-1)


def test_workers_run_torch_on_one_thread(client):
    # dask's nanny sets OMP_NUM_THREADS=1 in each worker process before it
    # starts (distributed.nanny.pre-spawn-environ), so torch starts with one
    # intra-op thread; checked inside tasks, where fits run (torch's thread
    # count is per thread: the workers' main thread could differ).
    assert client.gather(client.map(_torch_threads, range(4), pure=False)) == [1] * 4


def test_grid_search_on_dask_matches_serial(client, digits):
    X, y = digits
    X, y = X[:240], y[:240]
    # Same thread count as the workers (the refit runs here too): float sums
    # in a CPU fit are then bit-identical, so the comparison can be exact.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        serial = _search(X, y).set_params(n_jobs=1).fit(X, y)
        with joblib.parallel_backend("dask"), distributed.get_task_stream(client) as tasks:
            parallel = _search(X, y).fit(X, y)
    finally:
        torch.set_num_threads(threads)

    # The 4 candidates x 2 folds really ran on the workers.
    assert len(tasks.data) >= 8
    assert parallel.cv_results_["params"] == serial.cv_results_["params"]
    for key in ("mean_test_score", "std_test_score", "split0_test_score", "split1_test_score", "rank_test_score"):
        np.testing.assert_array_equal(parallel.cv_results_[key], serial.cv_results_[key], err_msg=key)
    assert parallel.best_params_ == serial.best_params_
    # The refitted pipelines embed identically too.
    np.testing.assert_array_equal(parallel.predict_proba(X[:20]), serial.predict_proba(X[:20]))
    # Not trivially equal: the grid changes the scores.
    assert len(np.unique(serial.cv_results_["mean_test_score"])) > 1
