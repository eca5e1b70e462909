"""Readers of the recast data files: the published limit curve and the production fractions.

Both are ``#``-commented CSV files (provenance in the comments). A limit file is one-sided,
``segment,m_GeV,<column>`` (gap-free segments; no limit between them), or a two-sided island,
``m_GeV,<column>_lower,<column>_upper``; <column> is ``eps`` for a dark-photon reference and
``gprime`` for a named model. An r-value table (``lifetime.kind = "rvalues"``) is
``m_GeV,eps,r`` on a regular grid: per (mass, eps) of the dark photon, the upper limit on the
observed yield relative to the expected one. A fractions file is ``m_GeV,<mechanism>,...`` with
fractions in [0, 1].
Every error names the file and line. Format: recasts/README.md and docs/physics/recast.md.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ... import _kernels
from ..._csv import rows_with_lines
from .production import MECHANISMS
from .schema import RecastFileError, quote

__all__ = [
    "LimitData",
    "ProductionFractions",
    "RValueTable",
    "read_fractions_csv",
    "read_limit_csv",
    "read_rvalue_csv",
    "sha256",
]


#: Largest data file read (a limit table is a few kB; anything huge is not one).
MAX_DATA_BYTES = 64 << 20


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (recorded in scan files for provenance)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class LimitData:
    """A published limit curve: one-sided (``upper`` is None) or a two-sided island.

    Masses in GeV, increasing. One-sided curves carry ``segments`` (gap-free pieces; no limit
    between segments). Values are the coupling column (eps or g of the reference model).
    """

    path: Path
    masses: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64] | None
    segments: NDArray[np.int64]
    column: str

    @property
    def two_sided(self) -> bool:
        return self.upper is not None

    @property
    def mass_range(self) -> tuple[float, float]:
        return float(self.masses[0]), float(self.masses[-1])

    def interpolate(self, m: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """(lower, upper) limit at masses m: linear in log-log inside a segment, NaN elsewhere.

        For one-sided curves ``upper`` is +inf where ``lower`` is defined.
        """
        x = self.masses
        seg = self.segments
        idx = np.clip(np.searchsorted(x, m, side="right") - 1, 0, len(x) - 2)
        x0, x1 = x[idx], x[idx + 1]
        inside = (m >= x0) & (m <= x1) & (seg[idx] == seg[idx + 1])
        # An exact tabulated mass at a segment end is defined even when the next segment starts.
        at_node = np.isclose(m, x0, rtol=1e-12, atol=0.0)
        inside |= (m >= x[0]) & (m <= x[-1]) & at_node
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(x1 > x0, np.log(m / x0) / np.log(x1 / x0), 0.0)
        w = np.where(at_node, 0.0, np.clip(w, 0.0, 1.0))

        def interp(y: NDArray[np.float64]) -> NDArray[np.float64]:
            ly = np.log(y)
            val = np.exp(ly[idx] + w * (ly[idx + 1] - ly[idx]))
            return np.where(inside, val, np.nan)

        lo = interp(self.lower)
        hi = interp(self.upper) if self.upper is not None else np.where(inside, math.inf, np.nan)
        return lo, hi


def _read_csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and data rows (with 1-based line numbers) of a '#'-commented CSV file."""
    try:
        if path.stat().st_size > MAX_DATA_BYTES:
            raise RecastFileError(f"{path}: the data file is larger than {MAX_DATA_BYTES >> 20} MB")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecastFileError(f"{path}: cannot read the data file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise RecastFileError(
            f"{path}: the data file is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
            f"position {exc.start})"
        ) from None
    lines = rows_with_lines(text)
    if not lines:
        raise RecastFileError(f"{path}: no header row")
    header_line, header = lines[0]
    rows = lines[1:]
    for lineno, fields in rows:
        if len(fields) != len(header):
            raise RecastFileError(
                f"{path}:{lineno}: expected {len(header)} columns (as the header row), "
                f"got {len(fields)}"
            )
    if not rows:
        raise RecastFileError(f"{path}:{header_line}: no data rows after the header")
    return header, rows


