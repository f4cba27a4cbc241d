"""Shared fixtures: the real documents the tests run on (corpus/, ../shared/seeds, ../shared/devcorpus)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
GOLD = SHARED / "gold"
DEVCORPUS = SHARED / "devcorpus"
ARTIFACTS = ROOT / "artifacts"


def seed_paths() -> list[Path]:
    """The seed documents: ../shared/seeds when present, else the copies in corpus/."""
    src = SEEDS if SEEDS.is_dir() else CORPUS
    return sorted(src.glob("*.txt"))


def dev_paths() -> list[Path]:
    return sorted(DEVCORPUS.glob("*.txt")) if DEVCORPUS.is_dir() else []


def load_gold(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["mentions"]


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside this checkout")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


_TOOLS: dict[str, object] = {}


def shared_tool(name: str):
    """A script of ../shared/tools (evaluate, corrupt, cer) imported as a module, once; the calling test
    is skipped when ../shared is not beside this checkout."""
    if name not in _TOOLS:
        import importlib.util

        path = SHARED / "tools" / f"{name}.py"
        if not path.exists():
            pytest.skip(f"../shared/tools/{name}.py is not beside this checkout")
        spec = importlib.util.spec_from_file_location(f"shared_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _TOOLS[name] = mod
    return _TOOLS[name]
