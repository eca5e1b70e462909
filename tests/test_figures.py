"""The atlas figures: their numbers are recomputed and compared with figures/*.json (CI-checked),
and the figure style does what the README's gallery section promises.

When physics changes on purpose, refresh the references with ``zprime-atlas figures`` (and the pixel
baseline with ``pytest tests/test_figures.py --mpl-generate-path=tests/baseline``) and commit them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

from zprime_atlas import engine, figures
from zprime_atlas.constraints.recast.schema import RecastFileError, parse_metadata
from zprime_atlas.models import alpha_r, model
from zprime_atlas.plotting import (
    FIGURE_SIZES,
    STYLE_FILE,
    MassCouplingData,
    alpha_r_summary,
    constraint_family,
    mass_coupling_data,
    mixing_title,
    plot_alpha_r,
    plot_mass_coupling,
    style_context,
)

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"
RTOL = 1e-6
MASS_COUPLING = [n for n in figures.figure_names() if n.startswith("mass_coupling_")]


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


def _strict_load(path: Path):
    def refuse(token: str):
        raise AssertionError(f"{path.name}: non-strict JSON token {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in ("survey", "alpha_r") else n
     for n in figures.figure_names()],
)  # fmt: skip
def test_figure_numbers_match_committed_json(name: str) -> None:
    path = FIGURES / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run 'zprime-atlas figures' and commit figures/")
    committed = _strict_load(path)
    committed.pop("description", None)
    committed.pop("figure", None)  # how it was drawn (fonts move label positions), not physics
    fresh = figures.summary(name)
    problems = _compare(fresh, committed)
    assert not problems, f"{name}: numbers moved (first of {len(problems)}): " + "; ".join(problems[:5])


def test_every_figure_is_committed_with_its_caption_and_numbers() -> None:
    for name in figures.figure_names():
        for ext in ("png", "pdf", "json", "caption.txt"):
            assert (FIGURES / f"{name}.{ext}").exists(), f"{name}.{ext}"
        assert len((FIGURES / f"{name}.caption.txt").read_text()) > 100
    assert (FIGURES / "survey_table.md").exists()


@pytest.mark.parametrize("name", MASS_COUPLING)
def test_figure_json_carries_every_mass_it_drew(name: str) -> None:
    numbers = _strict_load(FIGURES / f"{name}.json")
    n = len(figures.figure_masses(name))
    assert len(numbers["masses"]) == n
    assert len(numbers["gm2"]["g_low"]) == n
    for cname, entry in numbers["constraints"].items():
        assert len(entry["status"]) == n, cname
        for slot in entry["intervals"]:
            assert len(slot["lower"]) == len(slot["upper"]) == n, cname
            for lo, hi, st in zip(slot["lower"], slot["upper"], entry["status"], strict=True):
                assert lo is None or st == "excludes"
                assert hi is None or (lo is not None and hi > lo)
    layout = numbers["figure"]
    assert set(layout["order"]) >= {f"family:{f}" for f in layout["envelopes"]}


def test_the_comparison_catches_a_moved_limit() -> None:
    old = {"constraints": {"x": [{"lower": [1e-3, None, 2.0]}]}}
    assert _compare(old, old) == []
    moved = {"constraints": {"x": [{"lower": [1.001e-3, None, 2.0]}]}}
    assert _compare(moved, old)


def test_strict_json_writer_refuses_nan_and_keeps_lists_on_one_line() -> None:
    text = figures.dumps(figures._jsonable({"a": [1.0, float("nan"), float("inf")], "b": {"c": [2]}}))
    assert json.loads(text) == {"a": [1.0, None, None], "b": {"c": [2]}}
    assert '"a": [1.0, null, null]' in text
    with pytest.raises(ValueError, match="JSON"):
        figures.dumps({"a": float("nan")})


# -- the style ---------------------------------------------------------------------------------------


def _small_data(names: list[str], dataset: str = "2021") -> MassCouplingData:
    return mass_coupling_data(model("B-L"), np.geomspace(1e-3, 1, 40), constraints=names,
                              dataset=dataset)  # fmt: skip


def test_plot_functions_do_not_touch_global_rcparams_and_return_the_caption_as_text() -> None:
    before = dict(mpl.rcParams)
    artists = plot_mass_coupling(_small_data(["babar_2014_visible"]))
    assert dict(mpl.rcParams) == before
    assert "babar_2014_visible" in artists.regions
    assert artists.ax.get_xlabel() == r"$m_X$ [GeV]"
    assert isinstance(artists.caption, str)
    assert "90% CL" in artists.caption
    assert artists.caption_artist is None  # not drawn into the image by default
    assert artists.figure.texts == []
    plt.close(artists.figure)


def test_shipped_style_is_applied_in_a_context_and_user_rcparams_are_respected() -> None:
    assert STYLE_FILE.exists()
    default_family = list(mpl.rcParams["font.family"])
    with style_context():
        assert mpl.rcParams["mathtext.fontset"] == "stix"
    assert list(mpl.rcParams["font.family"]) == default_family
    with mpl.rc_context({"font.size": 17.0, "mathtext.fontset": "cm"}):
        mine = plot_mass_coupling(_small_data(["babar_2014_visible"]), style=None)
        assert mine.ax.xaxis.label.get_fontsize() == pytest.approx(
            mpl.font_manager.FontProperties(size=mpl.rcParams["axes.labelsize"]).get_size_in_points()
        )
        assert mpl.rcParams["font.size"] == 17.0
        ours = plot_mass_coupling(_small_data(["babar_2014_visible"]))
        assert ours.ax.xaxis.label.get_fontsize() < 17.0
    # the style's fonts stay with the figure after the context (saved later, outside it)
    assert ours.ax.xaxis.label.get_fontname() == "STIXGeneral"
    assert ours.ax.xaxis.get_majorticklabels()[0].get_fontname() == "STIXGeneral"
    assert all(t.tick1line.get_marker() == mpl.lines.TICKUP for t in ours.ax.xaxis.get_minor_ticks())
    plt.close("all")


@pytest.mark.parametrize("size", ["single", "double"])
def test_journal_sizes(size: str) -> None:
    artists = plot_mass_coupling(_small_data(["babar_2014_visible"]), size=size)
    assert artists.figure.get_size_inches()[0] == pytest.approx(FIGURE_SIZES[size][0])
    assert FIGURE_SIZES["single"][0] == 3.4
    assert FIGURE_SIZES["double"][0] == 7.0
    plt.close(artists.figure)


def test_families_have_one_palette_each() -> None:
    expected = {
        "babar_2014_visible": "e+e-", "kloe_2018_mumu": "e+e-", "e137_2012_dump": "beam dump",
        "lhcb_2019_prompt": "hadron collider", "lhcb_2019_displaced": "hadron collider",
        "a1_2014_visible": "fixed target", "na64_2019_invisible": "invisible",
        "babar_2017_invisible": "invisible", "borexino": "neutrino", "coherent_csi_2017": "neutrino",
        "neff_bbn": "cosmology", "red_giant_2023": "stars", "gm2_electron_cs": "g-2",
    }  # fmt: skip
    assert {n: constraint_family(n) for n in expected} == expected


def test_regions_are_stacked_weakest_first_and_hidden_ones_are_named() -> None:
    names = ["babar_2014_visible", "na64_2019_invisible", "babar_2017_invisible"]
    artists = plot_mass_coupling(_small_data(names), combine="none")
    order = artists.order
    patches = [artists.regions[n][0] for n in order]
    assert [p.get_zorder() for p in patches] == sorted(p.get_zorder() for p in patches)
    # the bottom region excludes the smallest area in view, the top one the largest
    assert order[-1] == "na64_2019_invisible"
    assert set(artists.hidden) <= set(names)
    for n in artists.hidden:
        assert n in artists.caption
    plt.close(artists.figure)


def test_family_envelope_has_one_region_and_one_label() -> None:
    dumps = ["e137_2012_dump", "e141_1987_dump", "orsay_1989_dump", "kek_1986_dump"]
    artists = plot_mass_coupling(_small_data(dumps), g_range=(1e-9, 1), combine="family")
    assert list(artists.regions) == ["family:beam dump"]
    assert artists.envelopes == {"beam dump": sorted(dumps)}
    assert list(artists.labels) == ["family:beam dump"]
    separate = plot_mass_coupling(_small_data(dumps), g_range=(1e-9, 1), combine="none")
    assert set(separate.regions) == set(dumps)
    plt.close("all")


def test_label_position_override() -> None:
    artists = plot_mass_coupling(_small_data(["babar_2014_visible"]),
                                 label_positions={"babar_2014_visible": (0.1, 3e-3)})  # fmt: skip
    m, g, _angle = artists.label_positions["babar_2014_visible"]
    assert (m, g) == pytest.approx((0.1, 3e-3))
    plt.close(artists.figure)


def test_constraint_info_label_position_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from zprime_atlas import constraints

    c = constraints.get("borexino")
    monkeypatch.setattr(c, "info", dataclasses.replace(c.info, label_position=(0.02, 1e-3)))
    artists = plot_mass_coupling(_small_data(["borexino"]))
    m, g, _angle = artists.label_positions["borexino"]
    assert (m, g) == pytest.approx((0.02, 1e-3))
    plt.close(artists.figure)


def test_recast_label_position_is_optional_and_checked(tmp_path: Path) -> None:
    source = (ROOT / "recasts" / "babar_2014_visible.toml").read_text()
    (tmp_path / "babar_2014_visible.csv").write_text(
        (ROOT / "recasts" / "babar_2014_visible.csv").read_text())  # fmt: skip
    plain = tmp_path / "plain.toml"
    plain.write_text(source)
    assert parse_metadata(plain).label_position is None
    placed = tmp_path / "placed.toml"
    placed.write_text("label_position = [0.3, 2e-4]\n" + source)
    assert parse_metadata(placed).label_position == (0.3, 2e-4)
    bad = tmp_path / "bad.toml"
    bad.write_text("label_position = [0.3]\n" + source)
    with pytest.raises(RecastFileError, match="label_position"):
        parse_metadata(bad)


def _covers(artists, name: str, m: float, g: float) -> bool:
    patch = artists.regions[name][0]
    return bool(patch.get_path().contains_point((m, g)))


def test_no_white_line_where_a_constraint_is_silent_at_one_mass() -> None:
    m = np.geomspace(1e-3, 1e-1, 21)
    lo = np.full(m.shape, 1e-5)
    lo[10] = np.nan  # a vetoed window narrower than the grid
    intervals = {"babar_2014_visible": [(lo, np.full(m.shape, np.inf))]}
    data = MassCouplingData("B-L", "eps = 0.", m, intervals,
                            np.full(m.shape, np.nan), np.full(m.shape, np.nan), "2021",
                            {"babar_2014_visible": 0.9}, {"babar_2014_visible": True})  # fmt: skip
    artists = plot_mass_coupling(data, labels=False)
    assert _covers(artists, "babar_2014_visible", float(m[10]), 1e-3)
    assert data.status("babar_2014_visible")[10] == "no_statement"  # the JSON keeps the truth
    plt.close(artists.figure)


def test_no_white_line_where_an_excluded_region_splits() -> None:
    # one interval reaching the top that splits into an island below and a region above (N_eff-like)
    m = np.geomspace(1e-3, 1e-1, 21)
    lo1 = np.full(m.shape, 1e-9)
    hi1 = np.where(np.arange(21) < 10, np.inf, 1e-7)
    lo2 = np.where(np.arange(21) < 10, np.inf, 1e-5)
    hi2 = np.full(m.shape, np.inf)
    data = MassCouplingData("B-L", "eps = 0.", m, {"neff_bbn": [(lo1, hi1), (lo2, hi2)]},
                            np.full(m.shape, np.nan), np.full(m.shape, np.nan), "2021",
                            {"neff_bbn": 0.95}, {"neff_bbn": True})  # fmt: skip
    artists = plot_mass_coupling(data, g_range=(1e-6, 1), labels=False)
    between = float(np.sqrt(m[9] * m[10]))
    for g in (1e-5, 1e-3, 0.5):
        assert _covers(artists, "neff_bbn", between, g)
    assert not _covers(artists, "neff_bbn", float(m[15]), 1e-6 * 3)  # the re-allowed window
    plt.close(artists.figure)


def test_upper_limit_data_set_is_an_excluded_region_and_a_band_is_a_band() -> None:
    upper = plot_mass_coupling(_small_data(["babar_2014_visible"], dataset="2025"))
    assert "gm2_muon" in upper.regions
    assert upper.band is None
    band = plot_mass_coupling(_small_data(["babar_2014_visible"], dataset="2021"))
    assert band.band is not None
    assert "gm2_muon" not in band.regions
    plt.close("all")


def test_superseded_constraints_are_not_drawn() -> None:
    data = _small_data(["na64_2018_visible", "na64_2020_visible", "babar_2014_visible"])
    assert "na64_2018_visible" not in data.intervals


# -- alpha-R: titles and fractions from the scan's settings ----------------------------------------


@pytest.fixture(scope="module")
def small_planes() -> tuple[engine.ScanResult, engine.ScanResult]:
    fam = alpha_r(np.linspace(-np.pi / 2, np.pi / 2, 5, endpoint=False)[:, None],
                  np.linspace(-2, 2, 5)[None, :])  # fmt: skip
    common = {"gm2": "2021", "progress": False, "n_g": 3,
              "constraints": ["babar_2014_visible", "borexino"]}  # fmt: skip
    no_mix = engine.scan(fam, [0.2], eps=0.0, **common)
    free = engine.scan(fam, [0.2], xi=np.array([-1.0, 0.0, 1.0]), **common)
    return no_mix, free


def test_titles_follow_the_scan_settings(small_planes) -> None:
    no_mix, free = small_planes
    assert mixing_title(no_mix) == "no kinetic mixing"
    assert mixing_title(free) == "free kinetic mixing"
    artists = plot_alpha_r(free, no_mix)  # order does not matter: each panel names its own
    titles = [a.get_title() for a in artists.figure.axes[:2]]
    assert titles[0].startswith("free kinetic mixing")
    assert titles[1].startswith("no kinetic mixing")
    plt.close(artists.figure)


def test_one_allowed_fraction_everywhere(small_planes) -> None:
    no_mix, free = small_planes
    summary = alpha_r_summary(no_mix, free)
    for key, res in (("no_mixing", no_mix), ("free_mixing", free)):
        frac = res.allowed_fraction()
        assert summary[key]["allowed_fraction"] == frac == res.allowed_fraction(mass_index=0)
        assert frac == float(np.mean(res.best_mix()))
        assert res.summary()["allowed_fraction"] == frac
    artists = plot_alpha_r(no_mix, free)
    assert f"{100 * free.allowed_fraction():.1f}% allowed" in artists.figure.axes[1].get_title()
    plt.close(artists.figure)


@pytest.mark.mpl_image_compare(baseline_dir="baseline", tolerance=8, savefig_kwargs={"dpi": 80})
def test_mass_coupling_pixels():
    data = mass_coupling_data(model("B-L"), np.geomspace(1e-3, 10, 120))
    return plot_mass_coupling(data, g_range=figures.G_RANGE).figure
