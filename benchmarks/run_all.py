"""Run every ``benchmarks/bench_*.py`` in turn (what ``make bench`` calls) and summarize.

Each benchmark is a script printing its own figures. Before running one, its imports are read (without
executing it): a module it imports unconditionally that is not installed — an optional dependency such as
``jionlp`` from the ``bench`` extra — skips the script with the reason printed, instead of failing after
minutes. Imports guarded by ``try: … except ImportError`` are the script's own business and do not skip it.

    .venv/bin/python benchmarks/run_all.py                # all of them
    .venv/bin/python benchmarks/run_all.py ingest dedupe  # only bench_ingest.py and bench_dedupe.py
    .venv/bin/python benchmarks/run_all.py --list         # what would run or be skipped, and why
    .venv/bin/python benchmarks/run_all.py -- --scale 10  # arguments after -- go to every script
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _guarded(handler_types: ast.expr | None) -> bool:
    """Whether an ``except`` clause catches ImportError (a bare ``except:`` does)."""
    if handler_types is None:
        return True
    names = handler_types.elts if isinstance(handler_types, ast.Tuple) else [handler_types]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS or
               isinstance(n, ast.Attribute) and n.attr in _IMPORT_ERRORS for n in names)


def required_modules(source: str) -> list[str]:
    """Top-level module names a script imports outside ``try/except ImportError`` (relative imports aside).

    >>> required_modules("import os, numpy.linalg\\ntry:\\n    import jionlp\\nexcept ImportError:\\n    pass\\n"
    ...                  "def f():\\n    from rapidfuzz import fuzz")
    ['numpy', 'os', 'rapidfuzz']
    """
    found: set[str] = set()

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Try):
            inner = guarded or any(_guarded(h.type) for h in node.handlers)
            for child in node.body:
                visit(child, inner)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, guarded)
            return
        if not guarded:
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(ast.parse(source), False)
    return sorted(found)


def missing_modules(script: Path) -> list[str]:
    """The required modules of ``script`` that cannot be imported here (``__future__`` and the stdlib pass)."""
    missing = []
    for name in required_modules(script.read_text(encoding="utf-8")):
        if name == "__future__" or name in sys.stdlib_module_names:
            continue
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def scripts(names: list[str]) -> list[Path]:
    """``bench_*.py`` in this directory, or those whose name contains one of ``names``."""
    found = sorted(HERE.glob("bench_*.py"))
    if names:
        found = [p for p in found if any(n in p.stem for n in names)]
    return found


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="run only benchmarks whose file name contains one of these")
    ap.add_argument("--list", action="store_true", help="list what would run or be skipped, run nothing")
    args = ap.parse_args(argv)
    todo = scripts(args.names)
    if not todo:
        print("no benchmark matches", " ".join(args.names) or "bench_*.py")
        return 2
    results: list[tuple[str, str, float]] = []
    for script in todo:
        missing = missing_modules(script)
        if missing:
            why = f"skipped: needs {', '.join(missing)} (pip install -e '.[bench]' or pip install {' '.join(missing)})"
            print(f"== {script.name}: {why}", flush=True)
            results.append((script.name, why, 0.0))
            continue
        if args.list:
            print(f"== {script.name}: would run")
            continue
        print(f"\n== {script.name}", flush=True)
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, str(script), *extra], cwd=ROOT).returncode
        dt = time.perf_counter() - t
        results.append((script.name, "ok" if rc == 0 else f"FAILED (exit {rc})", dt))
    if not args.list:
        print("\n== summary")
        for name, status, dt in results:
            print(f"{name:<28} {status}" + (f"  {dt:.0f} s" if dt else ""))
    return 1 if any(s.startswith("FAILED") for _, s, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
