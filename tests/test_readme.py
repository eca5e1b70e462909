"""README.md is a contract: its Python example runs and its commands name real CLI options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zprime_atlas.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
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
