"""Exclusion plots: compute the numbers (``*_data``), then draw them (``plot_*``), separately.

The figure style (AxionLimits-like, journal-ready):

- **Opaque regions stacked by strength.** Every constraint is one opaque fill with one dark edge
  line. The weakest (smallest excluded area in view) is drawn first, at the bottom; the strongest on
  top, so that what shows at each point of the plane is the limit that excludes most there.
  Constraints fully inside stronger ones are not visible and are named in the caption.
- **Labels on the regions.** Each label sits inside its visible region, as near as fits to the
  region's strongest point (its lowest excluded coupling), rotated along the region's lower edge
  where that edge is sloped. A constraint may fix its label with ``label_position = [m, g]`` (recast
  TOML) or :attr:`ConstraintInfo.label_position` (built-in constraints), or the caller with
  ``label_positions={name: (m, g)}``.
- **One palette per experiment family** (:data:`FAMILIES`): beam dumps, e+e- colliders, hadron
  colliders, fixed-target visible searches, invisible (missing-energy) searches, neutrino scattering,
  cosmology, stars, g-2. Members of a family differ in lightness, so regions stay distinct in
  greyscale too. With ``combine="family"`` every family is drawn as one envelope fill with one label;
  ``combine="auto"`` (default) merges only the families whose individual labels do not fit.
- **Journal sizes**: ``size="single"`` (3.4 in wide) or ``"double"`` (7.0 in) (:data:`FIGURE_SIZES`).
- **Fonts and rcParams**: the shipped style ``zprime_atlas/data/zprime_atlas.mplstyle`` (STIX text and
  mathtext, inward ticks) is applied only through :func:`style_context`, never globally; pass
  ``style=None`` to draw with your own rcParams, or any matplotlib style (name, file, dict, list).
- **Captions are text**: every plot function returns its caption (CLs, data sets, what is hidden,
  which inputs are unverified) in ``PlotArtists.caption``; ``zprime-atlas figures`` writes it beside
  the figure (``<name>.caption.txt``). ``caption=True`` also draws it under the axes.
- **g-2**: a band data set (2021, 2023) is drawn as a band; an upper-limit data set (2025) is an
  excluded region like any other bound. Superseded constraints are not drawn.

Masses in GeV on every axis. Plot functions take ``ax=None`` (a new figure otherwise) and return the
artists they drew (:class:`PlotArtists`).
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
import matplotlib.style
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from numpy.typing import ArrayLike, NDArray

from . import catalogue as _catalogue
from . import constraints as _registry
from . import gm2 as _gm2
from ._validate import as_mass
from .couplings import Mixing
from .engine import ScanResult
from .models import Model

__all__ = [
    "FAMILIES",
    "FIGURE_SIZES",
    "STYLE",
    "STYLE_FILE",
    "Family",
    "MassCouplingData",
    "PlotArtists",
    "alpha_r_summary",
    "constraint_family",
    "mass_coupling_data",
    "mixing_title",
    "plot_alpha_r",
    "plot_mass_coupling",
    "plot_scan",
    "plot_survey",
    "pretty_name",
    "style_context",
    "survey_summary",
]

# -- style -----------------------------------------------------------------------------------------

#: The shipped matplotlib style file (STIX fonts, inward ticks on four sides, journal font sizes).
STYLE_FILE: Path = Path(__file__).resolve().parent / "data" / "zprime_atlas.mplstyle"

#: The package style as an rcParams dict (the content of :data:`STYLE_FILE`).
STYLE: dict[str, Any] = {
    str(k): v
    for k, v in mpl.rc_params_from_file(str(STYLE_FILE), use_default_template=False).items()
}

#: Figure sizes [inches] of the journal column widths: single column 3.4 in, double column 7.0 in.
FIGURE_SIZES: dict[str, tuple[float, float]] = {"single": (3.4, 2.9), "double": (7.0, 4.9)}

#: Font sizes [pt] per figure size: axes text, in-plot labels.
_FONT_SIZES: dict[str, tuple[float, float]] = {"single": (7.5, 5.6), "double": (9.0, 6.6)}

Size = Literal["single", "double"]
Combine = Literal["auto", "family", "none"]
StyleSpec = str | Path | Mapping[str, Any] | Sequence[str | Path | Mapping[str, Any]] | None


def _resolve_style(style: StyleSpec) -> list[Any]:
    """The list of styles that ``matplotlib.style.context`` applies; "zprime_atlas" is the file."""
    if style is None:
        return []
    items: Sequence[Any] = (
        [style] if isinstance(style, (str, Path, Mapping)) else list(style)
    )
    return [str(STYLE_FILE) if item == "zprime_atlas" else item for item in items]


@contextmanager
def style_context(style: StyleSpec = "zprime_atlas", size: Size | None = None) -> Iterator[None]:
    """Apply a figure style for the duration of a ``with`` block, then restore the rcParams.

    ``style``: ``"zprime_atlas"`` (the shipped :data:`STYLE_FILE`), ``None`` (your rcParams as they
    are), or anything :func:`matplotlib.style.context` accepts (a style name, a file, a dict, or a
    list of them, in which ``"zprime_atlas"`` may appear). ``size`` (``"single"``/``"double"``) sets
    the font sizes of that column width on top of the style (not with ``style=None``).
    """
    styles = _resolve_style(style)
    if styles and size is not None:
        base, _ = _FONT_SIZES[size]
        styles.append({"font.size": base, "axes.labelsize": base + 1, "axes.titlesize": base,
                       "xtick.labelsize": base, "ytick.labelsize": base,
                       "legend.fontsize": base - 1.5})  # fmt: skip
    with mpl.rc_context(), matplotlib.style.context(styles):
        if styles:
            _resolve_font_family()
        yield


_GENERIC_FAMILIES = ("serif", "sans-serif", "cursive", "fantasy", "monospace")


def _resolve_font_family() -> None:
    """Replace a generic ``font.family`` (e.g. "serif") by the style's concrete fonts that exist.

    Text keeps its family by name and matplotlib resolves a generic one when the figure is drawn,
    with the rcParams of that moment: without this, a figure saved after the style context ends
    would fall back to the default fonts.
    """
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    family = mpl.rcParams["font.family"]
    families = [family] if isinstance(family, str) else list(family)
    concrete: list[str] = []
    for name in families:
        if name in _GENERIC_FAMILIES:
            concrete += [f for f in _generic_fonts(name) if f in available]
        concrete.append(name)
    mpl.rcParams["font.family"] = concrete


def _generic_fonts(name: str) -> list[str]:
    """The rcParams font list of a generic family (font.serif, font.sans-serif, ...)."""
    rc = mpl.rcParams
    lists = {"serif": rc["font.serif"], "sans-serif": rc["font.sans-serif"],
             "cursive": rc["font.cursive"], "fantasy": rc["font.fantasy"],
             "monospace": rc["font.monospace"]}  # fmt: skip
    return [str(f) for f in lists.get(name, [])]


def _finish(fig: Figure) -> None:
    """Draw once inside the style context: ticks and their labels are created lazily, at the first
    draw, with the rcParams of that moment (else a later savefig would use the defaults)."""
    fig.canvas.draw()


def _decade_ticks(ax: Axes) -> None:
    """Log axes with a label at every decade and minor ticks at 2..9 of each, however many decades."""
    from matplotlib.ticker import LogLocator, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10.0, numticks=40))
        axis.set_minor_locator(LogLocator(base=10.0, subs=[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                                          numticks=400))
        axis.set_minor_formatter(NullFormatter())


def _label_fontsize(size: Size) -> float:
    return _FONT_SIZES[size][1]


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.get_figure(root=True)
        assert isinstance(fig, Figure)
        return fig, ax
    import matplotlib.pyplot as plt

    fig, new_ax = plt.subplots(figsize=size, layout="constrained")
    return fig, new_ax


# -- experiment families and their palettes ---------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """An experiment family: its name in envelope labels, its member colours and its edge colour.

    ``shades`` go from dark to light with alternating lightness, so neighbours in a stack differ in
    greyscale as well as in colour.
    """

    key: str
    title: str
    shades: tuple[str, ...]
    edge: str


#: The experiment families, in legend order.
FAMILIES: dict[str, Family] = {
    f.key: f
    for f in (
        Family("beam dump", "beam dumps",
               ("#5f6a72", "#b5bcc2", "#7f8a92", "#d3d8dc", "#49545c", "#9ea7ae", "#c4cacf",
                "#6c767e", "#aab2b8", "#e1e4e7", "#8c969d"), "#1c2226"),
        Family("e+e-", r"$e^+e^-$ colliders",
               ("#2c6fb7", "#9cc3e6", "#4a8bcb", "#c3dbf0", "#1d4f8f", "#78aedc", "#5f9bd3",
                "#b0cfeb"), "#0b2545"),
        Family("hadron collider", "LHCb, CMS",
               ("#c0392b", "#f2a69d", "#d9604f", "#f7c6bf", "#9e2a1f", "#e8857a"), "#4a0f09"),
        Family("fixed target", "fixed target",
               ("#2e8b57", "#a8dcb8", "#4fa874", "#cdebd6", "#1f6b40", "#7cc497"), "#0c3320"),
        Family("invisible", "missing energy",
               ("#7b5ea7", "#cfc0e6", "#9a7fc4", "#e2d8f1", "#5c4384", "#b49fd6"), "#2a1a45"),
        Family("neutrino", r"$\nu$ scattering",
               ("#d9822b", "#f6cf9c", "#e89c4f", "#fbe2c2", "#b5651d", "#f0b673", "#8c5a2b",
                "#c9935a"), "#4d2a06"),
        Family("cosmology", "cosmology",
               ("#2a9d8f", "#72c2b6", "#a9ddd5"), "#0b3d37"),
        Family("stars", "stars",
               ("#c2478f", "#f0b3d6", "#d977b1", "#f8d4e8", "#a0306f"), "#4a0f32"),
        Family("g-2", "$g-2$",
               ("#a39a2a", "#e3dc8c", "#c4bb4d", "#f0ebb8"), "#3d3905"),
    )
}  # fmt: skip

_HADRON_COLLIDERS = ("lhcb", "cms", "atlas")
_EE_COLLIDERS = ("babar", "belle", "besiii", "kloe", "lep", "cleo")

#: Short mathtext labels of constraints without a recast ``label`` (and a few clearer ones).
_PRETTY: dict[str, str] = {
    "babar_2014_visible": r"BaBar $\gamma\,\ell\ell$",
    "babar_2016_4mu": r"BaBar $4\mu$",
    "babar_2017_invisible": r"BaBar $\gamma$+inv.",
    "belle2_2019_invisible": r"Belle II $\mu\mu$+inv.",
    "lhcb_2017_prompt": "LHCb 2017",
    "lhcb_2019_prompt": "LHCb 2019",
    "lhcb_2017_displaced": "LHCb displ. 2017",
    "lhcb_2019_displaced": "LHCb displ. 2019",
    "na64_2018_visible": "NA64 vis. 2018",
    "na64_2020_visible": "NA64 vis.",
    "na64_2019_invisible": "NA64 inv.",
    "na62_2019_invisible": r"NA62 $\pi^0\to\gamma$+inv.",
    "na62_2023_dump_ee": r"NA62 dump $ee$",
    "na62_2023_dump_mumu": r"NA62 dump $\mu\mu$",
    "kloe_2018_combined": "KLOE 2018",
    "kloe_2018_mumu": r"KLOE 2018 $\mu\mu$",
    "kloe_2014_mumu": r"KLOE 2014 $\mu\mu$",
    "kloe_2016_pipi": r"KLOE 2016 $\pi\pi$",
    "lhcb_2017_prompt_": "LHCb 2017",
    "ccfr_trident": "CCFR",
    "charm2_trident": "CHARM-II",
    "borexino": "Borexino",
    "nsi_oscillation": "NSI (osc.)",
    "coherent_csi_2017": "COHERENT CsI 2017",
    "coherent_csi_2021": "COHERENT CsI",
    "coherent_lar_2020": "COHERENT LAr",
    "xenonnt_2024_b8": r"XENONnT $^8$B",
    "pandax4t_2024_b8": r"PandaX-4T $^8$B",
    "conusplus_2025": "CONUS+",
    "texono_2010_nue": "TEXONO",
    "gm2_electron_cs": r"$(g-2)_e$ Cs",
    "gm2_electron_rb": r"$(g-2)_e$ Rb",
    "neff_bbn": r"$N_{\rm eff}$ (BBN+CMB)",
    "red_giant_2023": "red giants",
    "horizontal_branch_2023": "HB stars",
    "sun_2023": "Sun",
    "sn1987a_2020": "SN1987A",
    "gm2_muon": r"$(g-2)_\mu$",
}


def pretty_name(name: str) -> str:
    """Short mathtext label of a constraint: the built-in table, else the constraint's own display
    label (recast metadata ``label``), else its name."""
    if name in _PRETTY:
        return _PRETTY[name]
    try:
        label = getattr(_registry.get(name).info, "label", "")
    except ValueError:
        label = ""
    return str(label) or name.replace("_", " ")


def constraint_family(name: str) -> str:
    """The experiment family (a key of :data:`FAMILIES`) of a registered constraint.

    From the catalogue kind (dump, invisible, neutrino, cosmology, stars, g-2) and the experiment:
    LHCb, CMS and ATLAS are hadron colliders (displaced LHCb searches included), BaBar, Belle (II),
    BESIII, KLOE and LEP e+e- colliders, other visible searches fixed-target ones.
    """
    if name.startswith("gm2_"):
        return "g-2"
    try:
        row = _catalogue.describe(_registry.get(name))
    except ValueError:
        return "fixed target"
    experiment = row.experiment.lower().replace(" ", "")
    if row.kind in ("cosmology", "stars", "neutrino", "g-2"):
        return row.kind
    if any(experiment.startswith(h) for h in _HADRON_COLLIDERS):
        return "hadron collider"
    if row.kind == "dump":
        return "beam dump"
    if row.kind == "invisible":
        return "invisible"
    if any(experiment.startswith(e) for e in _EE_COLLIDERS):
        return "e+e-"
    return "fixed target"


def _info_label_position(name: str) -> tuple[float, float] | None:
    try:
        pos = getattr(_registry.get(name).info, "label_position", None)
    except ValueError:
        return None
    return None if pos is None else (float(pos[0]), float(pos[1]))


def _luminance(colour: str) -> float:
    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


# -- mass-coupling plane: the numbers ----------------------------------------------------------------

Intervals = list[tuple[NDArray[np.float64], NDArray[np.float64]]]


def _strict(values: NDArray[np.float64]) -> list[float | None]:
    """Finite values as floats, NaN and +-inf as null (strict JSON)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


