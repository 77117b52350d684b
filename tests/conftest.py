"""Shared test setup."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The suite trains many tiny models; one intra-op thread avoids thread
    oversubscription (several pytest processes or a busy CI machine) and is
    faster for models this small."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
