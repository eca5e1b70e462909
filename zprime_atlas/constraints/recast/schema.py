"""The recast metadata file (TOML): a declarative, versioned schema and its parser.

Every key of format version 1 is a :class:`Field` of :data:`SCHEMAS` (its TOML type, whether it is
required, its meaning and its check); :func:`parse_metadata` checks a file against the table of its
``format_version`` (a file without one is read as version 1) and reports every error of the file at
once, one sentence each, naming the file and the line of the key:
``<file>: <what is wrong> (line <n>)``. :func:`schema_table` prints the table (recasts/README.md
shows it). The physics the keys select: docs/physics/recast.md.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...constants import FERMION_MASS, M_ETA, M_PHI, M_PI0
from ...models import model as named_model
from .production import MECHANISMS

__all__ = [
    "FORMAT_VERSION",
    "INVISIBLE",
    "SCHEMAS",
    "VISIBLE_CHANNELS",
    "Field",
    "Lifetime",
    "RecastFileError",
    "RecastMetadata",
    "parse_metadata",
    "schema_table",
]

_PS = 1e-12  # seconds per picosecond
_C = 2.99792458e8  # speed of light [m/s]
#: The final-state name of invisible searches (X -> nu nubar plus any dark-sector width).
INVISIBLE = "invisible"
#: Visible channels a recast may select (decay-width keys of :mod:`zprime_atlas.decays`).
#: ``pi_pi`` is X -> pi+ pi- through rho mixing (the VMD rho curve of :mod:`zprime_atlas.decays`).
VISIBLE_CHANNELS: tuple[str, ...] = ("e_e", "mu_mu", "tau_tau", "hadrons", "c_c", "b_b", "pi_pi")
#: Kinds of search a recast file may declare (``kind``).
SEARCH_KINDS: tuple[str, ...] = ("visible", "invisible", "dump", "displaced")
#: Parents and recoils a window lifetime may be boosted from (``boost_parent``, ``boost_recoil``).
BOOST_PARTICLES: dict[str, float] = {"phi": M_PHI, "eta": M_ETA, "pi0": M_PI0, "gamma": 0.0}


class RecastFileError(ValueError):
    """A recast metadata or data file is malformed: one sentence per error, naming file and line."""

    def __init__(self, *errors: str) -> None:
        self.errors: tuple[str, ...] = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Lifetime:
    """Proper-time acceptance window of the search (docs/physics/recast.md).

    ``kind``: ``prompt``, ``window`` (t0_ps, t1_ps, optional t1_gev_ps and t1_threshold_gev:
    t1 = t1_ps + t1_gev_ps/(m - t1_threshold_gev)), ``displaced`` (decay_over_shield) or
    ``rvalues`` (an r-value table in (m, eps): a model is compared at the reference eps with the
    same lifetime).
    """

    kind: str
    t0_ps: float = 0.0
    t1_ps: float = math.inf
    t1_gev_ps: float = 0.0
    t1_threshold_gev: float = 0.0
    decay_over_shield: float = 0.0
    t1_decay_length_m: float = 0.0
    x_energy_gev: float = 0.0
    boost_parent_gev: float = 0.0
    boost_recoil_gev: float = 0.0
    t1_pieces: tuple[tuple[float, float, float], ...] = ()

    def window(self, m: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """(t0, t1) in seconds for a ``window`` kind, per mass.

        t1 is one of: t1_ps + t1_gev_ps/(m - threshold); a decay length L boosted with the X
        energy, t1 = L m/(E c), E fixed (``x_energy_gev``) or of the two-body decay parent ->
        recoil X, E = (M^2 + m^2 - m_B^2)/(2 M); or piecewise linear, t1 = a + b m from the last
        piece [m_from, a_ps, b_ps_per_GeV] with m_from <= m.
        """
        m = np.asarray(m, dtype=np.float64)
        t0 = np.full(m.shape, self.t0_ps * _PS)
        if self.t1_decay_length_m > 0:
            if self.x_energy_gev > 0:
                energy = np.full(m.shape, self.x_energy_gev)
            else:
                big, small = self.boost_parent_gev, self.boost_recoil_gev
                energy = (big**2 + m**2 - small**2) / (2.0 * big)
            return t0, self.t1_decay_length_m * m / (energy * _C)
        if self.t1_pieces:
            t1 = np.full(m.shape, math.inf)
            for m_from, a, b in self.t1_pieces:
                with np.errstate(invalid="ignore"):
                    value = a + b * m if b != 0.0 else np.full(m.shape, a)
                t1 = np.where(m >= m_from, value, t1)
            return t0, t1 * _PS
        with np.errstate(divide="ignore"):
            extra = np.where(self.t1_gev_ps != 0.0, self.t1_gev_ps / (m - self.t1_threshold_gev), 0.0)
        return t0, (self.t1_ps + extra) * _PS


@dataclass(frozen=True)
class RecastMetadata:
    """The content of a recast TOML file (keys: recasts/README.md)."""

    name: str
    title: str
    experiment: str
    arxiv: tuple[str, ...]
    journal: str
    cl: float
    data: str
    reference: str
    coupling: str
    production: tuple[str, ...]
    production_fractions: str | None
    final_states: tuple[str, ...]
    lifetime: Lifetime
    provenance: str
    notes: str = ""
    reference_branching_ratio: float | None = None
    supersedes: tuple[str, ...] = ()
    status: str = "published"
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = 1
    year: int | None = None
    kind: str = ""
    label: str = ""
    family: str = ""
    label_position: tuple[float, float] | None = None
    verified: bool | None = None
    reference_states: tuple[str, ...] = ()


# -- the schema --------------------------------------------------------------------------------

#: The current format version (written by ``format_version = 1`` at the top of a file).
FORMAT_VERSION = 1

Check = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Field:
    """One key of a recast file: TOML type, required or not, meaning, and an optional value check.

    ``kind`` is one of :data:`KINDS`; ``check(value)`` returns an error sentence or None.
    """

    key: str
    kind: str
    required: bool
    meaning: str
    check: Check | None = None


def _is_number(v: Any) -> bool:
    """A finite TOML number (TOML has nan and inf literals: they are refused, never propagated)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


