"""benchmarks/bench_gpu.py: the no-CUDA exit and the CPU smoke path.

The GPU measurement itself needs a CUDA device (CI has none); these check
that the script exits cleanly without one and that its whole measuring path
runs on CPU.
"""

import json
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _report
    import bench_gpu

    monkeypatch.setattr(_report, "RESULTS", tmp_path)  # never write into the checkout
    return bench_gpu


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the exit without CUDA")
def test_without_cuda_exits_cleanly_and_writes_nothing(bench, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "argv", ["bench_gpu.py"])
    assert bench.main() == 0
    assert "CUDA is not available" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_cpu_quick_smoke_run(bench, monkeypatch, tmp_path):
    if not (bench.load_mnist.__globals__["DATA_DIR"] / "images" / "mnist").exists():
        pytest.skip("MNIST not found in ../shared/data (set SK_SSL_DATA)")
    monkeypatch.setattr(sys, "argv", ["bench_gpu.py", "--device", "cpu", "--quick", "--batch-size", "8"])
    assert bench.main() == 0
    result = json.loads((tmp_path / "gpu_throughput_quick.json").read_text())
    assert result["images"] == 16 and result["batch_size"] == 8 and result["epochs"] == 2
    assert result["images_per_s"] > 0 and 0 < result["augmentation_share"] < 1
    assert result["peak_memory_gib"] is None  # no GPU memory on CPU
