"""Shared by the Python tests: the repository root and the tools/zoo scripts loaded as modules."""
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_script():
    """load_script(path, name): a Python file loaded as the module `name`."""
    return _load


@pytest.fixture(scope="module")
def zoo_convert():
    """tools/zoo/convert.py as a module."""
    return _load(REPO / "tools" / "zoo" / "convert.py", "zoo_convert")


@pytest.fixture(scope="module")
def zoo_export():
    """tools/zoo/export.py as a module."""
    return _load(REPO / "tools" / "zoo" / "export.py", "zoo_export")
