"""Rule tests share the real catalogue and the packaged defaults: figures are read from them, not copied."""

from __future__ import annotations

import pytest

from oretrail.catalogue import load_catalogue
from oretrail.catalogue.model import Catalogue
from oretrail.rules.config import Config, load_config


@pytest.fixture(scope="session")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def cfg() -> Config:
    return load_config()