def _float_cell(path: Path, lineno: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RecastFileError(f"{path}:{lineno}: {column} is not a number") from None
    if not math.isfinite(value):
        raise RecastFileError(f"{path}:{lineno}: {column} is not finite (nan or inf)")
    return value


def read_limit_csv(path: Path, column: str) -> LimitData:
    """Read and validate a limit data file (format: module docstring).

    One-sided: ``segment,m_GeV,<column>[,<column>_binmin,<column>_binmax]``; two-sided:
    ``m_GeV,<column>_lower,<column>_upper``. Masses must increase, limits must be positive.
    """
    path = Path(path)
    header, rows = _read_csv_rows(path)
    if "m_GeV" not in header:
        raise RecastFileError(f"{path}: missing column 'm_GeV' in the header row")
    two_sided = f"{column}_lower" in header or f"{column}_upper" in header
    if two_sided:
        needed = ["m_GeV", f"{column}_lower", f"{column}_upper"]
    else:
        needed = ["segment", "m_GeV", column]
    missing = [c for c in needed if c not in header]
    if missing:
        raise RecastFileError(
            f"{path}: missing column {missing[0]!r} in the header row (the metadata's "
            f"coupling needs column {column!r})"
        )
    col = {name: header.index(name) for name in needed}
    masses: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    segments: list[int] = []
    for lineno, fields in rows:
        m = _float_cell(path, lineno, "m_GeV", fields[col["m_GeV"]])
        if m <= 0:
            raise RecastFileError(f"{path}:{lineno}: mass {m:g} GeV is not positive")
        if masses and m <= masses[-1]:
            raise RecastFileError(
                f"{path}:{lineno}: masses must increase, but {m:g} GeV follows {masses[-1]:g} GeV"
            )
        masses.append(m)
        if two_sided:
            lo = _float_cell(path, lineno, f"{column}_lower", fields[col[f"{column}_lower"]])
            hi = _float_cell(path, lineno, f"{column}_upper", fields[col[f"{column}_upper"]])
            if lo <= 0 or hi <= 0:
                raise RecastFileError(f"{path}:{lineno}: limits must be positive, got {lo}, {hi}")
            if hi <= lo:
                raise RecastFileError(
                    f"{path}:{lineno}: upper edge {hi:g} is not above lower edge {lo:g}"
                )
            lower.append(lo)
            upper.append(hi)
            segments.append(0)
        else:
            y = _float_cell(path, lineno, column, fields[col[column]])
            if y <= 0:
                raise RecastFileError(f"{path}:{lineno}: limit {column} = {y:g} is not positive")
            seg_text = fields[col["segment"]]
            try:
                seg = int(seg_text)
            except ValueError:
                raise RecastFileError(
                    f"{path}:{lineno}: segment is not an integer"
                ) from None
            if segments and seg < segments[-1]:
                raise RecastFileError(f"{path}:{lineno}: segment numbers must not decrease")
            lower.append(y)
            segments.append(seg)
    if len(masses) < 2:
        raise RecastFileError(f"{path}: at least two data rows are needed")
    return LimitData(
        path=path,
        masses=np.array(masses),
        lower=np.array(lower),
        upper=np.array(upper) if two_sided else None,
        segments=np.array(segments, dtype=np.int64),
        column=column,
    )


@dataclass(frozen=True)
class RValueTable:
    """A published r-value table: r_ref(m, eps) on a regular grid (masses x eps, both increasing).

    r is the upper limit on the observed signal yield relative to the yield expected for a dark
    photon of mass m and kinetic mixing eps (r < 1: excluded). ``r[i, j]`` belongs to
    ``masses[i]``, ``eps[j]``. Interpolation is bilinear in (log m, log eps) of log r, inside the
    grid only (:meth:`interpolate` clips eps to the tabulated range; masses outside give NaN).
    """

    path: Path
    masses: NDArray[np.float64]
    eps: NDArray[np.float64]
    r: NDArray[np.float64]
    column: str = "eps"
    #: The interface of :class:`LimitData` that a recast constraint asks of every data file.
    upper: None = None
    two_sided: bool = False

    @property
    def mass_range(self) -> tuple[float, float]:
        return float(self.masses[0]), float(self.masses[-1])

    @property
    def eps_range(self) -> tuple[float, float]:
        return float(self.eps[0]), float(self.eps[-1])

    def interpolate(self, m: NDArray[np.float64], eps: NDArray[np.float64]) -> NDArray[np.float64]:
        """r at (m, eps) (broadcast): NaN outside the mass range, eps clipped to the grid.

        The mass coordinate is computed on ``m``'s own shape and the eps coordinate on ``eps``'s
        (elementwise steps: the same numbers as on the broadcast arrays), so a scan's mass axis
        costs one logarithm and one search per mass, not per point."""
        m, eps = np.asarray(m, dtype=np.float64), np.asarray(eps, dtype=np.float64)
        lm, le, lr = self._logs()
        inside = (m >= self.masses[0]) & (m <= self.masses[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log(np.where(inside, m, self.masses[0]))
            y = np.log(np.clip(np.nan_to_num(eps, nan=self.eps[0]), self.eps[0], self.eps[-1]))
        i = np.clip(np.searchsorted(lm, x, side="right") - 1, 0, len(lm) - 2)
        u = np.clip((x - lm[i]) / (lm[i + 1] - lm[i]), 0.0, 1.0)
        shape = np.broadcast_shapes(m.shape, eps.shape)
        val = None
        if _kernels.enabled(math.prod(shape)):  # the eps cell and the sum in one compiled pass
            val = _kernels.rvalue_bilinear(i, u, y, le, lr, shape)
        if val is None:
            j = np.clip(np.searchsorted(le, y, side="right") - 1, 0, len(le) - 2)
            v = np.clip((y - le[j]) / (le[j + 1] - le[j]), 0.0, 1.0)
            # the corners by flat index (one take each instead of a two-index look-up)
            flat, n1 = lr.reshape(-1), lr.shape[1]
            k = i * n1 + j
            one_u, one_v = 1 - u, 1 - v
            val = (one_u * one_v * flat.take(k) + u * one_v * flat.take(k + n1)
                   + one_u * v * flat.take(k + 1) + u * v * flat.take(k + n1 + 1))  # fmt: skip
        out = np.where(inside & ~np.isnan(eps), np.exp(val), np.nan)
        return out if out.shape == shape else np.broadcast_to(out, shape).copy()

    def _logs(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(log masses, log eps, log r) of the table, computed once per table object."""
        cached = self.__dict__.get("_log_cache")
        if cached is None:
            cached = (np.log(self.masses), np.log(self.eps), np.ascontiguousarray(np.log(self.r)))
            object.__setattr__(self, "_log_cache", cached)
        return cached


def read_rvalue_csv(path: Path) -> RValueTable:
    """Read and validate an r-value table ``m_GeV,eps,r`` (a regular grid, format: module docstring).

    Rows are sorted by mass, then eps; every mass carries the same eps values; r > 0.
    """
    path = Path(path)
    header, rows = _read_csv_rows(path)
    needed = ["m_GeV", "eps", "r"]
    missing = [c for c in needed if c not in header]
    if missing:
        raise RecastFileError(
            f"{path}: missing column {missing[0]!r} in the header row (an r-value "
            "table needs m_GeV, eps, r)"
        )
    col = [header.index(c) for c in needed]
    try:
        table = np.array([[float(f[c]) for c in col] for _, f in rows])
    except ValueError:
        table = None
    if table is None or not np.all(np.isfinite(table)):
        for lineno, fields in rows:  # name the first bad cell
            for c, name in zip(col, needed, strict=True):
                _float_cell(path, lineno, name, fields[c])
    assert table is not None
    lines = np.array([lineno for lineno, _ in rows])
    bad = np.flatnonzero(np.any(table <= 0, axis=1))
    if bad.size:
        raise RecastFileError(f"{path}:{lines[bad[0]]}: mass, eps and r must be positive")
    masses = np.unique(table[:, 0])
    eps = table[table[:, 0] == table[0, 0], 1]
    n_m, n_e = len(masses), len(eps)
    if n_m < 2 or n_e < 2:
        raise RecastFileError(f"{path}: an r-value table needs at least two masses and two eps values")
    if len(table) != n_m * n_e:
        raise RecastFileError(
            f"{path}: not a regular grid ({len(table)} rows for {n_m} masses x {n_e} eps values)"
        )
    expected_m = np.repeat(masses, n_e)
    expected_e = np.tile(eps, n_m)
    wrong = np.flatnonzero((table[:, 0] != expected_m) | (table[:, 1] != expected_e))
    if wrong.size or not np.all(np.diff(eps) > 0):
        row = int(wrong[0]) if wrong.size else int(np.argmin(np.diff(eps)) + 1)
        raise RecastFileError(
            f"{path}:{lines[row]}: rows must run over one eps grid (increasing) per mass, masses "
            "increasing"
        )
    return RValueTable(path=path, masses=masses, eps=eps, r=table[:, 2].reshape(n_m, n_e))


@dataclass(frozen=True)
class ProductionFractions:
    """Per-mass fractions f_k(m) of the reference signal from each mechanism (linear in m).

    The fractions are normalised to their sum at each mass: the tabulated mechanisms need not add up
    to 1 (the LHCb table sums to 0.907-1.000), and the untabulated remainder is taken to follow the
    same mix. Without this, a dark photon recast onto itself would not return the input limit.
    """

    path: Path
    masses: NDArray[np.float64]
    fractions: dict[str, NDArray[np.float64]]

    def __call__(self, m: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        total = sum(self.fractions.values())
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                k: np.interp(m, self.masses, np.where(total > 0, f / total, 0.0),
                             left=np.nan, right=np.nan)
                for k, f in self.fractions.items()
            }  # fmt: skip


def read_fractions_csv(path: Path) -> ProductionFractions:
    """Read a production-fractions file: ``m_GeV,<mechanism>,...`` with fractions in [0, 1]."""
    header, rows = _read_csv_rows(path)
    if not header or header[0] != "m_GeV":
        raise RecastFileError(f"{path}: the first column must be 'm_GeV'")
    for name in header[1:]:
        if name not in MECHANISMS:
            raise RecastFileError(
                f"{path}: unknown production mechanism {quote(name)}; known: " + ", ".join(MECHANISMS)
            )
    table: list[list[float]] = []
    for lineno, fields in rows:
        values = [_float_cell(path, lineno, c, t) for c, t in zip(header, fields, strict=True)]
        if table and values[0] <= table[-1][0]:
            raise RecastFileError(f"{path}:{lineno}: masses must increase")
        if any(v < 0 or v > 1 + 1e-9 for v in values[1:]):
            raise RecastFileError(f"{path}:{lineno}: fractions must lie in [0, 1]")
        table.append(values)
    arr = np.array(table)
    return ProductionFractions(
        path=path,
        masses=arr[:, 0],
        fractions={name: arr[:, i + 1] for i, name in enumerate(header[1:])},
    )


def __dir__() -> list[str]:
    return list(__all__)
