"""Exclusion plots: compute the numbers (``*_data``), then draw them (``plot_*``), separately.

Plot functions take ``ax=None`` (a new figure otherwise), never change global rcParams (the style is
applied with a context manager), use mathtext (no LaTeX install needed), label every excluded region
next to its own curve, state CLs and data sets in the caption, and return the artists they drew.
Masses in GeV on every axis.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from . import constraints as _registry
from . import gm2 as _gm2
from ._validate import as_mass
from .couplings import Mixing
from .engine import ScanResult
from .models import Model

__all__ = [
    "STYLE",
    "MassCouplingData",
    "alpha_r_summary",
    "mass_coupling_data",
    "plot_alpha_r",
    "plot_mass_coupling",
    "plot_scan",
    "plot_survey",
    "survey_summary",
]

#: The package's plot style (applied with ``matplotlib.rc_context`` inside each plot function).
STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.labelsize": 11,
    "axes.titlesize": 11,
    "legend.fontsize": 8,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "axes.linewidth": 0.8,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "text.usetex": False,
    "mathtext.fontset": "dejavusans",
    "hatch.linewidth": 0.45,
}

# Experiment families: (colour, hatch). Colours differ in lightness too, and every family has its own
# hatch, so regions stay distinguishable in greyscale.
_FAMILIES: list[tuple[str, str, str]] = [
    # specific searches first (the first matching prefix wins), then experiment families
    ("babar_2017", "#5dade2", "\\"),
    ("babar_2016", "#0b2a5b", "-"),
    ("na64_2019", "#58d68d", "+"),
    ("lhcb_2017", "#f1948a", "x"),
    ("babar", "#1f4e9c", "/"),
    ("belle2", "#6a3d9a", "\\"),
    ("lhcb", "#c0392b", "x"),
    ("na64", "#1b7a3e", "."),
    ("ccfr", "#d35400", "-"),
    ("charm2", "#e69f00", "|"),
    ("borexino", "#7f4f24", "\\"),
    ("coherent", "#8a8a00", "+"),
    ("nsi", "#555555", "x"),
    ("gm2_electron", "#b03a7a", "|"),
]

_PRETTY = {
    "babar_2014_visible": "BaBar $\\gamma X(\\ell\\ell)$",
    "babar_2016_4mu": "BaBar $4\\mu$",
    "babar_2017_invisible": "BaBar $\\gamma$+inv",
    "belle2_2019_invisible": "Belle II $\\mu\\mu$+inv",
    "lhcb_2017_prompt": "LHCb 2017",
    "lhcb_2019_prompt": "LHCb",
    "na64_2018_visible": "NA64 vis. 2018",
    "na64_2020_visible": "NA64 vis.",
    "na64_2019_invisible": "NA64 inv.",
    "ccfr_trident": "CCFR",
    "charm2_trident": "CHARM-II",
    "borexino": "Borexino",
    "nsi_oscillation": "NSI (osc.)",
    "coherent_csi_2017": "COHERENT",
    "gm2_electron_cs": "$(g-2)_e$ Cs",
    "gm2_electron_rb": "$(g-2)_e$ Rb",
}


def _family_style(name: str) -> tuple[str, str]:
    for prefix, colour, hatch in _FAMILIES:
        if name.startswith(prefix):
            return colour, hatch
    return "#444444", "//"


def pretty_name(name: str) -> str:
    """Short mathtext label of a constraint: the built-in table, else the constraint's own display
    label (recast metadata ``label``), else its name."""
    if name in _PRETTY:
        return _PRETTY[name]
    try:
        label = getattr(_registry.get(name).info, "label", "")
    except ValueError:
        label = ""
    return label or name.replace("_", " ")


@contextmanager
def _styled():
    with mpl.rc_context(STYLE):
        yield


def _new_axes(ax: Axes | None, size: tuple[float, float] = (6.4, 4.6)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, new_ax = plt.subplots(figsize=size)
    return fig, new_ax


# -- mass-coupling plane ---------------------------------------------------------------------------


@dataclass
class MassCouplingData:
    """Excluded g_X intervals per constraint and the (g-2)_mu band, over a mass grid [GeV]."""

    model_name: str
    mixing: str
    masses: NDArray[np.float64]
    intervals: dict[str, list[tuple[NDArray[np.float64], NDArray[np.float64]]]]
    g_low: NDArray[np.float64]
    g_high: NDArray[np.float64]
    dataset: str
    cls: dict[str, float]
    verified: dict[str, bool]
    notes: dict[str, str] = field(default_factory=dict)

    def to_json(self, summary_masses: ArrayLike | None = None) -> dict[str, Any]:
        """Numbers behind the figure at (a subset of) the masses: limits per constraint, band."""
        idx = np.arange(len(self.masses))
        if summary_masses is not None:
            targets = np.atleast_1d(as_mass(summary_masses))
            idx = np.array([int(np.argmin(np.abs(np.log(self.masses / t)))) for t in targets])

        def clean(a: NDArray) -> list[float | str | None]:
            return [None if math.isnan(v) else ("inf" if math.isinf(v) else float(v)) for v in a]

        return {
            "model": self.model_name,
            "mixing": self.mixing,
            "dataset": self.dataset,
            "masses": [float(m) for m in self.masses[idx]],
            "gm2_band": {"g_low": clean(self.g_low[idx]), "g_high": clean(self.g_high[idx])},
            "constraints": {
                name: [{"lower": clean(lo[idx]), "upper": clean(hi[idx])} for lo, hi in ivs]
                for name, ivs in self.intervals.items()
            },
            "cl": self.cls,
            "verified": self.verified,
        }


def mass_coupling_data(
    model: Model,
    masses: ArrayLike = None,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
    constraints: Iterable[str] | str = "all",
    dataset: str = "2021",
    nsigma: float = 2.0,
) -> MassCouplingData:
    """Compute every constraint's excluded intervals and the g-2 band for one model (GeV)."""
    m = np.geomspace(1e-3, 10.0, 300) if masses is None else np.atleast_1d(as_mass(masses))
    selected = _registry.all() if constraints == "all" else [_registry.get(n) for n in constraints]
    mix = Mixing.parse(eps, eps_over_g, loop_scale)
    intervals: dict[str, list] = {}
    for c in selected:
        kw: dict[str, Any] = {"loop_scale": loop_scale}
        if mix.kind == "ratio":
            kw["eps_over_g"] = mix.value
        else:
            kw["eps"] = "loop" if mix.kind == "loop" else mix.value
        ivs = c.excluded_intervals(m, model, **kw)
        ivs = [
            (np.broadcast_to(lo, m.shape).astype(float), np.broadcast_to(hi, m.shape).astype(float))
            for lo, hi in ivs
        ]
        if any(np.any(np.isfinite(lo)) for lo, _ in ivs):
            intervals[c.name] = ivs
    band_kw = (
        {"eps": "loop"}
        if mix.kind == "loop"
        else ({"eps_over_g": mix.value} if mix.kind == "ratio" else {"eps": mix.value})
    )
    g_low, g_high = _gm2.band(model, m, dataset=dataset, nsigma=nsigma, loop_scale=loop_scale, **band_kw)
    return MassCouplingData(
        model_name=model.name or "custom",
        mixing=mix.describe(),
        masses=m,
        intervals=intervals,
        g_low=np.broadcast_to(g_low, m.shape),
        g_high=np.broadcast_to(g_high, m.shape),
        dataset=dataset,
        cls={c.name: c.cl for c in selected if c.name in intervals},
        verified={c.name: bool(c.info.verified) for c in selected if c.name in intervals},
        notes={c.name: c.notes for c in selected if c.name in intervals},
    )


