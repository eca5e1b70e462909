"""The atlas figures: their numbers are recomputed and compared with figures/*.json (CI-checked).

When physics changes on purpose, refresh the references with ``zprime-atlas figures`` (and the pixel
baselines with ``pytest tests/test_figures.py --mpl-generate-path=tests/baseline``) and commit them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from zprime_atlas import figures
from zprime_atlas.models import model
from zprime_atlas.plotting import mass_coupling_data, plot_mass_coupling

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"
RTOL = 1e-6


def _compare(new, old, path: str = "") -> list[str]:
    """Differences between two JSON trees (numbers to RTOL; everything else exactly)."""
    if isinstance(old, dict):
        if not isinstance(new, dict) or set(new) != set(old):
            return [
                f"{path}: keys differ: {sorted(set(new) ^ set(old)) if isinstance(new, dict) else new}"
            ]
        out: list[str] = []
        for k in old:
            out += _compare(new[k], old[k], f"{path}/{k}")
        return out
    if isinstance(old, list):
        if not isinstance(new, list) or len(new) != len(old):
            return [f"{path}: lengths differ"]
        out = []
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            out += _compare(a, b, f"{path}[{i}]")
        return out
    if isinstance(old, float) and isinstance(new, (int, float)):
        if math.isclose(new, old, rel_tol=RTOL, abs_tol=1e-300):
            return []
        return [f"{path}: {new!r} != {old!r}"]
    return [] if new == old else [f"{path}: {new!r} != {old!r}"]


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in ("survey", "alpha_r") else n
     for n in figures.figure_names()],
)  # fmt: skip
def test_figure_numbers_match_committed_json(name: str) -> None:
    path = FIGURES / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run 'zprime-atlas figures' and commit figures/")
    committed = json.loads(path.read_text())
    committed.pop("description", None)
    fresh = figures.summary(name)
    problems = _compare(fresh, committed)
    assert not problems, f"{name}: numbers moved (first of {len(problems)}): " + "; ".join(problems[:5])


def test_every_figure_is_committed_in_both_formats() -> None:
    for name in figures.figure_names():
        for ext in ("png", "pdf", "json"):
            assert (FIGURES / f"{name}.{ext}").exists(), f"{name}.{ext}"
    assert (FIGURES / "survey_table.md").exists()


def test_the_comparison_catches_a_moved_limit() -> None:
    old = {"constraints": {"x": [{"lower": [1e-3, None, "inf"]}]}}
    assert _compare(old, old) == []
    moved = {"constraints": {"x": [{"lower": [1.001e-3, None, "inf"]}]}}
    assert _compare(moved, old)


def test_plot_functions_do_not_touch_global_rcparams() -> None:
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    data = mass_coupling_data(
        model("B-L"), np.geomspace(1e-3, 1, 30), constraints=["babar_2014_visible"]
    )
    artists = plot_mass_coupling(data)
    assert dict(mpl.rcParams) == before
    assert "babar_2014_visible" in artists.regions
    assert artists.ax.get_xlabel() == r"$m_X$ [GeV]"
    assert "90% CL" in artists.caption.get_text()
    import matplotlib.pyplot as plt

    plt.close(artists.figure)


@pytest.mark.mpl_image_compare(baseline_dir="baseline", tolerance=8, savefig_kwargs={"dpi": 80})
def test_mass_coupling_pixels():
    data = mass_coupling_data(model("B-L"), np.geomspace(1e-3, 10, 120))
    return plot_mass_coupling(data, caption=False).figure