@dataclass
class MassCouplingData:
    """Excluded g_X intervals per constraint and the (g-2)_mu band, over a mass grid [GeV].

    ``intervals[name]`` is a list of (lower, upper) arrays over the masses: NaN where the constraint
    says nothing (outside its mass range, inside a vetoed window), +inf lower where that slot holds
    no interval, +inf upper where the interval is open above.
    """

    model_name: str
    mixing: str
    masses: NDArray[np.float64]
    intervals: dict[str, Intervals]
    g_low: NDArray[np.float64]
    g_high: NDArray[np.float64]
    dataset: str
    cls: dict[str, float]
    verified: dict[str, bool]
    notes: dict[str, str] = field(default_factory=dict)

    def status(self, name: str) -> list[str]:
        """Per mass: ``excludes``, ``excludes_nothing`` or ``no_statement`` (as ``export``)."""
        ivs = self.intervals[name]
        lo = np.stack([np.broadcast_to(a, self.masses.shape) for a, _ in ivs])
        speaks = np.any(~np.isnan(lo), axis=0)
        excludes = np.any(np.isfinite(lo), axis=0)
        return ["excludes" if e else ("excludes_nothing" if s else "no_statement")
                for s, e in zip(speaks, excludes, strict=True)]  # fmt: skip

    def to_json(self, summary_masses: ArrayLike | None = None) -> dict[str, Any]:
        """The numbers behind the figure: every constraint's curves at every mass (or at the grid
        masses nearest ``summary_masses``) and the g-2 band, as strict JSON.

        Per constraint: ``status`` per mass (``excludes`` / ``excludes_nothing`` / ``no_statement``)
        and ``intervals``, a list of slots with ``lower`` and ``upper`` per mass; ``lower`` null:
        no interval in that slot at that mass; ``upper`` null with a ``lower``: open above.
        """
        idx = np.arange(len(self.masses))
        if summary_masses is not None:
            targets = np.atleast_1d(as_mass(summary_masses))
            idx = np.array([int(np.argmin(np.abs(np.log(self.masses / t)))) for t in targets])
        data = _gm2.dataset(self.dataset)
        constraints: dict[str, Any] = {}
        for name, ivs in self.intervals.items():
            status = self.status(name)
            constraints[name] = {
                "label": pretty_name(name),
                "family": constraint_family(name),
                "cl": self.cls.get(name),
                "verified": self.verified.get(name),
                "status": [status[i] for i in idx],
                "intervals": [
                    {"lower": _strict(np.broadcast_to(lo, self.masses.shape)[idx]),
                     "upper": _strict(np.where(np.isfinite(lo), hi, np.nan)[idx])}
                    for lo, hi in ivs
                ],
            }  # fmt: skip
        return {
            "model": self.model_name,
            "mixing": self.mixing,
            "dataset": self.dataset,
            "masses": [float(m) for m in self.masses[idx]],
            "gm2": {
                "dataset": data.name,
                "kind": data.kind,
                "g_low": _strict(self.g_low[idx]),
                "g_high": _strict(self.g_high[idx]),
            },
            "constraints": constraints,
        }


