"""Each planted bug of :mod:`plants` makes the tests it names fail.

A plant is applied to a copy of the tree (never to the working tree), and the named tests
run there in a subprocess with the ``mutants`` Hypothesis profile (the ``ci`` examples,
no shrinking).  The tests must *fail*: pytest's exit status 1, with each named test among
the failures.  A plant whose target text is gone fails here too, so the harness cannot
silently stop testing anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from plants import PLANTS, Plant

ROOT = Path(__file__).resolve().parents[2]
COPY = ("impl", "model", "ringspec", "proofs", "tests", "pyproject.toml")
IGNORE = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache", "mutants")


def planted_tree(plant: Plant, dest: Path) -> Path:
    """A copy of the project with ``plant`` applied (exactly one match required)."""
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORE)
        else:
            shutil.copy2(src, dest / name)
    target = dest / plant.path
    text = target.read_text()
    assert text.count(plant.old) == 1, f"{plant.name}: the planted text is not in {plant.path}"
    target.write_text(text.replace(plant.old, plant.new))
    return dest


def run_tests(tree: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HYPOTHESIS_PROFILE": "mutants"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
           "--rootdir", str(tree), *tests]
    return subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("plant", PLANTS, ids=[p.name for p in PLANTS])
def test_plant_is_caught(plant: Plant, tmp_path: Path) -> None:
    tree = planted_tree(plant, tmp_path)
    proc = run_tests(tree, plant.caught_by)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"{plant.name} survived (exit {proc.returncode}):\n{out[-3000:]}"
    failed = [line for line in out.splitlines() if line.startswith("FAILED ")]
    for test in plant.caught_by:
        assert any(line.startswith(f"FAILED {test}") for line in failed), (
            f"{plant.name}: {test} did not fail:\n{out[-3000:]}"
        )
