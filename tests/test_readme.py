"""README.md is a contract: its Python example runs and its commands name real CLI options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zprime_atlas.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.slow  # runs the README's scans (about 25 s)
def test_python_example_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write files (plane.h5)
    blocks = _blocks("python")
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    assert "True" in capsys.readouterr().out  # the survey is anomaly free


def test_quickstart_commands_parse() -> None:
    parser = build_parser()
    commands = [
        line.split("&&", 1)[1].strip()
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("pip install") and "&& zprime-atlas" in line
    ]
    assert commands, "README quickstart has no 'pip install ... && zprime-atlas ...' command"
    for command in commands:
        parser.parse_args(command.split()[1:])
    assert any(
        line.strip() == 'pip install ".[test]" && pytest'
        for block in _blocks("bash")
        for line in block.splitlines()
    )


def test_adding_an_experiment_example_loads(tmp_path: Path) -> None:
    from zprime_atlas.models import model
    from zprime_atlas.recast import load_recast

    toml = next(b for b in _blocks("toml") if 'name = "mysearch_2026"' in b)
    csv = next(b for b in _blocks("csv") if "segment,m_GeV,eps" in b)
    (tmp_path / "mysearch_2026.toml").write_text(toml)
    (tmp_path / "mysearch_2026.csv").write_text(csv)
    c = load_recast(tmp_path / "mysearch_2026.toml")
    assert c.name == "mysearch_2026"
    lim = c.limit([0.02, 0.07, 0.1], model("B-L"))
    assert lim[0] > 0
    assert lim[1] != lim[1]  # NaN between segments