@dataclass
class PlotArtists:
    """What a plot function drew (for tests and for further styling)."""

    figure: Figure
    ax: Axes
    regions: dict[str, list[Any]] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    band: Any = None
    caption: Any = None


def _place_labels(
    ax: Axes, candidates: dict[str, list[tuple[float, float]]], colours: dict[str, str]
) -> dict[str, Any]:
    """Put each label at its first candidate (data coordinates) that overlaps no earlier label."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    out = {}
    axes_box = ax.get_window_extent(renderer)
    for name, points in candidates.items():
        for x, y in points:
            text = ax.text(
                x,
                y,
                pretty_name(name),
                color=colours[name],
                fontsize=8,
                ha="center",
                va="center",
                zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )
            box = text.get_window_extent(renderer)
            inside = (
                box.x0 >= axes_box.x0
                and box.x1 <= axes_box.x1
                and box.y0 >= axes_box.y0
                and box.y1 <= axes_box.y1
            )
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                out[name] = text
                break
            text.remove()
    return out


def plot_mass_coupling(
    data: MassCouplingData,
    ax: Axes | None = None,
    g_range: tuple[float, float] = (1e-6, 1.0),
    title: str | None = None,
    caption: bool = True,
) -> PlotArtists:
    """Draw excluded regions (shaded, hatched, labelled in place) and the (g-2)_mu band."""
    with _styled():
        fig, ax = _new_axes(ax)
        m = data.masses
        g_top = g_range[1]
        artists = PlotArtists(fig, ax)
        colours: dict[str, str] = {}
        candidates: dict[str, list[tuple[float, float]]] = {}
        for name, intervals in data.intervals.items():
            colour, hatch = _family_style(name)
            colours[name] = colour
            drawn = []
            depth_points = []
            for lo, hi in intervals:
                lo_v = np.where(np.isfinite(lo), np.maximum(lo, g_range[0]), np.nan)
                hi_v = np.where(np.isnan(lo), np.nan, np.minimum(hi, g_top))
                ok = np.isfinite(lo_v) & (hi_v > lo_v)
                if not np.any(ok):
                    continue
                drawn.append(
                    ax.fill_between(m, lo_v, hi_v, where=ok, color=colour, alpha=0.13, lw=0, zorder=2)
                )
                drawn.append(
                    ax.fill_between(
                        m,
                        lo_v,
                        hi_v,
                        where=ok,
                        facecolor="none",
                        edgecolor=colour,
                        hatch=hatch,
                        lw=0,
                        alpha=0.5,
                        zorder=2,
                    )
                )
                edge = np.where(ok, lo_v, np.nan)
                drawn.extend(ax.plot(m, edge, color=colour, lw=1.3, zorder=3))
                if np.any(np.isfinite(hi) & ok):
                    drawn.extend(
                        ax.plot(
                            m, np.where(ok & (hi < g_top), hi_v, np.nan), color=colour, lw=1.3, zorder=3
                        )
                    )
                depth = np.where(ok, np.log(hi_v / lo_v), -np.inf)
                for i in np.argsort(-depth)[: max(1, int(np.sum(ok)))][::7]:
                    if depth[i] > 0:
                        y = math.exp(0.5 * (math.log(lo_v[i]) + math.log(min(hi_v[i], lo_v[i] * 30))))
                        depth_points.append((float(m[i]), y))
            if drawn:
                artists.regions[name] = drawn
                candidates[name] = depth_points
        band_ok = np.isfinite(data.g_high)
        if np.any(band_ok) and _gm2.dataset(data.dataset).kind == "band":
            lower = np.where(np.isfinite(data.g_low), data.g_low, g_range[0])
            artists.band = ax.fill_between(
                m,
                lower,
                data.g_high,
                where=band_ok,
                facecolor="#f1c40f",
                alpha=0.9,
                lw=1.4,
                edgecolor="black",  # a black outline keeps the band visible in greyscale
                zorder=4,
                label=_band_label(data.dataset),
            )
        elif np.any(band_ok):
            # An upper-limit data set (2025) is an exclusion like any other: above g_high.
            artists.band = ax.fill_between(
                m,
                data.g_high,
                g_range[1],
                where=band_ok,
                facecolor="#e8d9a8",
                hatch="\\\\",
                lw=1.4,
                edgecolor="#6b5200",
                zorder=3,
                label=_band_label(data.dataset),
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(m.min(), m.max())
        ax.set_ylim(*g_range)
        ax.set_xlabel(r"$m_X$ [GeV]")
        ax.set_ylabel(r"$g_X$")
        ax.set_title(title or f"{_tex_model(data.model_name)}   ({_mixing_text(data.mixing)})")
        if artists.band is not None:
            ax.legend(loc="lower right", frameon=True, framealpha=0.9)
        artists.labels = _place_labels(ax, candidates, colours)
        if caption:
            artists.caption = fig.text(
                0.01, -0.02, _caption(data), ha="left", va="top", fontsize=7, wrap=True
            )
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
            rf"$(g-2)_\mu$ $\pm2\sigma$ ({d.name}: $\Delta a_\mu$ = "
            rf"{d.delta * 1e11:.0f}({d.sigma * 1e11:.0f})$\times10^{{-11}}$)"
        )
    return rf"$(g-2)_\mu$ {d.name}: excluded above its 95% CL upper limit"


def _tex_model(name: str) -> str:
    text = name.replace("Lmu", r"L_\mu").replace("Ltau", r"L_\tau").replace("Le", "L_e")
    return f"${text}$" if name != "dark-photon" else "dark photon"


def _mixing_text(mixing: str) -> str:
    if mixing.startswith("loop"):
        return r"loop-induced $\epsilon$"
    if mixing.replace(" ", "") in ("eps=0.", "eps=0", "eps=0.0", "eps/g_X=0.", "eps/g_X=0"):
        return r"no kinetic mixing"
    return mixing.replace("eps/g_X", r"$\epsilon/g_X$").replace("eps", r"$\epsilon$")


def _unverified_text(names: Iterable[str]) -> str:
    """'Inputs not yet verified against the papers: ...' for the registered constraints named."""
    unverified = []
    for name in names:
        try:
            if not _registry.get(name).info.verified:
                unverified.append(pretty_name(name))
        except ValueError:
            continue
    if not unverified:
        return ""
    text = "Inputs not yet verified against the papers: " + ", ".join(unverified) + "."
    return "\n".join(textwrap.wrap(text, 140))  # a figure-wide line, not a 4000-pixel one


def _caption(data: MassCouplingData) -> str:
    by_cl: dict[str, list[str]] = {}
    for name, cl in data.cls.items():
        by_cl.setdefault(f"{cl:.0%}", []).append(pretty_name(name))
    parts = [f"{cl} CL: " + ", ".join(names) for cl, names in sorted(by_cl.items())]
    unverified = [pretty_name(n) for n, ok in data.verified.items() if not ok]
    text = "Excluded regions at the experiments' CL (" + "; ".join(parts) + ")."
    if unverified:
        text += " Inputs not yet verified against the papers: " + ", ".join(unverified) + "."
    return text


# -- alpha-R plane ---------------------------------------------------------------------------------


def _family_axes(result: ScanResult) -> tuple[NDArray, NDArray, tuple[int, int]]:
    fam = result.models.family
    shape = tuple(fam.get("batch_shape", []))
    if fam.get("kind") != "alpha-R" or len(shape) != 2:
        raise ValueError("this scan is not an alpha-R plane (scan alpha_r(alpha[:, None], R[None, :]))")
    alpha = np.asarray(fam["alpha"], dtype=float).reshape(-1)
    r = np.asarray(fam["R"], dtype=float).reshape(-1)
    return alpha, r, shape  # type: ignore[return-value]


def alpha_r_summary(no_mixing: ScanResult, free_mixing: ScanResult) -> dict[str, Any]:
    """Numbers behind the alpha-R figure: allowed fractions and which constraint closes regions."""
    out: dict[str, Any] = {}
    for key, res in (("no_mixing", no_mixing), ("free_mixing", free_mixing)):
        allowed = res.best_mix()[:, 0]
        closing = _closing_constraint(res)
        names = res.constraint_names
        counts = {names[i]: int(np.sum(closing == i)) for i in range(len(names))}
        out[key] = {
            "mass": float(res.masses[0]),
            "n_points": int(allowed.size),
            "allowed_fraction": float(np.mean(allowed)),
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
    return np.where(allowed, -1, np.where(no_band, -2, closing))


def plot_alpha_r(
    no_mixing: ScanResult, free_mixing: ScanResult | None = None, axes: Sequence[Axes] | None = None
) -> PlotArtists:
    """Where a (g-2)_mu solution survives in the alpha-R plane, and which constraint closes the rest.

    Left: no kinetic mixing; right (if given): arbitrary kinetic mixing. Colours: the constraint that
    excludes the most couplings of the band (hatched); white with a black contour: allowed.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    panels = [no_mixing] + ([free_mixing] if free_mixing is not None else [])
    with _styled():
        if axes is None:
            fig, axs = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False)
            axs = list(axs[0])
        else:
            axs = list(axes)
            fig = axs[0].figure
        artists = PlotArtists(fig, axs[0])
        names = sorted({n for res in panels for n in res.constraint_names})
        for ax, res, title in zip(
            axs, panels, ("no kinetic mixing", "arbitrary kinetic mixing"), strict=False
        ):
            alpha, r, shape = _family_axes(res)
            closing = _closing_constraint(res).reshape(shape)
            img = np.full(shape, np.nan)
            for i, n in enumerate(res.constraint_names):
                img[closing == i] = names.index(n)
            colours = [_family_style(n)[0] for n in names]
            cmap = mpl.colors.ListedColormap(colours)
            ax.pcolormesh(
                alpha / np.pi,
                r,
                img.T,
                cmap=cmap,
                vmin=-0.5,
                vmax=len(names) - 0.5,
                shading="nearest",
                alpha=0.55,
            )
            for i, n in enumerate(names):
                mask = (img == i).T.astype(float)
                if mask.any():
                    ax.contourf(
                        alpha / np.pi,
                        r,
                        mask,
                        levels=[0.5, 1.5],
                        colors="none",
                        hatches=[_family_style(n)[1]],
                    )
            allowed = (closing == -1).reshape(shape).T.astype(float)
            if allowed.any():
                ax.contourf(alpha / np.pi, r, allowed, levels=[0.5, 1.5], colors="white")
                ax.contour(alpha / np.pi, r, allowed, levels=[0.5], colors="black", linewidths=1.2)
            no_band = (closing == -2).reshape(shape).T.astype(float)
            if no_band.any():
                ax.contourf(alpha / np.pi, r, no_band, levels=[0.5, 1.5], colors="#dddddd")
            ax.set_xlabel(r"$\alpha/\pi$")
            ax.set_ylabel(r"$R$")
            frac = float(np.mean(closing == -1))
            ax.set_title(f"{title}: {100 * frac:.1f}% allowed")
        handles = [
            Patch(facecolor="white", edgecolor="black", label="g-2 solution allowed"),
            Patch(facecolor="#dddddd", edgecolor="none", label="no muon coupling"),
        ]
        shown = set()
        for res in panels:
            for v in np.unique(_closing_constraint(res)):
                if v >= 0:
                    n = res.constraint_names[int(v)]
                    if n not in shown:
                        shown.add(n)
                        c, h = _family_style(n)
                        handles.append(
                            Patch(
                                facecolor=c,
                                alpha=0.55,
                                hatch=h,
                                edgecolor=c,
                                label=f"closed by {pretty_name(n)}",
                            )
                        )
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, bbox_to_anchor=(0.5, -0.08))
        m = no_mixing.masses[0]
        data = _gm2.dataset(str(no_mixing.attrs.get("dataset", "2021")))
        note = _unverified_text(names)
        if note:
            fig.text(0.5, -0.13, note, ha="center", va="top", fontsize=7)
        fig.suptitle(
            rf"$X = \sin\alpha(L_e-L_\mu) + \cos\alpha(B/3-L_\mu) + R(L_\mu-L_\tau)$, "
            rf"$m_X$ = {m * 1e3:.0f} MeV; $(g-2)_\mu$ {data.name} " + _gm2_phrase(data),
            fontsize=10,
        )
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


