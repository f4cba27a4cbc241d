"""The notebooks run, top to bottom, in the venv's kernel against a fresh database built from corpus/.

``gongbao ingest corpus/ --db <tmp>`` builds the database; both notebooks are executed with nbclient (the
``python3`` kernel, which must be this interpreter); the chart of 02_compare_regions is saved under
artifacts/ and checked: a real image, and every character of its labels present in the font file the
label was drawn with (no missing-glyph boxes).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = ROOT / "notebooks"
NAMES = ("01_explore", "02_compare_regions")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("nb") / "gongbao.db"
    subprocess.run([sys.executable, "-m", "pipeline.cli", "ingest", str(CORPUS), "--db", str(db), "--workers", "1"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    return db


def execute(name: str, env: dict[str, str], artifacts: Path):
    """Run one notebook in the ``python3`` kernel with ``env`` set; the executed copy goes to artifacts/."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # a last cell, in the test's copy only: which interpreter ran the kernel
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL-PYTHON', sys.executable)"))
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=240,
                                         resources={"metadata": {"path": str(ROOT)}})
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out_dir = artifacts / "notebooks"
    out_dir.mkdir(exist_ok=True)
    nbformat.write(nb, out_dir / f"{name}.executed.ipynb")
    return nb


def text_of(nb) -> str:
    """Everything the notebook printed or displayed as text (stdout, stderr, plain-text results)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
            elif out.get("output_type") == "error":
                parts.append("\n".join(out.get("traceback", [])))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_have_no_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert nb.metadata.kernelspec.name == "python3"
    # notebooks go through the package's helpers, never their own SQL
    assert not any("SELECT " in c.source.upper() or "read_sql" in c.source for c in code)


def test_explore_notebook_runs(db_path, artifacts_dir):
    nb = execute("01_explore", {"GONGBAO_DB": str(db_path)}, artifacts_dir)
    out = text_of(nb)
    assert f"KERNEL-PYTHON {sys.executable}" in out  # the venv's interpreter, not whatever `python` is on PATH
    for doc in sorted(CORPUS.glob("*.txt")):  # every document listed
        assert doc.name in out
    assert "甘孜藏族自治州" in out and "成都市" in out  # regions of the corpus
    assert "mechanism" in out and "project" in out
    # the project section follows the project named in the most documents, with all its mentions
    from pipeline import frames

    top = frames.top_mentions(db_path, "project", n=1000)
    assert len(top), "the corpus has projects"
    project = top.sort_values(["n_documents", "n_mentions"], ascending=False, kind="stable")["text"].iloc[0]
    hits = frames.project_mentions(db_path, project)
    assert f"{project}: {len(hits)} mention" in out
    assert all(c in out for c in hits["context"].head(10).str[:10])  # mentions shown in their sentences
    assert "projects are named in more than one document" in out


def test_compare_notebook_runs_and_its_chart_has_real_cjk_labels(db_path, artifacts_dir):
    from matplotlib import image

    from pipeline.frames import CJK_FAMILIES, missing_glyphs

    chart = artifacts_dir / "02_compare_regions.png"
    fonts_json = Path(str(chart) + ".fonts.json")
    for f in (chart, fonts_json):
        f.unlink(missing_ok=True)
    nb = execute("02_compare_regions", {"GONGBAO_DB": str(db_path), "GONGBAO_CHART": str(chart)}, artifacts_dir)
    out = text_of(nb)
    assert f"KERNEL-PYTHON {sys.executable}" in out
    assert "missing from font" not in out and "Glyph" not in out  # matplotlib's missing-glyph warning
    assert "conflicting figures" in out and "repeated paragraphs" in out

    # a real picture: not empty, not blank
    assert chart.stat().st_size > 10_000
    img = image.imread(chart)
    h, w = img.shape[:2]
    assert h >= 300 and w >= 500
    ink = (img[..., :3].min(axis=2) < 0.9).mean()  # share of non-white pixels
    assert 0.01 < ink < 0.6, ink

    # every label drawn in a CJK font that has a glyph for each of its characters
    labels = json.loads(fonts_json.read_text(encoding="utf-8"))
    ticks = [lab for lab in labels if lab["role"] == "tick" and any("\u4e00" <= ch <= "\u9fff" for ch in lab["text"])]
    assert len(ticks) >= 2, labels  # region names on the x axis
    assert any(lab["role"] == "title" and "各地区对比" in lab["text"] for lab in labels)
    for lab in labels:
        assert lab["family"] in CJK_FAMILIES or lab["text"].isascii(), lab
        assert missing_glyphs(lab["text"], lab["file"], lab["family"]) == set(), lab
