"""Every docstring example in the package runs (the examples are documentation, so they must stay true)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pipeline

MODULES = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