def plot_survey(result: ScanResult, ax: Axes | None = None, max_rows: int = 60) -> PlotArtists:
    """Viable models of a survey: for each, the masses where some (xi, g in band) survives."""
    with _styled():
        summary = survey_summary(result)
        rows = (summary["viable"] + summary["gap_only"])[:max_rows]
        n_clean = len(summary["viable"])
        height = max(2.5, 0.22 * len(rows) + 1.2)
        fig, ax = _new_axes(ax, size=(6.4, height))
        artists = PlotArtists(fig, ax)
        allowed = np.any(result.allowed_in_band, axis=2)  # (N, M)
        gaps = result.gap_mask()  # (N, M)
        labels = list(result.labels)
        vetoed = result.vetoed_masses()
        if vetoed.any():
            edges = np.sqrt(result.masses[1:] * result.masses[:-1])
            edges = np.concatenate([[result.masses[0]], edges, [result.masses[-1]]])
            for i in np.flatnonzero(vetoed):
                ax.axvspan(edges[i], edges[i + 1], color="#cccccc", lw=0, zorder=0)
            ax.text(
                0.99,
                0.995,
                "grey: a search covering the mass is silent\n(open squares: allowed only there)",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=6,
                color="#555555",
            )
        for j, row in enumerate(rows):
            i = labels.index(row["label"])
            clean = allowed[i] & ~gaps[i]
            gap = allowed[i] & gaps[i]
            ax.scatter(result.masses[clean], np.full(clean.sum(), j), marker="s", s=9, color="#1b7a3e")
            ax.scatter(result.masses[gap], np.full(gap.sum(), j), marker="s", s=9,
                       facecolors="none", edgecolors="#1b7a3e", linewidths=0.6)  # fmt: skip
        if 0 < n_clean < len(rows):
            ax.axhline(n_clean - 0.5, color="#555555", lw=0.6)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([_tex_model(r["label"]) for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlim(result.masses.min(), result.masses.max())
        ax.set_xlabel(r"$m_X$ [GeV]")
        data = _gm2.dataset(str(summary["dataset"]))
        n_rows = summary["n_viable"] + summary["n_gap_only"]
        more = "" if n_rows <= max_rows else f" (first {max_rows} shown)"
        ax.set_title(
            f"{summary['n_viable']} of {summary['n_models']} anomaly-free models viable; "
            f"{summary['n_gap_only']} more only in search gaps{more}\n"
            f"(g-2)$_\\mu$ {data.name} {_gm2_phrase(data)}, free kinetic mixing",
            fontsize=9,
        )
        note = _unverified_text(result.constraint_names)
        if note:
            ax.text(0.0, -0.08, note, transform=ax.transAxes, ha="left", va="top", fontsize=6,
                    wrap=True)  # fmt: skip
        ax.minorticks_off()
        return artists


def plot_scan(result: ScanResult, ax: Axes | None = None) -> PlotArtists:
    """Draw a stored scan: an alpha-R plane, a survey, or a one-model mass-coupling grid."""
    fam = result.models.family
    if result.kind == "survey":
        return plot_survey(result, ax)
    if fam.get("kind") == "alpha-R":
        return plot_alpha_r(result)
    if result.shape[0] != 1 or result.couplings.ndim != 1:
        raise ValueError("plot needs an alpha-R scan, a survey, or a one-model scan with explicit g_X")
    with _styled():
        fig, ax = _new_axes(ax)
        allowed = result.allowed[0, :, 0, :]  # (M, G)
        ax.pcolormesh(
            result.masses,
            result.couplings,
            allowed.T.astype(float),
            cmap="Greys_r",
            vmin=-0.5,
            vmax=1.0,
            shading="nearest",
        )
        lo, hi = result.g_low[0, :, 0], result.g_high[0, :, 0]
        band = ax.fill_between(
            result.masses,
            np.where(np.isfinite(lo), lo, result.couplings[0]),
            hi,
            color="#f1c40f",
            alpha=0.8,
            label="(g-2)$_\\mu$ band",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$m_X$ [GeV]")
        ax.set_ylabel(r"$g_X$")
        ax.set_title(f"{result.models.name or result.labels[0]}: white = allowed by every constraint")
        ax.legend(loc="upper left")
        return PlotArtists(fig, ax, band=band)
