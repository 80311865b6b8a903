"""Paths shared by the policy-testing tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SCAFFOLD = ROOT / "accord" / "scaffold"


def run_accord(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`accord ARGS` as a real process, the way a user or CI calls it."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120)


@pytest.fixture
def in_root(monkeypatch):
    """Run in the repository root, so paths in messages are the short relative ones."""
    monkeypatch.chdir(ROOT)
    return ROOT
