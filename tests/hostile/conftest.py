"""One small simulated dataset for the hostile-input tests: valid files to break."""

from __future__ import annotations

from pathlib import Path

import pytest

from oretrail.sim.simulate import simulate


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "data"
    simulate(root, scale=0.01, seed=11)
    return root