#: Longest piece of a user's file quoted in a message (messages never echo file contents).
QUOTE_LIMIT = 32


_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.+\-]{1," + str(QUOTE_LIMIT) + r"}$")


def quote(value: Any) -> str:
    """A short identifier from a file (a key, a mechanism or channel name), quoted; anything
    else (long, with spaces or symbols: possibly private text) is not shown."""
    if isinstance(value, (str, int)) and not isinstance(value, bool) and _IDENTIFIER.match(str(value)):
        return repr(value)
    return "(a value not shown)"


def type_name(value: Any) -> str:
    """What a TOML value is, in words (the value itself is not shown)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else f"the non-finite number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time" if hasattr(value, "isoformat") else type(value).__name__


def _check_data_path(v: str) -> str | None:
    p = Path(v)
    if not v or p.is_absolute() or ".." in p.parts or "\\" in v:
        return (f"data file {quote(v)} must be a file name relative to this file's folder (no "
                "absolute path, no '..')")  # fmt: skip
    return None


#: TOML types a field may have: name -> (test, words for an error message).
KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (_is_number, "a finite number"),
    "strings": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of strings",
    ),
    "string or strings": (
        lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
        "a string or a list of strings",
    ),
    "table": (lambda v: isinstance(v, dict), 'a table, e.g. { kind = "prompt" }'),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "number pair": (
        lambda v: isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v),
        "a pair of numbers, e.g. [0.01, 1e-4]",
    ),
}


def _check_name(v: str) -> str | None:
    if not v.replace("_", "").isalnum() or v.lower() != v:
        return f"name {quote(v)} must be lower_snake_case"
    return None


def _check_cl(v: float) -> str | None:
    if not 0 < float(v) < 1:
        return f"cl = {float(v)} must lie between 0 and 1 (e.g. 0.90)"
    return None


def _check_reference(v: str) -> str | None:
    try:
        named_model(v)
    except ValueError as exc:
        if len(repr(v)) > QUOTE_LIMIT:  # never echo a long piece of the file
            return f"reference model {quote(v)} is not a zprime_atlas model name"
        return f"reference model: {exc}"
    return None


def _check_coupling(v: str) -> str | None:
    return None if v in ("eps", "g") else f"coupling must be 'eps' or 'g', got {quote(v)}"


def _check_production(v: list[str]) -> str | None:
    if not v:
        return "'production' must be a non-empty list of mechanisms"
    for mech in v:
        if mech not in MECHANISMS:
            return f"unknown production mechanism {quote(mech)}; known: " + ", ".join(MECHANISMS)
    return None


def _check_final_states(v: str | list[str]) -> str | None:
    finals = [v] if isinstance(v, str) else v
    if not finals:
        return "'final_states' must be a channel list or 'invisible'"
    for fs in finals:
        if fs != INVISIBLE and fs not in VISIBLE_CHANNELS:
            return f"unknown final state {quote(fs)}; use 'invisible' or channels of " + ", ".join(
                VISIBLE_CHANNELS
            )
    if INVISIBLE in finals and len(finals) > 1:
        return "'invisible' cannot be combined with visible channels"
    return None


def _check_kind(v: str) -> str | None:
    return None if v in SEARCH_KINDS else (
        f"kind {quote(v)} is not one of " + ", ".join(SEARCH_KINDS))  # fmt: skip


def _check_year(v: int) -> str | None:
    return None if 1900 <= v <= 2100 else f"year = {v} is not a year of publication"


def _check_states(v: list[str]) -> str | None:
    for fs in v:
        if fs not in VISIBLE_CHANNELS and fs != INVISIBLE:
            return f"unknown reference state {quote(fs)}; use channels of " + ", ".join(VISIBLE_CHANNELS)
    return None if v else "'reference_states' must be a non-empty list of channels"


def _check_branching(v: float) -> str | None:
    return None if 0 < v <= 1 else "reference_branching_ratio must lie in (0, 1]"


def _check_label_position(v: list[float]) -> str | None:
    ok = all(math.isfinite(float(x)) and float(x) > 0 for x in v)
    return None if ok else "label_position = [mass_GeV, coupling] must be two positive numbers"


def _check_version(v: int) -> str | None:
    return None if v in SCHEMAS else f"format_version = {v} is not supported (known: 1)"


_V1: tuple[Field, ...] = (
    Field("format_version", "integer", False, "version of this schema (1; a file without it is 1)",
          _check_version),
    Field("name", "string", True, "constraint name, lower_snake_case, unique", _check_name),
    Field("title", "string", True, "one-line description"),
    Field("experiment", "string", True, "experiment or collaboration"),
    Field("arxiv", "strings", True, "arXiv numbers of the paper(s)"),
    Field("inspire", "string or strings", False, "INSPIRE texkey(s)"),
    Field("journal", "string", False, "journal reference"),
    Field("cl", "number", True, "confidence level of the published limit, in (0, 1)", _check_cl),
    Field("data", "string", True, "limit CSV, relative to this file",
          _check_data_path),
    Field("reference", "string", True, "model the data column limits (a zprime_atlas.model name)",
          _check_reference),
    Field("coupling", "string", True, "'eps' (dark photon, column eps) or 'g' (column gprime)",
          _check_coupling),
    Field("production", "strings", False, "production mechanisms (or production_fractions)",
          _check_production),
    Field("production_fractions", "string", False, "CSV of per-mass mechanism fractions",
          _check_data_path),
    Field("final_states", "string or strings", True, "decay channels, or 'invisible'",
          _check_final_states),
    Field("lifetime", "table", False,
          "{ kind = prompt | window | displaced | rvalues, ... }; default prompt"),
    Field("reference_branching_ratio", "number", False,
          "BR of the reference model into the final state assumed by the paper", _check_branching),
    Field("provenance", "string", True, "where the numbers come from"),
    Field("notes", "string", False, "caveats shown by zprime-atlas list"),
    Field("supersedes", "strings", False, "names of constraints this one replaces"),
    Field("status", "string", False, "'published' (default), 'superseded', ..."),
    Field("year", "integer", False, "year of the paper (as in the constraint name)", _check_year),
    Field("kind", "string", False, "visible | invisible | dump | displaced", _check_kind),
    Field("label", "string", False, "short display label for plots (default: the name)"),
    Field("family", "string", False, "plot family grouping similar searches (e.g. 'beam dump')"),
    Field("label_position", "number pair", False,
          "[mass in GeV, coupling] where plots put the label (default: placed automatically)",
          _check_label_position),
    Field("verified", "boolean", False,
          "numbers checked against the paper (default: true for the package's own files, false "
          "for files from $ZPRIME_ATLAS_RECASTS)"),
    Field("reference_states", "strings", False,
          "channels in the reference model's total width when the paper assumed only these",
          _check_states),
)  # fmt: skip

#: Field tables by format version.
SCHEMAS: dict[int, dict[str, Field]] = {1: {f.key: f for f in _V1}}

#: Keys of the ``lifetime`` table per kind (all numbers except t1_threshold, which may be a channel).
LIFETIME_KEYS: dict[str, tuple[str, ...]] = {
    "prompt": ("kind",),
    "window": ("kind", "t0_ps", "t1_ps", "t1_gev_ps", "t1_threshold", "t1_decay_length_m",
               "x_energy_gev", "boost_parent", "boost_recoil", "t1_pieces"),
    "displaced": ("kind", "decay_over_shield"),
    "rvalues": ("kind",),
}


def schema_table(version: int = FORMAT_VERSION) -> str:
    """The field table of a format version as Markdown (key, type, required, meaning)."""
    rows = ["| key | type | required | meaning |", "| --- | --- | --- | --- |"]
    for f in SCHEMAS[version].values():
        rows.append(f"| `{f.key}` | {f.kind} | {'yes' if f.required else 'no'} | {f.meaning} |")
    return "\n".join(rows)


# -- the parser --------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_TOML_LINE = re.compile(r"at line (\d+)")


def _key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of every top-level ``key =`` of a TOML text (before any [table] header)."""
    out: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            break
        match = _KEY_LINE.match(line)
        if match:
            out.setdefault(match.group(1), lineno)
    return out


