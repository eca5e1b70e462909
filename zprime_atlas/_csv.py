"""One reader for the package's ``#``-commented CSV files (data tables and recast limits).

Format: lines starting with ``#`` (after optional blanks) are provenance comments, blank lines are
skipped, the first remaining line is the header, every further line one row of fields. Fields are
parsed with the standard ``csv`` module and stripped of surrounding blanks.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
from numpy.typing import NDArray

__all__ = ["numeric_table", "package_table", "rows_with_lines"]


def rows_with_lines(text: str) -> list[tuple[int, list[str]]]:
    """(1-based line number, fields) of every non-comment, non-blank line, the header included.

    A line without a quote character (or NUL) is split at its commas, which is what the ``csv``
    module's reader gives for it (only quotes change its fields): 4x faster on the recasts' tables
    (~0.5 s of the registry's first load); other lines go through ``csv``."""
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if '"' in stripped or "\x00" in stripped:
            fields = next(csv.reader(io.StringIO(stripped)))
        else:
            fields = stripped.split(",")
        out.append((lineno, [f.strip() for f in fields]))
    return out


def numeric_table(text: str, what: str, header: str | None = None) -> NDArray[np.float64]:
    """The data rows of a ``#``-commented CSV as a float array of shape (rows, columns).

    ``header`` (e.g. ``"m_GeV,R"``, compared without blanks) is checked when given. ``what`` names
    the table in error messages.
    """
    rows = rows_with_lines(text)
    if header is not None and (not rows or ",".join(rows[0][1]).replace(" ", "") != header):
        raise ValueError(f"{what}: expected the header row {header!r}")
    if len(rows) < 2:
        raise ValueError(f"{what}: no data rows after the header")
    width = len(rows[0][1])
    values = []
    for lineno, fields in rows[1:]:
        if len(fields) != width:
            raise ValueError(f"{what}, line {lineno}: expected {width} columns, got {len(fields)}")
        try:
            values.append([float(f) for f in fields])
        except ValueError:
            raise ValueError(f"{what}, line {lineno}: a field is not a number") from None
    return np.array(values, dtype=np.float64)


def package_table(folder: str, name: str, header: str | None = None) -> NDArray[np.float64]:
    """:func:`numeric_table` of ``zprime_atlas/data/<folder>/<name>`` (works from a wheel too)."""
    res = resources.files("zprime_atlas") / "data" / folder / name
    try:
        text = res.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise FileNotFoundError(f"table {name} is missing from zprime_atlas/data/{folder}") from err
    return numeric_table(text, f"table zprime_atlas/data/{folder}/{name}", header)