def mass_coupling_data(
    model: Model,
    masses: ArrayLike | None = None,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
    constraints: Iterable[str] | str = "all",
    dataset: str = "2021",
    nsigma: float = 2.0,
) -> MassCouplingData:
    """Compute every constraint's excluded intervals and the g-2 band for one model (GeV).

    Superseded constraints are left out even when named (their successors carry the limit).
    """
    m = np.geomspace(1e-3, 10.0, 300) if masses is None else np.atleast_1d(as_mass(masses))
    selected = _registry.all() if constraints == "all" else [_registry.get(n) for n in constraints]
    superseded = set(_registry.names(superseded=True)) - set(_registry.names())
    selected = [c for c in selected if c.name not in superseded]
    mix = Mixing.parse(eps, eps_over_g, loop_scale)
    intervals: dict[str, Intervals] = {}
    for c in selected:
        kw: dict[str, Any] = {"loop_scale": loop_scale}
        if mix.kind == "ratio":
            kw["eps_over_g"] = mix.value
        else:
            kw["eps"] = "loop" if mix.kind == "loop" else mix.value
        ivs = [
            (np.broadcast_to(lo, m.shape).astype(float), np.broadcast_to(hi, m.shape).astype(float))
            for lo, hi in c.excluded_intervals(m, model, **kw)
        ]
        if any(np.any(np.isfinite(lo)) for lo, _ in ivs):
            intervals[c.name] = ivs
    band_kw: dict[str, Any] = (
        {"eps": "loop"}
        if mix.kind == "loop"
        else ({"eps_over_g": mix.value} if mix.kind == "ratio" else {"eps": mix.value})
    )
    g_low, g_high = _gm2.band(model, m, dataset=dataset, nsigma=nsigma, loop_scale=loop_scale,
                              **band_kw)  # fmt: skip
    return MassCouplingData(
        model_name=model.name or "custom",
        mixing=mix.describe(),
        masses=m,
        intervals=intervals,
        g_low=np.broadcast_to(g_low, m.shape).astype(float),
        g_high=np.broadcast_to(g_high, m.shape).astype(float),
        dataset=dataset,
        cls={c.name: c.cl for c in selected if c.name in intervals},
        verified={c.name: bool(c.info.verified) for c in selected if c.name in intervals},
        notes={c.name: c.notes for c in selected if c.name in intervals},
    )


# -- mass-coupling plane: geometry ---------------------------------------------------------------------

# Excluded intervals per mass, in log10 g, clipped to the view and merged: one list per mass, or
# None where the constraint says nothing there.
Columns = list[list[tuple[float, float]] | None]


def _columns(ivs: Intervals, y0: float, y1: float) -> Columns:
    """Per mass: the sorted, merged excluded intervals [log10 g] inside the view (y0, y1)."""
    lo = np.stack([np.asarray(a, dtype=float) for a, _ in ivs])
    hi = np.stack([np.asarray(b, dtype=float) for _, b in ivs])
    out: Columns = []
    with np.errstate(divide="ignore", invalid="ignore"):
        llo = np.log10(np.maximum(lo, 0.0))
        lhi = np.log10(hi)
    for i in range(lo.shape[1]):
        if np.all(np.isnan(lo[:, i])):
            out.append(None)
            continue
        pieces = []
        for a, b in zip(llo[:, i], lhi[:, i], strict=True):
            if math.isnan(a) or a == math.inf or math.isnan(b):
                continue  # no interval in this slot
            a, b = max(float(a), y0), min(float(b), y1)
            if b > a:
                pieces.append((a, b))
        out.append(_merge(pieces))
    return out