def _sentence(path: Path, line: int | None, text: str) -> str:
    return f"{path}: {text}" if line is None else f"{path}: {text} (line {line})"


def parse_metadata(path: Path) -> RecastMetadata:
    """Read and check a recast TOML file; RecastFileError lists every problem (module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecastFileError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise RecastFileError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at position {exc.start})"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_LINE.search(str(exc))
        line = int(where.group(1)) if where else None
        raise RecastFileError(_sentence(path, line, f"not valid TOML ({exc})")) from None
    lines = _key_lines(text)
    errors: list[tuple[int, str]] = []

    def report(key: str | None, message: str) -> None:
        line = lines.get(key) if key else None
        errors.append((line or 0, _sentence(path, line, message)))

    version = raw.get("format_version", 1)
    schema = SCHEMAS.get(version) if isinstance(version, int) else None
    if schema is None:
        raise RecastFileError(
            _sentence(path, lines.get("format_version"), f"format_version = {quote(version)} is not "
                      f"supported (known: {', '.join(map(str, SCHEMAS))})")
        )  # fmt: skip
    for key in raw:
        if key not in schema:
            report(key, f"unknown key {quote(key)}")
    good: dict[str, Any] = {}
    for key, spec in schema.items():
        if key not in raw:
            if spec.required:
                report(None, f"missing key {key!r} ({spec.meaning})")
            continue
        value = raw[key]
        test, words = KINDS[spec.kind]
        if not test(value):
            report(key, f"key {key!r} must be {words}, got {type_name(value)}")
            continue
        problem = spec.check(value) if spec.check else None
        if problem:
            report(key, problem)
            continue
        good[key] = value

    if ("production" in raw) == ("production_fractions" in raw):
        report("production" if "production" in raw else None,
               "give exactly one of 'production' and 'production_fractions'")  # fmt: skip
    eps_of_a_model = good.get("coupling") == "eps" and "reference" in good
    if eps_of_a_model and named_model(good["reference"]).name != "dark-photon":
        report("coupling", "coupling 'eps' needs reference 'dark-photon'")
    lifetime = Lifetime("prompt")
    if "lifetime" in good:
        parsed = _parse_lifetime(good["lifetime"])
        if isinstance(parsed, str):
            report("lifetime", parsed)
        else:
            lifetime = parsed
    if errors:
        raise RecastFileError(*(message for _, message in sorted(errors, key=lambda e: e[0])))

    finals = good["final_states"]
    ref_br = good.get("reference_branching_ratio")
    return RecastMetadata(
        name=good["name"],
        title=good["title"],
        experiment=good["experiment"],
        arxiv=tuple(str(a) for a in good["arxiv"]),
        journal=str(good.get("journal", "")),
        cl=float(good["cl"]),
        data=good["data"],
        reference=good["reference"],
        coupling=good["coupling"],
        production=tuple(good.get("production") or ()),
        production_fractions=good.get("production_fractions"),
        final_states=tuple([finals] if isinstance(finals, str) else finals),
        lifetime=lifetime,
        provenance=good["provenance"],
        notes=str(good.get("notes", "")),
        reference_branching_ratio=None if ref_br is None else float(ref_br),
        supersedes=tuple(good.get("supersedes", ())),
        status=str(good.get("status", "published")),
        extra={k: good[k] for k in ("inspire",) if k in good},
        format_version=version,
        year=good.get("year"),
        kind=str(good.get("kind", "")),
        label=str(good.get("label", "")),
        family=str(good.get("family", "")),
        label_position=(None if "label_position" not in good
                        else (float(good["label_position"][0]), float(good["label_position"][1]))),
        verified=good.get("verified"),
        reference_states=tuple(good.get("reference_states", ())),
    )


def _parse_lifetime(spec: dict[str, Any]) -> Lifetime | str:
    """The Lifetime of a ``lifetime`` table, or the sentence saying what is wrong with it."""
    kind = spec.get("kind")
    if kind is None:
        return "'lifetime' must be a table with a 'kind'"
    if kind not in LIFETIME_KEYS:
        return f"lifetime kind {quote(kind)} is not prompt, window, displaced or rvalues"
    unknown = sorted(set(spec) - set(LIFETIME_KEYS[kind]))
    if unknown:
        return (
            f"lifetime kind {kind!r} has no key {quote(unknown[0])} (keys: "
            + ", ".join(LIFETIME_KEYS[kind])
            + ")"
        )
    not_numbers = ("kind", "t1_threshold", "boost_parent", "boost_recoil", "t1_pieces")
    numbers = [k for k in spec if k not in not_numbers]
    for k in numbers:
        infinite_t1 = k == "t1_ps" and spec[k] == math.inf  # an open window: allowed
        if not (_is_number(spec[k]) or infinite_t1):
            return f"lifetime {k} must be a finite number, got {type_name(spec[k])}"
    if kind in ("prompt", "rvalues"):
        return Lifetime(kind)
    if kind == "window":
        threshold = spec.get("t1_threshold", 0.0)
        if isinstance(threshold, str):  # a channel: its pair threshold, e.g. "mu_mu" -> 2 m_mu
            if threshold not in ("e_e", "mu_mu", "tau_tau"):
                return f"t1_threshold {quote(threshold)} is not a lepton pair"
            threshold = 2.0 * FERMION_MASS[threshold.split("_")[0]]
        elif not _is_number(threshold):
            return f"t1_threshold must be a number (GeV) or a lepton pair, got {type_name(threshold)}"
        t1 = float(spec.get("t1_ps", math.inf))
        t0 = float(spec.get("t0_ps", 0.0))
        if not t1 > t0 >= 0:
            return "lifetime window needs 0 <= t0_ps < t1_ps"
        boosted = _parse_boost(spec)
        if isinstance(boosted, str):
            return boosted
        return Lifetime(
            "window",
            t0_ps=t0,
            t1_ps=t1,
            t1_gev_ps=float(spec.get("t1_gev_ps", 0.0)),
            t1_threshold_gev=float(threshold),
            **boosted,
        )
    ratio = float(spec.get("decay_over_shield", 0.0))
    if not ratio > 0:
        return "displaced lifetime needs decay_over_shield > 0"
    return Lifetime("displaced", decay_over_shield=ratio)


def _parse_boost(spec: dict[str, Any]) -> dict[str, Any] | str:
    """The boosted-length or piecewise t1 keys of a window, or the sentence saying what is wrong."""
    out: dict[str, Any] = {}
    length = spec.get("t1_decay_length_m")
    boost_keys = [k for k in ("x_energy_gev", "boost_parent", "boost_recoil") if k in spec]
    if length is None:
        if boost_keys:
            return f"lifetime key {boost_keys[0]!r} needs t1_decay_length_m"
    else:
        if not length > 0:
            return f"t1_decay_length_m = {length} must be positive"
        out["t1_decay_length_m"] = float(length)
        if "x_energy_gev" in spec:
            if not spec["x_energy_gev"] > 0:
                return f"x_energy_gev = {spec['x_energy_gev']} must be positive"
            out["x_energy_gev"] = float(spec["x_energy_gev"])
        else:
            for key in ("boost_parent", "boost_recoil"):
                name = spec.get(key)
                if name not in BOOST_PARTICLES:
                    return (f"{key} = {quote(name)} is not one of " + ", ".join(BOOST_PARTICLES)
                            + " (or give x_energy_gev)")  # fmt: skip
            out["boost_parent_gev"] = BOOST_PARTICLES[spec["boost_parent"]]
            out["boost_recoil_gev"] = BOOST_PARTICLES[spec["boost_recoil"]]
    pieces = spec.get("t1_pieces")
    if pieces is not None:
        def piece_ok(p: Any) -> bool:  # a = +inf (no cut from m_from on) only with b = 0
            if not (isinstance(p, list) and len(p) == 3):
                return False
            open_ended = isinstance(p[1], float) and p[1] == math.inf and p[2] == 0
            return _is_number(p[0]) and _is_number(p[2]) and (_is_number(p[1]) or open_ended)

        ok = isinstance(pieces, list) and pieces and all(piece_ok(p) for p in pieces)
        if not ok:
            return ("t1_pieces must be a list of [m_from_GeV, a_ps, b_ps_per_GeV] triples of "
                    "finite numbers")  # fmt: skip
        starts = [float(p[0]) for p in pieces]
        if starts != sorted(starts):
            return f"t1_pieces must start at increasing masses, got {starts}"
        out["t1_pieces"] = tuple((float(a), float(b), float(c)) for a, b, c in pieces)
    return out


def __dir__() -> list[str]:
    return list(__all__)
