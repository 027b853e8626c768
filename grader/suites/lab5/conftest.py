"""Lab 5 suite setup: the grader computes the reference on one thread while the suite runs.

The U-Net here is small (base=8, a few hundred frames at most); on a shared
2-core machine extra OpenMP threads only spin against the worker and other
processes, which made each reference training step tens of times slower.
The worker does the same (``grader/suites/lab5/probes.py``).
"""

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)