def _merge(pieces: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(pieces):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _union(columns: Sequence[Columns]) -> Columns:
    """The per-mass union of several constraints' columns (a family envelope)."""
    out: Columns = []
    for per_mass in zip(*columns, strict=True):
        speaking = [c for c in per_mass if c is not None]
        out.append(None if not speaking else _merge([iv for c in speaking for iv in c]))
    return out


def _links(columns: Columns) -> list[tuple[int, int]]:
    """Pairs of mass indices whose intervals are joined: neighbours, and across one mass where the
    constraint is silent (a vetoed window narrower than the grid: no white line is drawn for it)."""
    speak = [i for i, c in enumerate(columns) if c is not None]
    out = []
    for a, b in itertools.pairwise(speak):
        if b - a == 1 or (b - a == 2 and columns[a + 1] is None):
            out.append((a, b))
    return out


Segment = tuple[tuple[float, float], tuple[float, float]]


def _cell_pieces(
    xa: float, xb: float, left: list[tuple[float, float]], right: list[tuple[float, float]]
) -> tuple[list[list[tuple[float, float]]], list[Segment], set[int], set[int]]:
    """Quadrilaterals joining the overlapping intervals of two neighbouring masses (log x, log g),
    their lower and upper edge segments, and which left/right intervals were joined.

    One interval splitting into several (or several merging into one) gets wedge-shaped gaps that
    open from the geometric middle of each gap, so a re-allowed window starts as a point.
    """
    polys: list[list[tuple[float, float]]] = []
    edges: list[Segment] = []
    used_l: set[int] = set()
    used_r: set[int] = set()
    # connected components of the overlap graph
    pairs = [(j, k) for j, (a, b) in enumerate(left) for k, (c, d) in enumerate(right)
             if a <= d and c <= b]  # fmt: skip
    comps: list[tuple[list[int], list[int]]] = []
    for j, k in pairs:
        for ls, rs in comps:
            if j in ls or k in rs:
                if j not in ls:
                    ls.append(j)
                if k not in rs:
                    rs.append(k)
                break
        else:
            comps.append(([j], [k]))

    def quad(lo_a: float, hi_a: float, lo_b: float, hi_b: float) -> None:
        polys.append([(xa, lo_a), (xb, lo_b), (xb, hi_b), (xa, hi_a)])
        edges.append(((xa, lo_a), (xb, lo_b)))
        edges.append(((xa, hi_a), (xb, hi_b)))

    for ls, rs in comps:
        ls.sort()
        rs.sort()
        used_l.update(ls)
        used_r.update(rs)
        if len(ls) == 1:
            a, b = left[ls[0]]
            mids = [0.5 * (right[rs[n]][1] + right[rs[n + 1]][0]) for n in range(len(rs) - 1)]
            mids = [min(max(v, a), b) for v in mids]
            for n, k in enumerate(rs):
                quad(a if n == 0 else mids[n - 1], b if n == len(rs) - 1 else mids[n], *right[k])
        elif len(rs) == 1:
            c, d = right[rs[0]]
            mids = [0.5 * (left[ls[n]][1] + left[ls[n + 1]][0]) for n in range(len(ls) - 1)]
            mids = [min(max(v, c), d) for v in mids]
            for n, j in enumerate(ls):
                lo_b = c if n == 0 else mids[n - 1]
                hi_b = d if n == len(ls) - 1 else mids[n]
                quad(left[j][0], left[j][1], lo_b, hi_b)
        else:  # several to several (rare): join every overlapping pair
            for j, k in pairs:
                if j in ls and k in rs:
                    quad(*left[j], *right[k])
    return polys, edges, used_l, used_r


@dataclass
class _Shape:
    """Fill polygons and edge segments of one region, in (log10 m, log10 g)."""

    polys: list[list[tuple[float, float]]]
    edges: list[Segment]


def _shape(lm: NDArray[np.float64], columns: Columns, y0: float, y1: float) -> _Shape:
    """Polygons and edges of a region; edges along the view's border are not drawn."""
    polys: list[list[tuple[float, float]]] = []
    edges: list[Segment] = []
    joined_right: dict[int, set[int]] = {}
    joined_left: dict[int, set[int]] = {}
    for a, b in _links(columns):
        left, right = columns[a], columns[b]
        assert left is not None
        assert right is not None
        p, e, ul, ur = _cell_pieces(float(lm[a]), float(lm[b]), left, right)
        polys += p
        edges += e
        joined_right.setdefault(a, set()).update(ul)
        joined_left.setdefault(b, set()).update(ur)
    x_lo, x_hi = float(lm[0]), float(lm[-1])
    for i, col in enumerate(columns):
        for n, (lo, hi) in enumerate(col or []):
            x = float(lm[i])
            alone_l = n not in joined_left.get(i, set())
            alone_r = n not in joined_right.get(i, set())
            if alone_l and alone_r:  # an interval at one mass only: a thin sliver half a cell wide
                dx = 0.25 * float(lm[min(i + 1, len(lm) - 1)] - lm[max(i - 1, 0)])
                polys.append([(x - dx, lo), (x + dx, lo), (x + dx, hi), (x - dx, hi)])
                edges += [((x - dx, lo), (x + dx, lo)), ((x - dx, hi), (x + dx, hi))]
                edges += [((x - dx, lo), (x - dx, hi)), ((x + dx, lo), (x + dx, hi))]
                continue
            if (alone_l and x > x_lo) or (alone_r and x < x_hi):  # where a region starts or ends
                edges.append(((x, lo), (x, hi)))
    tol = 1e-9
    edges = [s for s in edges
             if not (abs(s[0][1] - y0) < tol and abs(s[1][1] - y0) < tol)
             and not (abs(s[0][1] - y1) < tol and abs(s[1][1] - y1) < tol)]  # fmt: skip
    return _Shape(polys, edges)


def _path(shape: _Shape) -> MplPath:
    """One compound path of all polygons (data coordinates), filled without seams."""
    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for poly in shape.polys:
        pts = [(10.0**x, 10.0**y) for x, y in poly]
        verts += [*pts, pts[0]]
        codes += [int(MplPath.MOVETO)] + [int(MplPath.LINETO)] * (len(pts) - 1)
        codes.append(int(MplPath.CLOSEPOLY))
    if not verts:
        return MplPath(np.zeros((0, 2)))
    return MplPath(np.array(verts), np.array(codes, dtype=np.uint8))


class _Raster:
    """A grid over the view, uniform in log m (columns) and log g (rows), for areas, visibility and
    label placement. ``pt`` is the size of a cell in points along each axis."""

    def __init__(self, lm: NDArray[np.float64], y0: float, y1: float, nx: int, ny: int,
                 width_pt: float, height_pt: float) -> None:  # fmt: skip
        self.lm = lm
        self.x0, self.x1 = float(lm[0]), float(lm[-1])
        self.y0, self.y1 = y0, y1
        self.nx, self.ny = nx, ny
        self.xs = self.x0 + (np.arange(nx) + 0.5) * (self.x1 - self.x0) / nx
        self.ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
        self.pt = (width_pt / nx, height_pt / ny)

    def mask(self, columns: Columns) -> NDArray[np.bool_]:
        """Cells inside the region (intervals of the nearest grid mass; a bridged silent mass
        takes its left neighbour's)."""
        out = np.zeros((self.ny, self.nx), dtype=bool)
        nearest = np.clip(np.searchsorted(self.lm, self.xs), 1, len(self.lm) - 1)
        left = nearest - 1
        pick = np.where(self.xs - self.lm[left] < self.lm[nearest] - self.xs, left, nearest)
        for ix, i in enumerate(pick):
            col = columns[int(i)]
            if col is None and 0 < i < len(columns) - 1 and columns[int(i) - 1] is not None:
                col = columns[int(i) - 1] if columns[int(i) + 1] is not None else None
            for lo, hi in col or []:
                out[(self.ys >= lo) & (self.ys < hi), ix] = True
        return out

    def cell(self, x: float, y: float) -> tuple[int, int]:
        """(row, column) of a point in (log m, log g)."""
        ix = int((x - self.x0) / (self.x1 - self.x0) * self.nx)
        iy = int((y - self.y0) / (self.y1 - self.y0) * self.ny)
        return iy, ix


@dataclass
class _Region:
    key: str
    label: str
    family: str
    members: list[str]
    columns: Columns
    colour: str = "#888888"
    edge: str = "#222222"
    label_position: tuple[float, float] | None = None


@dataclass
class _Placed:
    x: float  # log10 m
    y: float  # log10 g
    angle: float  # degrees, on screen
    inside: bool


def _text_size(fig: Figure, text: str, fontsize: float) -> tuple[float, float]:
    """Width and height [points] of a label."""
    from matplotlib.text import Text

    t = Text(0, 0, text, fontsize=fontsize, figure=fig)
    box = t.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    return box.width * 72.0 / fig.dpi, box.height * 72.0 / fig.dpi


def _box_cells(r: _Raster, cx: float, cy: float, w: float, h: float, angle: float,
               pad: float = 1.5) -> list[tuple[int, int]] | None:  # fmt: skip
    """Raster cells under a label box centred at cell (cx, cy), w x h points, rotated; None if it
    leaves the view."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    margin = 2.5 / min(r.pt)  # keep labels 2.5 pt off the frame
    nu = max(3, int(w / (2 * r.pt[0])) + 2)
    nv = max(2, int(h / (2 * r.pt[1])) + 2)
    cells = []
    for u in np.linspace(-(w / 2 + pad), w / 2 + pad, nu):
        for v in np.linspace(-(h / 2 + pad / 2), h / 2 + pad / 2, nv):
            px = cx + (u * c - v * s) / r.pt[0]
            py = cy + (u * s + v * c) / r.pt[1]
            if not (margin <= px < r.nx - margin and margin <= py < r.ny - margin):
                return None
            cells.append((int(py), int(px)))
    return cells


def _edge_angle(r: _Raster, full: NDArray[np.bool_], cx: int, half_w: float) -> float:
    """On-screen angle [degrees] of a region's lower edge over a label's width around column cx."""
    span = max(2, int(half_w / r.pt[0]))
    xs, ys = [], []
    for ix in range(max(0, cx - span), min(r.nx, cx + span + 1)):
        rows = np.flatnonzero(full[:, ix])
        if rows.size and rows[0] > 0:
            xs.append(ix * r.pt[0])
            ys.append(rows[0] * r.pt[1])
    if len(xs) < 3:
        return 0.0
    slope = float(np.polyfit(xs, ys, 1)[0])
    angle = math.degrees(math.atan(slope))
    return 0.0 if abs(angle) < 6 else (angle if abs(angle) <= 60 else 0.0)


def _place(
    r: _Raster,
    region: _Region,
    visible: NDArray[np.bool_],
    full: NDArray[np.bool_],
    free: NDArray[np.bool_],
    size: tuple[float, float],
    occupied: NDArray[np.bool_],
) -> _Placed | None:
    """Where the label of a region goes: inside its visible part, nearest its strongest point,
    rotated along its lower edge; else just outside its strongest point in empty space."""
    w, h = size
    if region.label_position is not None:
        m, g = region.label_position
        x, y = math.log10(m), math.log10(g)
        iy, ix = r.cell(x, y)
        angle = _edge_angle(r, full, ix, w / 2) if 0 <= ix < r.nx else 0.0
        cells = _box_cells(r, ix + 0.5, iy + 0.5, w, h, angle)
        if cells is not None:  # other labels keep clear of a fixed one
            _mark(occupied, cells)
        return _Placed(x, y, angle, True)
    rows, cols = np.nonzero(visible)
    if rows.size == 0:
        return None
    # the strongest point: the lowest visible coupling (the middle of the columns that reach it)
    low = rows.min()
    at_low = cols[rows <= low + 1]
    ax_col = float(np.median(at_low))
    anchor = (ax_col, low + h / (2 * r.pt[1]) + 1)
    step = max(1, int(min(w, h) / (3 * max(r.pt))))
    cand = [(int(y), int(x)) for y, x in zip(rows, cols, strict=True) if x % step == 0 and y % step == 0]
    dist = [math.hypot((x - anchor[0]) * r.pt[0], (y - anchor[1]) * r.pt[1]) for y, x in cand]
    for n in np.argsort(dist)[:1500]:
        cy, cx = cand[int(n)]
        angle = _edge_angle(r, full, cx, w / 2)
        for a in (angle, 0.0) if angle else (0.0,):
            cells = _box_cells(r, cx + 0.5, cy + 0.5, w, h, a)
            if cells is None:
                continue
            inside = sum(bool(visible[c]) for c in cells) / len(cells)
            if inside >= 0.97 and not any(occupied[c] for c in cells):
                _mark(occupied, cells)
                return _Placed(float(r.xs[cx]), float(r.ys[cy]), a, True)
    # outside: the free spot (no region, no label) nearest the strongest point, label horizontal
    free_rows, free_cols = np.nonzero(free & ~occupied)
    if free_rows.size:
        reach = 40.0  # points
        d = np.hypot((free_cols - ax_col) * r.pt[0], (free_rows - (low - h / (2 * r.pt[1]))) * r.pt[1])
        near = np.flatnonzero(d < reach)
        for n in near[np.argsort(d[near])][::max(1, step)][:600]:
            cy, cx = int(free_rows[n]), int(free_cols[n])
            cells = _box_cells(r, cx + 0.5, cy + 0.5, w, h, 0.0)
            if cells is not None and all(free[c] and not occupied[c] for c in cells) and \
                    all(free[c] for c in (_box_cells(r, cx + 0.5, cy + 0.5, w, h, 0.0, pad=3.0) or [])):
                _mark(occupied, cells)
                return _Placed(float(r.xs[cx]), float(r.ys[cy]), 0.0, False)
    return None


def _mark(occupied: NDArray[np.bool_], cells: list[tuple[int, int]]) -> None:
    for iy, ix in cells:  # with a 2-cell (about 2.4 pt) margin around the label
        occupied[max(0, iy - 2) : iy + 3, max(0, ix - 2) : ix + 3] = True


@dataclass
class PlotArtists:
    """What a plot function drew (for tests and for further styling), and its caption as text.

    Mass-coupling figures also say how they were drawn: ``order`` (bottom to top), ``envelopes``
    (family -> merged constraints), ``label_positions`` (region -> (m [GeV], g_X, angle [deg])),
    ``hidden`` (constraints fully inside stronger ones) and ``unlabelled``.
    """

    figure: Figure
    ax: Axes
    regions: dict[str, list[Any]] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    band: Any = None
    caption: str = ""
    caption_artist: Any = None
    order: list[str] = field(default_factory=list)
    envelopes: dict[str, list[str]] = field(default_factory=dict)
    label_positions: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)

    def layout(self) -> dict[str, Any]:
        """How the figure was drawn, as JSON-ready data (figures/*.json, key ``figure``)."""
        return {
            "order": self.order,
            "envelopes": self.envelopes,
            "label_positions": {k: [float(v) for v in p] for k, p in self.label_positions.items()},
            "hidden": self.hidden,
            "unlabelled": self.unlabelled,
        }


def _regions(data: MassCouplingData, y0: float, y1: float, combine_families: set[str]) -> list[_Region]:
    """The regions to draw: one per constraint, or one envelope per family in combine_families;
    the g-2 upper limit of an upper-limit data set is a region of the g-2 family."""
    by_family: dict[str, list[str]] = {}
    columns: dict[str, Columns] = {}
    for name, ivs in data.intervals.items():
        columns[name] = _columns(ivs, y0, y1)
        by_family.setdefault(constraint_family(name), []).append(name)
    d = _gm2.dataset(data.dataset)
    if d.kind != "band" and np.any(np.isfinite(data.g_high)):
        name = "gm2_muon"
        ivs = [(np.where(np.isfinite(data.g_high), data.g_high, np.nan),
                np.full(data.masses.shape, np.inf))]  # fmt: skip
        columns[name] = _columns(ivs, y0, y1)
        by_family.setdefault("g-2", []).append(name)
    out = []
    for fam, names in by_family.items():
        if fam in combine_families and len(names) > 1:
            out.append(_Region(f"family:{fam}", FAMILIES[fam].title, fam, sorted(names),
                               _union([columns[n] for n in names])))  # fmt: skip
        else:
            for n in names:
                label = pretty_name(n)
                if n == "gm2_muon":
                    label = rf"$(g-2)_\mu$ {d.name}"
                out.append(_Region(n, label, fam, [n], columns[n],
                                   label_position=_info_label_position(n)))  # fmt: skip
    return out


def _colour(regions: list[_Region], visible: Mapping[str, NDArray[np.bool_]]) -> None:
    """Member colours: a family's shades (alternating lightness) in drawing order, given to the
    visible regions first, so that neighbours on the page differ."""
    count: dict[str, int] = {}
    for reg in sorted(regions, key=lambda r: -int(visible[r.key].sum())):  # the largest first
        fam = FAMILIES[reg.family]
        j = count.get(reg.family, 0)
        count[reg.family] = j + 1
        # the largest visible region of a family gets its light shade (a pale background for the
        # band and the labels), the next its dark one, then alternating
        order = [1, 0, *range(2, len(fam.shades))]
        reg.colour = fam.shades[order[j % len(order)]]
        reg.edge = fam.edge


def _default_g_range(data: MassCouplingData) -> tuple[float, float]:
    return (1e-6, 1.0)


def plot_mass_coupling(
    data: MassCouplingData,
    ax: Axes | None = None,
    g_range: tuple[float, float] | None = None,
    title: str | bool | None = None,
    caption: bool = False,
    *,
    size: Size = "double",
    style: StyleSpec = "zprime_atlas",
    combine: Combine = "auto",
    label_positions: Mapping[str, tuple[float, float]] | None = None,
    labels: bool = True,
) -> PlotArtists:
    """Draw the mass-coupling plane in the atlas style (module docstring): opaque regions stacked by
    strength, labels on the regions, the (g-2)_mu band or upper limit.

    ``g_range``: the g_X axis (default 1e-6 - 1). ``title``: text, ``False`` for none, default the
    model and its mixing. ``caption=True`` also draws the caption under the axes (it is always in
    ``PlotArtists.caption``). ``size``: ``"single"`` or ``"double"`` column. ``style``: see
    :func:`style_context`. ``combine``: ``"none"`` (every constraint its own region), ``"family"``
    (one envelope per experiment family), ``"auto"`` (envelopes only for families whose labels do
    not all fit). ``label_positions``: {constraint or ``family:<key>``: (m [GeV], g_X)} overrides.
    """
    g0, g1 = g_range if g_range is not None else _default_g_range(data)
    y0, y1 = math.log10(g0), math.log10(g1)
    m = data.masses
    lm = np.log10(m)
    with style_context(style, size):
        fig, ax = _new_axes(ax, FIGURE_SIZES[size])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(float(m.min()), float(m.max()))
        ax.set_ylim(g0, g1)
        _decade_ticks(ax)
        ax.set_axisbelow(False)  # ticks (zorder 2.5) above the opaque regions (1 - 2) and the band
        ax.set_xlabel(r"$m_X$ [GeV]")
        ax.set_ylabel(r"$g_X$")
        if title is not False:
            ax.set_title(title if isinstance(title, str) else
                         f"{_tex_model(data.model_name)}, {_mixing_text(data.mixing)}")  # fmt: skip
        artists = PlotArtists(fig, ax)
        d = _gm2.dataset(data.dataset)
        band_ok = np.isfinite(data.g_high) & np.isfinite(data.g_low)
        if np.any(band_ok) and d.kind == "band":
            lower = np.clip(data.g_low, g0, g1)
            artists.band = ax.fill_between(
                m, lower, np.clip(data.g_high, g0, g1), where=band_ok, facecolor="#f5c518",
                edgecolor="black", lw=0.9, zorder=2.2, label=_band_label(data.dataset),
                # dark stripes: the band stays distinct from pale fills in greyscale
                hatch="//////", hatchcolor="#9a7b00",
            )  # fmt: skip
            ax.legend(loc="lower right", handlelength=1.6, borderaxespad=0.6)
        fig.canvas.draw()  # fixes the layout, so label sizes and the axes box are final
        bbox = ax.get_window_extent()
        width_pt, height_pt = bbox.width * 72 / fig.dpi, bbox.height * 72 / fig.dpi
        raster = _Raster(lm, y0, y1, max(60, int(width_pt / 1.2)), max(40, int(height_pt / 1.2)),
                         width_pt, height_pt)  # fmt: skip
        fontsize = _label_fontsize(size)
        reserved = np.zeros((raster.ny, raster.nx), dtype=bool)
        if artists.band is not None:
            band_cols: Columns = [
                [(math.log10(max(lo, g0)), math.log10(min(hi, g1)))] if ok and hi > g0 else None
                for lo, hi, ok in zip(data.g_low, data.g_high, band_ok, strict=True)
            ]
            reserved |= raster.mask(band_cols)
            legend = ax.get_legend()
            if legend is not None:
                lb = legend.get_window_extent()
                sx, sy = raster.nx / bbox.width, raster.ny / bbox.height
                rows = slice(max(0, int((lb.y0 - bbox.y0) * sy) - 1), int((lb.y1 - bbox.y0) * sy) + 2)
                cols = slice(max(0, int((lb.x0 - bbox.x0) * sx) - 1), int((lb.x1 - bbox.x0) * sx) + 2)
                reserved[rows, cols] = True

        overrides = dict(label_positions or {})
        combined: set[str] = set(FAMILIES) if combine == "family" else set()
        for _attempt in range(2 if combine == "auto" else 1):
            regions = _regions(data, y0, y1, combined)
            for reg in regions:
                if reg.key in overrides:
                    reg.label_position = overrides[reg.key]
            masks = {reg.key: raster.mask(reg.columns) for reg in regions}
            regions.sort(key=lambda reg: (int(masks[reg.key].sum()), reg.key))  # weakest first
            covered = np.zeros((raster.ny, raster.nx), dtype=bool)
            visible: dict[str, NDArray[np.bool_]] = {}
            for reg in reversed(regions):  # the top of the stack first
                visible[reg.key] = masks[reg.key] & ~covered
                covered |= masks[reg.key]
            _colour(regions, visible)
            placed: dict[str, _Placed] = {}
            missing: list[_Region] = []
            if labels:
                occupied = reserved.copy()
                sizes = {reg.key: _text_size(fig, reg.label, fontsize) for reg in regions}
                # regions with the least room choose first; fixed positions before all
                for reg in sorted(regions, key=lambda r: (r.label_position is None,
                                                           int(visible[r.key].sum()))):  # fmt: skip
                    if not visible[reg.key].any() and reg.label_position is None:
                        continue
                    spot = _place(raster, reg, visible[reg.key], masks[reg.key], ~covered,
                                  sizes[reg.key], occupied)  # fmt: skip
                    if spot is None:
                        missing.append(reg)
                    else:
                        placed[reg.key] = spot
            if combine != "auto" or not missing:
                break
            # a family whose labels collide: at least two of its members found no room
            crowded = {reg.family for reg in missing
                       if sum(r.family == reg.family for r in missing) > 1}  # fmt: skip
            if not crowded - combined:
                break
            combined |= crowded

        for z, reg in enumerate(regions):
            shape = _shape(lm, reg.columns, y0, y1)
            patch = PathPatch(_path(shape), facecolor=reg.colour, edgecolor="none", lw=0,
                              zorder=1 + z / (len(regions) + 1))  # fmt: skip
            ax.add_patch(patch)
            segs = [[(10.0**a[0], 10.0**a[1]), (10.0**b[0], 10.0**b[1])] for a, b in shape.edges]
            lines = LineCollection(segs, colors=reg.edge, linewidths=0.7, capstyle="round",
                                   joinstyle="round")  # fmt: skip
            lines.set_zorder(1 + (z + 0.5) / (len(regions) + 1))  # just above its own fill
            ax.add_collection(lines, autolim=False)
            artists.regions[reg.key] = [patch, lines]
            artists.order.append(reg.key)
            if reg.key.startswith("family:"):
                artists.envelopes[reg.family] = reg.members
            if not visible[reg.key].any():
                artists.hidden += reg.members
        for reg in regions:
            spot = placed.get(reg.key)
            if spot is None:
                continue
            colour = ("white" if _luminance(reg.colour) < 0.5 else reg.edge) if spot.inside else reg.edge
            artists.labels[reg.key] = ax.text(
                10.0**spot.x, 10.0**spot.y, reg.label, fontsize=fontsize, color=colour,
                rotation=spot.angle, rotation_mode="anchor", ha="center", va="center",
                zorder=3, clip_on=True,
            )  # fmt: skip
            artists.label_positions[reg.key] = (10.0**spot.x, 10.0**spot.y, spot.angle)
        artists.unlabelled = [m_ for reg in regions if reg.key not in placed
                              and visible[reg.key].any() for m_ in reg.members]  # fmt: skip
        artists.caption = _caption(data, artists)
        if caption:
            artists.caption_artist = fig.text(0.01, 0.0, "\n".join(textwrap.wrap(artists.caption, 150)),
                                              ha="left", va="top", fontsize=fontsize)  # fmt: skip
        _finish(fig)
        return artists


def _gm2_phrase(data: Any) -> str:
    """How a survey or plane uses the data set: inside its band, or at its upper limit."""
    if data.kind == "band":
        return r"$\pm2\sigma$ band"
    return "at its 95% CL upper limit (no preferred band)"


def _band_label(dataset: str) -> str:
    d = _gm2.dataset(dataset)
    if d.kind == "band":
        return (
            rf"$(g-2)_\mu$ $\pm2\sigma$, {d.name}: $\Delta a_\mu = "
            rf"{d.delta * 1e11:.0f}({d.sigma * 1e11:.0f})\times10^{{-11}}$"
        )
    return rf"$(g-2)_\mu$ {d.name}: excluded above its 95% CL upper limit"


def _tex_model(name: str) -> str:
    text = name.replace("Lmu", r"L_\mu").replace("Ltau", r"L_\tau").replace("Le", "L_e")
    return f"${text}$" if name != "dark-photon" else "dark photon"


def _mixing_text(mixing: str) -> str:
    """Words for a :meth:`Mixing.describe` string: 'no kinetic mixing' only for eps = 0 exactly."""
    if mixing.startswith("loop"):
        return r"loop-induced kinetic mixing $\epsilon$"
    key, _, value = mixing.replace(" ", "").partition("=")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if key in ("eps", "eps/g_X") and number == 0.0:
        return "no kinetic mixing"
    return mixing.replace("eps/g_X", r"$\epsilon/g_X$").replace("eps", r"$\epsilon$")


def _unverified(names: Iterable[str]) -> list[str]:
    out = []
    for name in names:
        try:
            if not _registry.get(name).info.verified:
                out.append(pretty_name(name))
        except ValueError:
            continue
    return out


def _plain(text: str) -> str:
    """A label without mathtext markup, for captions written as plain text."""
    for a, b in ((r"\gamma", "gamma"), (r"\ell", "l"), (r"\mu", "mu"), (r"\pi", "pi"),
                 (r"\nu", "nu"), (r"\tau", "tau"), (r"\to", "->"), (r"\,", " "), (r"{\rm eff}", "eff"),
                 (r"\pm", "+-"), (r"\sigma", "sigma"), (r"\epsilon", "eps"), ("$", ""), ("_", ""),
                 ("^", "")):  # fmt: skip
        text = text.replace(a, b)
    return text


def _caption(data: MassCouplingData, artists: PlotArtists) -> str:
    """The figure caption: what is drawn, at which CL, what is merged or hidden, what is unverified."""
    by_cl: dict[str, list[str]] = {}
    for name, cl in sorted(data.cls.items()):
        by_cl.setdefault(f"{cl:.0%}", []).append(_plain(pretty_name(name)))
    d = _gm2.dataset(data.dataset)
    parts = [
        f"Excluded regions in the (m_X, g_X) plane of {data.model_name} "
        f"({_plain(_mixing_text(data.mixing))}), "
        "each at its experiment's CL ("
        + "; ".join(f"{cl} CL: " + ", ".join(names) for cl, names in sorted(by_cl.items()))
        + "). Opaque fills are stacked by strength (the strongest limit on top)."
    ]
    if d.kind == "band":
        parts.append(f"Yellow band: the coupling that explains the {d.name} (g-2)_mu value Delta a_mu "
                     f"= {d.delta * 1e11:.0f}({d.sigma * 1e11:.0f})e-11 within 2 sigma.")  # fmt: skip
    else:
        parts.append(f"(g-2)_mu {d.name} is an upper limit (95% CL): the region above it is excluded.")
    for fam, members in artists.envelopes.items():
        parts.append(f"{_plain(FAMILIES[fam].title).capitalize()} (one envelope): "
                     + ", ".join(_plain(pretty_name(n)) for n in members) + ".")  # fmt: skip
    if artists.hidden:
        parts.append("Inside stronger limits everywhere (not visible): "
                     + ", ".join(_plain(pretty_name(n)) for n in artists.hidden) + ".")  # fmt: skip
    if artists.unlabelled:
        parts.append("Drawn without an in-plot label (no room): "
                     + ", ".join(_plain(pretty_name(n)) for n in artists.unlabelled) + ".")  # fmt: skip
    unverified = [_plain(pretty_name(n)) for n, ok in sorted(data.verified.items()) if not ok]
    if unverified:
        parts.append("Inputs not yet verified against the papers: " + ", ".join(unverified) + ".")
    return " ".join(parts)


# -- alpha-R plane ---------------------------------------------------------------------------------


def mixing_title(result: ScanResult) -> str:
    """Words for a scan's kinetic-mixing axis, from its settings: 'no kinetic mixing' only when the
    scan fixed eps (or eps/g_X) to 0, 'free kinetic mixing' when it scanned xi = g_e/g_X."""
    values = np.asarray(result.mix_values, dtype=float).reshape(-1)
    kind = result.mix_kind
    if kind == "xi":
        return "free kinetic mixing"
    if kind == "loop":
        return "loop-induced kinetic mixing"
    symbol = r"$\epsilon$" if kind == "eps" else r"$\epsilon/g_X$"
    if values.size and np.all(values == 0):
        return "no kinetic mixing"
    if values.size == 1:
        return f"{symbol} = {values[0]:.3g}"
    return f"{symbol} scanned ({values.size} values, {values.min():.3g} to {values.max():.3g})"


def _family_axes(result: ScanResult) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[int, int]]:
    fam = result.models.family
    shape = tuple(int(v) for v in fam.get("batch_shape", []))
    if fam.get("kind") != "alpha-R" or len(shape) != 2:
        raise ValueError("this scan is not an alpha-R plane (scan alpha_r(alpha[:, None], R[None, :]))")
    alpha = np.asarray(fam["alpha"], dtype=float).reshape(-1)
    r = np.asarray(fam["R"], dtype=float).reshape(-1)
    return alpha, r, (shape[0], shape[1])


def alpha_r_summary(no_mixing: ScanResult, free_mixing: ScanResult) -> dict[str, Any]:
    """Numbers behind the alpha-R figure: the allowed fraction of each panel
    (:meth:`ScanResult.allowed_fraction` at the plane's mass, the number in its title) and which
    constraint closes how many models."""
    out: dict[str, Any] = {}
    for key, res in (("no_mixing", no_mixing), ("free_mixing", free_mixing)):
        closing = _closing_constraint(res)
        names = res.constraint_names
        counts = {names[i]: int(np.sum(closing == i)) for i in range(len(names))}
        out[key] = {
            "mass": float(res.masses[0]),
            "mixing": _plain(mixing_title(res)),
            "n_points": int(closing.size),
            "allowed_fraction": res.allowed_fraction(mass_index=0),
            "closed_by": {k: v for k, v in counts.items() if v},
        }
    return out


def _closing_constraint(res: ScanResult) -> NDArray[np.int64]:
    """Per model (first mass): the constraint that closes it, -1 if allowed, -2 if no band.

    At the mixing value where the fewest band couplings are excluded (the model's best chance),
    the constraint excluding the most couplings there.
    """
    counts = np.stack([res.excluded_count(n)[:, 0].astype(int) for n in res.constraint_names])
    n_allowed = res.allowed[:, 0].sum(axis=-1)  # (N, K)
    has_band = np.isfinite(res.g_high[:, 0])
    best_k = np.argmax(np.where(has_band, n_allowed * 1000 - counts.sum(axis=0), -(10**9)), axis=1)
    at_best = np.take_along_axis(counts, best_k[None, :, None], axis=2)[..., 0]  # (C, N)
    closing = np.argmax(at_best, axis=0)
    allowed = res.best_mix()[:, 0]
    no_band = ~np.any(np.isfinite(res.g_high[:, 0]), axis=-1)
    return np.asarray(np.where(allowed, -1, np.where(no_band, -2, closing)), dtype=np.int64)


#: Lightness (HLS) of successive alpha-R categories: neighbours in the legend differ in greyscale.
_LIGHTNESS_STEPS = (0.30, 0.80, 0.50, 0.92, 0.40, 0.70, 0.60, 0.86, 0.35, 0.75)


def _with_lightness(colour: str, lightness: float) -> str:
    """The colour with its hue and saturation, at the given HLS lightness."""
    import colorsys

    from matplotlib.colors import to_hex

    h, _, s = colorsys.rgb_to_hls(*to_rgb(colour))
    return to_hex(colorsys.hls_to_rgb(h, lightness, s))


#: Hatches of the alpha-R categories (with the family shades: distinct in greyscale too).
_HATCHES = ("////", "\\\\\\\\", "xxxx", "....", "||||", "----", "++++", "oo", "//\\\\", "**")


def _smooth_categories(cat: NDArray[np.int64], values: Sequence[int], zoom: int) -> NDArray[np.int64]:
    """Categories on a ``zoom`` times finer grid: bilinear interpolation of each category's
    indicator, then the largest (smooth boundaries instead of grid steps)."""
    from scipy.ndimage import gaussian_filter
    from scipy.ndimage import zoom as _zoom

    # bilinear upsampling, then a light blur of about a third of a grid cell: diagonal boundaries
    # lose their staircase, one-cell regions survive
    stack = np.stack([gaussian_filter(_zoom((cat == v).astype(float), zoom, order=1, mode="nearest"),
                                      0.35 * zoom, mode="nearest") for v in values])  # fmt: skip
    return np.asarray(np.asarray(values)[np.argmax(stack, axis=0)], dtype=np.int64)


def plot_alpha_r(
    no_mixing: ScanResult,
    free_mixing: ScanResult | None = None,
    axes: Sequence[Axes] | None = None,
    *,
    size: Size = "double",
    style: StyleSpec = "zprime_atlas",
    zoom: int = 4,
) -> PlotArtists:
    """Where a (g-2)_mu solution survives in the alpha-R plane, and which constraint closes the rest.

    One panel per scan given (typically eps = 0 and free mixing); each panel's title is derived from
    its scan's mixing setting and states its allowed fraction (:meth:`ScanResult.allowed_fraction`
    at the plane's mass). Colours: the constraint that excludes the most couplings of the band, in
    its family's palette with its own hatch; white with a black contour: allowed; light grey: no
    muon coupling. Boundaries are smoothed on a ``zoom`` times finer grid.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    panels = [no_mixing] + ([free_mixing] if free_mixing is not None else [])
    with style_context(style, size):
        if axes is None:
            width = FIGURE_SIZES[size][0]
            fig, axs_arr = plt.subplots(1, len(panels), figsize=(width, 0.56 * width),
                                        squeeze=False, layout="constrained")  # fmt: skip
            axs = list(axs_arr[0])
        else:
            axs = list(axes)
            root = axs[0].get_figure(root=True)
            assert isinstance(root, Figure)
            fig = root
        artists = PlotArtists(fig, axs[0])
        names = sorted({res.constraint_names[int(v)] for res in panels
                        for v in np.unique(_closing_constraint(res)) if v >= 0})  # fmt: skip
        colour: dict[str, str] = {}
        hatch: dict[str, str] = {}
        for n, name in enumerate(names):  # family hue, lightness stepped over all categories
            colour[name] = _with_lightness(FAMILIES[constraint_family(name)].shades[0],
                                           _LIGHTNESS_STEPS[n % len(_LIGHTNESS_STEPS)])  # fmt: skip
            hatch[name] = _HATCHES[n % len(_HATCHES)]
        for ax, res in zip(axs, panels, strict=False):
            alpha, r_axis, shape = _family_axes(res)
            closing = _closing_constraint(res).reshape(shape)
            cat = np.full(shape, -2, dtype=np.int64)
            cat[closing == -1] = -1
            for i, name in enumerate(res.constraint_names):
                if name in names:
                    cat[closing == i] = names.index(name)
            values = sorted(int(v) for v in np.unique(cat))
            fine = _smooth_categories(cat, values, zoom)
            rgb = np.ones((*fine.shape, 3))
            rgb[fine == -2] = to_rgb("#e4e4e4")
            for v in values:
                if v >= 0:
                    rgb[fine == v] = to_rgb(colour[names[v]])
            x = alpha / np.pi
            dx, dy = (x[1] - x[0]) / 2, (r_axis[1] - r_axis[0]) / 2
            extent = (float(x[0] - dx), float(x[-1] + dx), float(r_axis[0] - dy), float(r_axis[-1] + dy))
            ax.imshow(np.transpose(rgb, (1, 0, 2)), origin="lower", extent=extent, aspect="auto",
                      interpolation="nearest", zorder=1)  # fmt: skip
            fx = np.linspace(extent[0], extent[1], fine.shape[0])
            fy = np.linspace(extent[2], extent[3], fine.shape[1])
            for v in values:
                ind = (fine == v).T.astype(float)
                if v >= 0:
                    hatched = ax.contourf(fx, fy, ind, levels=[0.5, 1.5], colors="none",
                                          hatches=[hatch[names[v]]], zorder=2)  # fmt: skip
                    dark = _luminance(colour[names[v]]) < 0.5
                    edge = FAMILIES[constraint_family(names[v])].edge
                    hatched.set_edgecolor("white" if dark else edge)
                    hatched.set_linewidth(0.0)
                    ax.contour(fx, fy, ind, levels=[0.5], colors=["#333333"], linewidths=0.4, zorder=2.1)
            allowed = (fine == -1).T.astype(float)
            if allowed.any():
                ax.contour(fx, fy, allowed, levels=[0.5], colors="black", linewidths=1.1, zorder=2.2)
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
            ax.set_axisbelow(False)
            ax.set_xlabel(r"$\alpha/\pi$")
            ax.set_ylabel(r"$R$")
            ax.set_title(f"{mixing_title(res)}: {100 * res.allowed_fraction(mass_index=0):.1f}% allowed")
        handles = [Patch(facecolor="white", edgecolor="black", lw=1.0, label="g-2 solution allowed")]
        if any(np.any(_closing_constraint(res) == -2) for res in panels):
            handles.append(Patch(facecolor="#e4e4e4", edgecolor="none", label="no muon coupling"))
        for name in names:
            handles.append(Patch(facecolor=colour[name], hatch=hatch[name],
                                 edgecolor=FAMILIES[constraint_family(name)].edge, lw=0.4,
                                 label=f"closed by {pretty_name(name)}"))  # fmt: skip
        fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize="small",
                   handlelength=2.2, handleheight=1.1)  # fmt: skip
        m = no_mixing.masses[0]
        data = _gm2.dataset(str(no_mixing.attrs.get("dataset", "2021")))
        fig.suptitle(
            rf"$X = \sin\alpha\,(L_e-L_\mu) + \cos\alpha\,(B/3-L_\mu) + R\,(L_\mu-L_\tau)$, "
            rf"$m_X$ = {m * 1e3:.0f} MeV; $(g-2)_\mu$ {data.name} " + _gm2_phrase(data),
            fontsize="medium",
        )
        all_names = sorted({n for res in panels for n in res.constraint_names})
        parts = [
            f"The alpha-R plane of U(1)_X models at m_X = {m * 1e3:.0f} MeV, alpha in [-pi/2, pi/2) "
            "((alpha + pi, -R) is the same model with X -> -X). Each panel: "
            + "; ".join(f"{_plain(mixing_title(res))}, {100 * res.allowed_fraction(mass_index=0):.1f}% "
                        "of the models allowed" for res in panels)
            + ". Allowed fraction: the share of models for which some coupling inside the "
            f"(g-2)_mu {data.name} band is allowed by every constraint for some mixing value. "
            "Elsewhere the colour names the constraint that excludes the most couplings of the band "
            "at the model's best mixing value.",
            "Constraints: " + ", ".join(_plain(pretty_name(n)) for n in all_names) + ".",
        ]
        unverified = _unverified(all_names)
        if unverified:
            parts.append("Inputs not yet verified against the papers: "
                         + ", ".join(_plain(u) for u in unverified) + ".")  # fmt: skip
        artists.caption = " ".join(parts)
        _finish(fig)
        return artists


# -- survey ------------------------------------------------------------------------------------------


def survey_summary(result: ScanResult) -> dict[str, Any]:
    """Numbers behind the survey figure: viable models (every search covering the mass speaks),
    gap-only models (they survive only where a search covering the mass is silent), and where."""
    split = result.survey_summary()

    def row(v: dict[str, Any]) -> dict[str, Any]:
        return {
            "label": v["label"],
            "charges": v.get("charges", {}),
            "mass_intervals": [iv["mass"] for iv in v["mass_intervals"]],
            "g_X": v["g_X"],
            "n_masses": len(v["masses"]),
        }

    return {
        "n_models": int(result.shape[0]),
        "dataset": result.attrs.get("dataset"),
        "n_viable": split["n_viable"],
        "n_gap_only": split["n_gap_only"],
        "vetoed_masses": [float(m) for m in result.masses[result.vetoed_masses()]],
        "viable": [row(v) for v in split["viable"]],
        "gap_only": [row(v) for v in split["gap_only"]],
        "constraints": list(result.constraint_names),
    }


def _baryon_group(charges: Mapping[str, float]) -> str:
    """The charge family of a survey row: lepton numbers only, or with baryon number."""
    return "lepton numbers only" if float(charges.get("B", 0.0)) == 0 else "with baryon number"


#: Survey map categories: (value, colour, legend text).
_SURVEY_CATEGORIES: tuple[tuple[int, str, str], ...] = (
    (0, "#ffffff", "excluded"),
    (1, "#dcdcdc", "a search is silent here for every model"),
    (2, "#74b77f", "allowed only in a search gap"),
    (3, "#0f4d2c", "viable"),
)


def plot_survey(
    result: ScanResult,
    ax: Axes | None = None,
    max_rows: int | None = None,
    *,
    size: Size = "double",
    style: StyleSpec = "zprime_atlas",
) -> PlotArtists:
    """The survey at a glance: a model x mass map of every viable model (grouped by the baryon-number
    coefficient of its charges), then the gap-only ones; dark: viable at that mass (some xi and some
    g_X of the band allowed, every search covering the mass speaking), light: allowed only where a
    search is silent, grey: masses where a search is silent for every model.

    ``max_rows`` limits the rows (default: all). With ``ax`` everything is drawn in one panel;
    otherwise the rows are split over two side-by-side panels.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    summary = survey_summary(result)
    viable = sorted(summary["viable"], key=lambda v: float(v["charges"].get("B", 0.0)) != 0)
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for v in viable:
        g = _baryon_group(v["charges"])
        if not groups or groups[-1][0] != g:
            groups.append((g, []))
        groups[-1][1].append(v)
    if summary["gap_only"]:
        groups.append(("gap-only (not viable)", list(summary["gap_only"])))
    models: list[tuple[str, dict[str, Any]]] = [(g, v) for g, items in groups for v in items]
    if max_rows is not None:
        models = models[:max_rows]
    # one header row (None) above each group of models
    rows: list[tuple[str, dict[str, Any] | None]] = []
    for g, v in models:
        if not rows or rows[-1][0] != g:
            rows.append((g, None))
        rows.append((g, v))
    labels = list(result.labels)
    allowed = np.any(result.allowed_in_band, axis=2)  # (N, M)
    gaps = result.gap_mask()
    vetoed = result.vetoed_masses()
    status = np.zeros((len(rows), len(result.masses)), dtype=int)
    for j, (_, row) in enumerate(rows):
        if row is None:
            continue
        i = labels.index(row["label"])
        status[j] = np.where(allowed[i] & ~gaps[i], 3, np.where(allowed[i], 2, np.where(vetoed, 1, 0)))
    cmap = ListedColormap([c for _, c, _ in _SURVEY_CATEGORIES])
    edges = np.sqrt(result.masses[1:] * result.masses[:-1])
    edges = np.concatenate([[result.masses[0] ** 2 / edges[0]], edges,
                            [result.masses[-1] ** 2 / edges[-1]]])  # fmt: skip
    with style_context(style, size):
        width = FIGURE_SIZES[size][0]
        if ax is None:
            n_panels = 2 if len(rows) > 24 else 1
            per = math.ceil(len(rows) / n_panels)
            height = max(2.2, 0.118 * per + 1.3)
            fig, axs_arr = plt.subplots(1, n_panels, figsize=(width, height), squeeze=False,
                                        layout="constrained")  # fmt: skip
            axs = list(axs_arr[0])
            splits = [(k * per, min(len(rows), (k + 1) * per)) for k in range(n_panels)]
        else:
            root = ax.get_figure(root=True)
            assert isinstance(root, Figure)
            fig, axs, splits = root, [ax], [(0, len(rows))]
        artists = PlotArtists(fig, axs[0])
        fontsize = _label_fontsize(size)
        for a, (start, stop) in zip(axs, splits, strict=True):
            block = status[start:stop]
            a.pcolormesh(edges, np.arange(stop - start + 1) - 0.5, block, cmap=cmap, vmin=-0.5,
                         vmax=3.5, shading="flat", rasterized=True)  # fmt: skip
            a.set_xscale("log")
            a.set_xlim(edges[0], edges[-1])
            a.set_ylim(stop - start - 0.5, -0.5)
            a.set_yticks(range(stop - start))
            a.set_yticklabels(["" if v is None else _tex_model(v["label"]) for _, v in rows[start:stop]],
                              fontsize=fontsize)  # fmt: skip
            a.tick_params(axis="y", which="both", length=0)
            a.yaxis.set_minor_locator(mpl.ticker.NullLocator())
            a.set_xlabel(r"$m_X$ [GeV]")
            for j in range(start, stop):  # group headers: a rule and the group's name
                if rows[j][1] is None:
                    if j > start:
                        a.axhline(j - start - 0.5, color="black", lw=0.8, zorder=3)
                    a.text(0.01, j - start, rows[j][0], transform=a.get_yaxis_transform(),
                           ha="left", va="center", fontsize=fontsize, color="black",
                           fontweight="bold")  # fmt: skip
                elif j > start and rows[j - 1][1] is not None:
                    a.axhline(j - start - 0.5, color="white", lw=0.35, zorder=2)
            if rows[start][1] is not None:  # a group continued from the previous panel
                a.text(0.01, -0.75, rows[start][0] + " (continued)", transform=a.get_yaxis_transform(),
                       ha="left", va="bottom", fontsize=fontsize, fontweight="bold")  # fmt: skip
        data = _gm2.dataset(str(summary["dataset"]))
        fig.suptitle(
            f"{summary['n_viable']} of {summary['n_models']} anomaly-free U(1)$_X$ models "
            f"(integer charges up to 10) viable, {summary['n_gap_only']} more only in search gaps\n"
            f"$(g-2)_\\mu$ {data.name} {_gm2_phrase(data)}, free kinetic mixing",
            fontsize="medium",
        )
        handles = [Patch(facecolor=c, edgecolor="#555555", lw=0.4, label=t)
                   for v, c, t in _SURVEY_CATEGORIES if v > 0]  # fmt: skip
        fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize="small")
        parts = [
            f"The max-charge-10 survey: {summary['n_viable']} of {summary['n_models']} anomaly-free "
            "quark-universal U(1)_X models are viable (for some mass and kinetic mixing, a coupling "
            f"inside the 2 sigma (g-2)_mu {data.name} band is allowed by every constraint, at a mass "
            "where every search covering it speaks); rows grouped by the baryon-number coefficient "
            f"of the charges; {summary['n_gap_only']} gap-only models at the bottom. Table: "
            "survey_table.md.",
            "Constraints: " + ", ".join(_plain(pretty_name(n)) for n in result.constraint_names) + ".",
        ]
        unverified = _unverified(result.constraint_names)
        if unverified:
            parts.append("Inputs not yet verified against the papers: "
                         + ", ".join(_plain(u) for u in unverified) + ".")  # fmt: skip
        artists.caption = " ".join(parts)
        _finish(fig)
        return artists


def plot_scan(result: ScanResult, ax: Axes | None = None, **kwargs: Any) -> PlotArtists:
    """Draw a stored scan: an alpha-R plane, a survey, or a one-model mass-coupling grid.

    Keyword arguments (``size``, ``style``) go to the plot function.
    """
    fam = result.models.family
    if result.kind == "survey":
        return plot_survey(result, ax, **kwargs)
    if fam.get("kind") == "alpha-R":
        return plot_alpha_r(result, **kwargs)
    if result.shape[0] != 1 or result.couplings.ndim != 1:
        raise ValueError("plot needs an alpha-R scan, a survey, or a one-model scan with explicit g_X")
    size: Size = kwargs.get("size", "double")
    with style_context(kwargs.get("style", "zprime_atlas"), size):
        fig, ax = _new_axes(ax, FIGURE_SIZES[size])
        allowed = result.allowed[0, :, :, :].any(axis=1)  # (M, G): allowed for some mixing value
        ax.pcolormesh(result.masses, result.couplings, allowed.T.astype(float), cmap="Greys_r",
                      vmin=-0.5, vmax=1.0, shading="nearest")  # fmt: skip
        lo, hi = result.g_low[0, :, 0], result.g_high[0, :, 0]
        band = None
        if np.any(np.isfinite(hi)):
            band = ax.fill_between(result.masses, np.where(np.isfinite(lo), lo, result.couplings[0]),
                                   hi, facecolor="#f5c518", edgecolor="black", lw=0.8,
                                   label=r"$(g-2)_\mu$ band")  # fmt: skip
            ax.legend(loc="upper left")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$m_X$ [GeV]")
        ax.set_ylabel(r"$g_X$")
        name = _tex_model(str(result.models.name or result.labels[0]))
        ax.set_title(f"{name}, {mixing_title(result)}: white = allowed by every constraint")
        out = PlotArtists(fig, ax, band=band)
        out.caption = (f"Allowed fraction {result.allowed_fraction():.3g} ("
                       "share of masses where some g_X of the axis is allowed for some mixing value).")
        _finish(fig)
        return out
