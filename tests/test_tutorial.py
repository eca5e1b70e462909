"""docs/tutorial.md is a contract: every Python block runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def test_tutorial_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not TUTORIAL.exists():
        pytest.skip("not running from a source checkout")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, str(TUTORIAL), "exec"), namespace)
    out = capsys.readouterr().out
    assert "B-2Le-Lmu True" in out
    # the user's limit, recast onto its own reference model, returns its published points
    za, mine = namespace["za"], namespace["mine"]
    eps = mine.limit([0.02, 0.05], za.model("dark-photon")) / za.constants.E_CHARGE
    assert eps == pytest.approx([1e-3, 6e-4], rel=1e-12)
