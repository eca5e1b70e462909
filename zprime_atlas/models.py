"""U(1)_X models: fermion charges, named models, the alpha-R family and anomaly-free surveys.

A :class:`Model` holds the U(1)_X charge x_f of each of the twelve fermions
(``u d s c b t e mu tau nu_e nu_mu nu_tau``). The symmetry is vector-like: left- and right-handed
fields share a charge, and a lepton doublet's neutrino carries its charged lepton's charge. Every
charge may be a numpy array: a model is then a *batch* of models, and its arrays broadcast with
masses, couplings and kinetic mixings in every function of the package.

The usual way to build one is from the generators of the SM's accidental symmetries,

    X = B * (baryon number) + Le * L_e + Lmu * L_mu + Ltau * L_tau,

which gives every quark the charge B/3 and each lepton flavour (charged lepton and neutrino) its
L-coefficient. ``Model(charges={...})`` accepts anything else (non-universal quark charges, the
photon-like dark photon).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .constants import ELECTRIC_CHARGE, FERMIONS, NEUTRINO_OF

__all__ = [
    "GENERATORS",
    "Model",
    "alpha_r",
    "enumerate_models",
    "generator_label",
    "model",
    "model_names",
    "parse_generators",
]

#: Generator names of ``Model.from_generators`` in the order used by labels and surveys.
GENERATORS: tuple[str, ...] = ("B", "Le", "Lmu", "Ltau")

_ANOMALY_ATOL = 1e-9

#: Every field of a Model besides its charges: what :meth:`Model._evolve` carries into a copy.
_COPIED_FIELDS: tuple[str, ...] = ("name", "_labels", "_generators", "family", "x_dark", "m_dark")


def _as_charge(value: ArrayLike, what: str) -> NDArray[np.float64]:
    """Convert one charge to a float array, refusing NaN and infinities by name."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"charge of {what} must be a number or an array of numbers, got {value!r}"
        ) from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"charge of {what} must be finite, got {value!r}")
    return arr


class Model:
    """Charges of a vector-like U(1)_X on the SM fermions (a single model or a batch).

    Parameters
    ----------
    charges
        Mapping fermion key -> charge x_f (number or array). Missing keys are 0. Keys must be among
        ``u d s c b t e mu tau nu_e nu_mu nu_tau``.
    name
        Human-readable name (e.g. ``"B-L"``).
    labels
        Optional per-model labels for a batch (an array of strings shaped like the batch).

    Notes
    -----
    The coupling of X to fermion f is g_f = g_X x_f + eps e Q_f (see :mod:`zprime_atlas.couplings`).
    Flipping the sign of every charge (and of eps) is a field redefinition X -> -X and changes no
    observable; the tests check this.
    """

    def __init__(
        self,
        charges: Mapping[str, ArrayLike] | None = None,
        name: str | None = None,
        labels: ArrayLike | None = None,
    ) -> None:
        charges = dict(charges or {})
        unknown = sorted(set(charges) - set(FERMIONS))
        if unknown:
            raise ValueError(
                f"unknown fermion {unknown[0]!r} in model charges; known fermions: "
                + ", ".join(FERMIONS)
            )
        self._charges: dict[str, NDArray[np.float64]] = {
            f: _as_charge(charges.get(f, 0.0), f) for f in FERMIONS
        }
        try:
            self._shape: tuple[int, ...] = np.broadcast_shapes(
                *(c.shape for c in self._charges.values())
            )
        except ValueError:
            raise ValueError("the charge arrays of a model batch do not broadcast together") from None
        self.name: str | None = name
        self._labels = None if labels is None else np.asarray(labels, dtype=object)
        self._generators: dict[str, NDArray[np.float64]] | None = None
        #: Free-form metadata of a model family (e.g. the alpha and R axes of :func:`alpha_r`).
        self.family: dict[str, Any] = {}
        #: Charge of a light dark-sector Dirac fermion chi (X -> chi chibar is invisible), and its
        #: mass in GeV; set with :meth:`with_dark_sector`. Zero charge: no dark decays.
        self.x_dark: NDArray[np.float64] = np.zeros(())
        self.m_dark: float = 0.0

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_generators(
        cls,
        B: ArrayLike = 0.0,
        Le: ArrayLike = 0.0,
        Lmu: ArrayLike = 0.0,
        Ltau: ArrayLike = 0.0,
        name: str | None = None,
    ) -> Model:
        """X = B*B + Le*L_e + Lmu*L_mu + Ltau*L_tau (arguments may be arrays: a batch).

        Each quark gets B/3; the charged lepton and neutrino of flavour alpha get L_alpha.
        """
        gens = {
            "B": _as_charge(B, "generator B"),
            "Le": _as_charge(Le, "generator Le"),
            "Lmu": _as_charge(Lmu, "generator Lmu"),
            "Ltau": _as_charge(Ltau, "generator Ltau"),
        }
        quark = gens["B"] / 3.0
        charges: dict[str, ArrayLike] = dict.fromkeys(("u", "d", "s", "c", "b", "t"), quark)
        for lepton, gen in (("e", "Le"), ("mu", "Lmu"), ("tau", "Ltau")):
            charges[lepton] = gens[gen]
            charges[NEUTRINO_OF[lepton]] = gens[gen]
        new = cls(charges, name=name)
        new._generators = gens
        if name is None and new._shape == ():
            new.name = generator_label(*(float(gens[g]) for g in GENERATORS))
        return new

    # -- properties ----------------------------------------------------------------------------

    @property
    def charges(self) -> dict[str, NDArray[np.float64]]:
        """Fermion key -> charge array (a copy of the mapping; arrays are shared read-only views)."""
        return dict(self._charges)

    def charge(self, fermion: str) -> NDArray[np.float64]:
        """Charge x_f of one fermion (array shaped like the batch, or a 0-d array)."""
        try:
            return self._charges[fermion]
        except KeyError:
            raise ValueError(
                f"unknown fermion {fermion!r}; known fermions: " + ", ".join(FERMIONS)
            ) from None

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the batch (``()`` for a single model)."""
        return self._shape

    @property
    def size(self) -> int:
        """Number of models in the batch."""
        return math.prod(self._shape)

    @property
    def generators(self) -> dict[str, NDArray[np.float64]] | None:
        """(B, Le, Lmu, Ltau) if the charges are quark-universal and doublet-consistent, else None."""
        if self._generators is not None:
            return dict(self._generators)
        c = self._charges
        quark_universal = all(np.array_equal(c[q], c["u"]) for q in ("d", "s", "c", "b", "t"))
        doublets = all(np.array_equal(c[lep], c[NEUTRINO_OF[lep]]) for lep in NEUTRINO_OF)
        if not (quark_universal and doublets):
            return None
        return {"B": 3.0 * c["u"], "Le": c["e"], "Lmu": c["mu"], "Ltau": c["tau"]}

    @property
    def labels(self) -> NDArray[np.object_]:
        """A readable label per model of the batch (array of str shaped like the batch)."""
        if self._labels is not None:
            return np.broadcast_to(self._labels, self._shape)
        gens = self.generators
        out = np.empty(self._shape, dtype=object)
        if gens is None:
            out[...] = self.name or "custom"
            return out
        b = np.broadcast_arrays(*(gens[g] for g in GENERATORS))
        flat = [arr.reshape(-1) for arr in b]
        flat_out = out.reshape(-1)
        for i in range(out.size):
            flat_out[i] = generator_label(*(float(arr[i]) for arr in flat))
        if self._shape == () and self.name:
            out[...] = self.name
        return out

    # -- physics -------------------------------------------------------------------------------

    def anomaly_sum(self) -> NDArray[np.float64]:
        """Mixed-anomaly coefficient A = sum over generations of (3 x_Q + x_L).

        For vector-like charges on the SM fermions plus three right-handed neutrinos, the cubic,
        gravitational and [SU(3)]^2 U(1)_X anomalies cancel field by field, [U(1)_Y] [U(1)_X]^2
        cancels within each doublet, and both [SU(2)_L]^2 U(1)_X and [U(1)_Y]^2 U(1)_X are
        proportional to A = 3 (x_u + x_c + x_t) + x_e + x_mu + x_tau (with one charge per doublet,
        x_Q = x_u = x_d per generation; docs/physics/models.md). For quark-universal charges this is
        3B + Le + Lmu + Ltau = 9 x_q + x_e + x_mu + x_tau.
        """
        c = self._charges
        return 3.0 * (c["u"] + c["c"] + c["t"]) + c["e"] + c["mu"] + c["tau"]

    def is_anomaly_free(self, atol: float = _ANOMALY_ATOL) -> NDArray[np.bool_] | bool:
        """Whether the U(1)_X is anomaly free with the SM fermions plus three nu_R.

        Requires (i) one charge per SU(2) doublet (x_u = x_d, x_c = x_s, x_t = x_b, and each
        neutrino's charge equal to its charged lepton's) and (ii) :meth:`anomaly_sum` = 0.
        A photon-like charge assignment (x_f proportional to Q_f, i.e. the dark photon, whose
        couplings come from kinetic mixing) is anomaly free as well: electric charge is.
        Returns a bool for a single model, a bool array for a batch.
        """
        c = self._charges
        doublet = np.ones(self._shape, dtype=bool)
        for up, down in (("u", "d"), ("c", "s"), ("t", "b")):
            doublet &= np.isclose(c[up], c[down], rtol=0.0, atol=atol)
        for lep, nu in NEUTRINO_OF.items():
            doublet &= np.isclose(c[lep], c[nu], rtol=0.0, atol=atol)
        free = doublet & np.isclose(self.anomaly_sum(), 0.0, rtol=0.0, atol=atol)
        free = free | self._is_photon_like(atol)
        return bool(free) if self._shape == () else free

    def _is_photon_like(self, atol: float) -> NDArray[np.bool_]:
        """True where x_f = k Q_f for every fermion, with k = -x_e."""
        k = -self._charges["e"]
        out = np.ones(self._shape, dtype=bool)
        for f in FERMIONS:
            out &= np.isclose(self._charges[f], k * ELECTRIC_CHARGE[f], rtol=0.0, atol=atol)
        return out

    def require_anomaly_free(self) -> None:
        """Raise ValueError naming the first model of the batch that is not anomaly free."""
        ok = np.asarray(self.is_anomaly_free())
        if not np.all(ok):
            idx = np.unravel_index(int(np.argmin(ok)), self._shape) if self._shape else ()
            label = self.labels[idx] if self._shape else (self.name or self.labels[()])
            a = np.broadcast_to(self.anomaly_sum(), self._shape)[idx]
            raise ValueError(
                f"model {label} is not anomaly free: 3(x_u + x_c + x_t) + x_e + x_mu + x_tau = "
                f"{float(a):g} (must be 0 with one charge per SU(2) doublet)"
            )

    def with_dark_sector(self, x_dark: ArrayLike, m_dark: float = 0.0) -> Model:
        """A copy whose X also decays to a dark Dirac fermion chi of charge x_dark and mass m_dark.

        Gamma(X -> chi chibar) = |g_X x_dark|^2 m_X/(12 pi) (1 + 2 r) sqrt(1 - 4 r), r = m_dark^2/m_X^2
        (GeV). It counts as invisible in :mod:`~zprime_atlas.decays` and in invisible-mode recasts.
        """
        x = _as_charge(x_dark, "the dark fermion")
        m = float(m_dark)
        if not math.isfinite(m) or m < 0:
            raise ValueError(f"dark fermion mass m_dark must be >= 0 GeV, got {m_dark!r}")
        return self._evolve(x_dark=x, m_dark=m)

    @property
    def has_dark_sector(self) -> bool:
        return bool(np.any(self.x_dark != 0))

    # -- copies: one path ----------------------------------------------------------------------

    def _evolve(
        self,
        per_model: Callable[[NDArray[Any]], NDArray[Any]] | None = None,
        charges: Mapping[str, NDArray[np.float64]] | None = None,
        **changes: Any,
    ) -> Model:
        """The one way to derive a model: every field of :data:`_COPIED_FIELDS` is carried over.

        ``per_model`` (a batch operation: reshape, indexing) is applied to every array with one entry
        per model (charges, generators, labels, x_dark), each first broadcast to the batch shape.
        ``charges`` replaces the charge arrays; ``changes`` replaces fields by name.
        """
        unknown = set(changes) - set(_COPIED_FIELDS)
        if unknown:
            raise TypeError(f"Model has no field {sorted(unknown)[0]!r}")
        fields: dict[str, Any] = {f: getattr(self, f) for f in _COPIED_FIELDS}
        fields["family"] = dict(self.family)
        new_charges: Mapping[str, NDArray[np.float64]] = self._charges if charges is None else charges
        if per_model is not None:
            shape = self._shape

            def batch(v: NDArray[Any]) -> NDArray[Any]:
                return per_model(np.broadcast_to(v, shape))

            new_charges = {f: batch(c) for f, c in new_charges.items()}
            gens = fields["_generators"]
            fields["_generators"] = None if gens is None else {g: batch(v) for g, v in gens.items()}
            labels = fields["_labels"]
            fields["_labels"] = None if labels is None else batch(labels)
            fields["x_dark"] = np.asarray(batch(self.x_dark))
        fields.update(changes)
        new = Model(new_charges, name=fields.pop("name"))
        for f, v in fields.items():
            setattr(new, f, v)
        new._shape = np.broadcast_shapes(new._shape, np.shape(new.x_dark))
        return new

    # -- batch helpers -------------------------------------------------------------------------

    def reshape(self, *shape: int) -> Model:
        """The same models with the batch reshaped (charges broadcast to the batch first)."""
        return self._evolve(lambda v: v.reshape(*shape))

    def __getitem__(self, index: Any) -> Model:
        """Select models of a batch with numpy indexing.

        A single member is named by its own label, not by the batch it came from; a sub-batch keeps
        the batch's name. Both keep :attr:`family`.
        """
        new = self._evolve(lambda v: v[index])
        if new._shape == ():
            new.name = str(np.broadcast_to(self.labels, self._shape)[index])
        return new

    def __len__(self) -> int:
        if self._shape == ():
            raise TypeError("a single model has no length; use .size")
        return self._shape[0]

    def __neg__(self) -> Model:
        return self.scaled(-1.0)

    def scaled(self, k: ArrayLike) -> Model:
        """The model with every charge (dark fermion included) multiplied by k.

        Same physics with g_X -> g_X/k; name, labels and family are kept.
        """
        factor = _as_charge(k, "the scale factor k")
        gens = self._generators
        return self._evolve(
            charges={f: c * factor for f, c in self._charges.items()},
            _generators=None if gens is None else {g: v * factor for g, v in gens.items()},
            x_dark=self.x_dark * factor,
        )

    def __repr__(self) -> str:
        if self._shape == ():
            nonzero = ", ".join(f"{f}={float(c):g}" for f, c in self._charges.items() if float(c) != 0.0)
            return f"Model({self.name or 'custom'}: {nonzero or 'all charges 0'})"
        return f"Model(batch of {self.size} models, shape {self._shape}, name={self.name!r})"


# -- labels -----------------------------------------------------------------------------------


def _format_coefficient(value: float) -> str:
    """Coefficient text: integers plainly, other numbers with up to 4 significant digits."""
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.4g}"


def generator_label(B: float, Le: float, Lmu: float, Ltau: float) -> str:
    """Readable label of X = B*B + Le*L_e + Lmu*L_mu + Ltau*L_tau, e.g. ``"B-3Lmu"``, ``"B-L"``.

    Equal lepton coefficients are written with L (``"B-L"``); a zero model is ``"0"``.
    """
    scale = max(abs(B), abs(Le), abs(Lmu), abs(Ltau))
    # Round-off (e.g. cos(pi/2)) is not a charge: drop coefficients below 1e-12 of the largest.
    B, Le, Lmu, Ltau = (0.0 if abs(c) <= 1e-12 * scale else c for c in (B, Le, Lmu, Ltau))
    terms: list[tuple[float, str]] = []
    if B != 0:
        terms.append((B, "B"))
    if Le != 0 and Le == Lmu == Ltau:
        terms.append((Le, "L"))
    else:
        for coef, sym in ((Le, "Le"), (Lmu, "Lmu"), (Ltau, "Ltau")):
            if coef != 0:
                terms.append((coef, sym))
    if not terms:
        return "0"
    parts = []
    for i, (coef, sym) in enumerate(terms):
        mag = abs(coef)
        text = ("" if abs(mag - 1.0) < 1e-12 else _format_coefficient(mag)) + sym
        if coef < 0:
            parts.append("-" + text)
        else:
            parts.append(("+" if i else "") + text)
    return "".join(parts)


# -- named models -----------------------------------------------------------------------------

_NAMED_GENERATORS: dict[str, tuple[float, float, float, float]] = {
    "B-L": (1.0, -1.0, -1.0, -1.0),
    "B": (1.0, 0.0, 0.0, 0.0),
    "B-3Le": (1.0, -3.0, 0.0, 0.0),
    "B-3Lmu": (1.0, 0.0, -3.0, 0.0),
    "B-3Ltau": (1.0, 0.0, 0.0, -3.0),
    "Lmu-Ltau": (0.0, 0.0, 1.0, -1.0),
    "Le-Lmu": (0.0, 1.0, -1.0, 0.0),
    "Le-Ltau": (0.0, 1.0, 0.0, -1.0),
}


def _normalise_name(name: str) -> str:
    return name.replace("_", "").replace(" ", "").lower()


def model_names() -> list[str]:
    """Names accepted by :func:`model`."""
    return ["dark-photon", *_NAMED_GENERATORS]


def model(name: str, allow_anomalous: bool = False) -> Model:
    """A named model (``dark-photon``, ``B-L``, ``B``, ``B-3Le``, ``B-3Lmu``, ``B-3Ltau``,
    ``Lmu-Ltau``, ``Le-Lmu``, ``Le-Ltau``) or any generator string (``B-2Le-Lmu``, ``3B-10Le+Lmu``:
    :func:`parse_generators`, the inverse of the labels the survey prints).

    Matching ignores case and underscores (``L_mu-L_tau`` works). The dark photon's charges are the
    electric charges Q_f (x_e = -1, x_u = 2/3, neutrinos 0), so its g_X is eps*e. A generator string
    whose U(1) is anomalous (3B + Le + Lmu + Ltau != 0 with three right-handed neutrinos) is refused
    unless ``allow_anomalous=True``.
    """
    if not isinstance(name, str):
        raise ValueError(f"model name must be a string, got {name!r}")
    key = _normalise_name(name)
    if key in ("dark-photon", "darkphoton", "aprime", "a'"):
        return Model(dict(ELECTRIC_CHARGE), name="dark-photon")
    for canonical, gens in _NAMED_GENERATORS.items():
        if _normalise_name(canonical) == key:
            return Model.from_generators(*gens, name=canonical)
    try:
        gens = parse_generators(name)
    except ValueError as exc:
        raise ValueError(
            f"unknown model {name!r}: {exc}; give a generator string such as 'B-2Le-Lmu' or "
            "'3B-10Le+Lmu', or a named model: " + ", ".join(model_names())
        ) from None
    b, le, lmu, ltau = gens
    found = Model.from_generators(B=b, Le=le, Lmu=lmu, Ltau=ltau, name=generator_label(*gens))
    if not allow_anomalous and not bool(np.all(found.is_anomaly_free())):
        raise ValueError(
            f"unknown model {name!r}: as a generator string it is anomalous (3B + Le + Lmu + Ltau = "
            f"{3 * b + le + lmu + ltau:g} != 0); pass allow_anomalous=True to use it; known models: "
            + ", ".join(model_names())
        )
    return found


_TERM = re.compile(r"([+-]?)(\d+(?:\.\d*)?(?:/\d+)?|\.\d+)?\*?(Ltau|Lmu|Le|L|B)")


def parse_generators(text: str) -> tuple[float, float, float, float]:
    """(B, Le, Lmu, Ltau) of a generator string: a sum of terms ``[+-][coefficient]symbol``.

    Symbols: ``B`` (baryon number), ``Le``, ``Lmu``, ``Ltau`` and ``L`` (= Le + Lmu + Ltau);
    coefficients are integers, decimals or fractions (``3/2``). Underscores and spaces are ignored,
    so ``L_mu-L_tau`` works. Inverse of :func:`generator_label`: ``"3B-10Le+Lmu"`` -> (3, -10, 1, 0).
    """
    compact = text.replace("_", "").replace(" ", "")
    if not compact:
        raise ValueError("the generator string is empty")
    coef = {"B": 0.0, "Le": 0.0, "Lmu": 0.0, "Ltau": 0.0}
    pos = 0
    for match in _TERM.finditer(compact):
        if match.start() != pos or (pos > 0 and not match.group(1)):
            break
        sign, number, symbol = match.groups()
        if number is None:
            value = 1.0
        elif "/" in number:
            num, den = number.split("/")
            if float(den) == 0:
                raise ValueError(f"division by zero in {number!r}")
            value = float(num) / float(den)
        else:
            value = float(number)
        value = -value if sign == "-" else value
        for key in (("Le", "Lmu", "Ltau") if symbol == "L" else (symbol,)):
            coef[key] += value
        pos = match.end()
    if pos != len(compact):
        raise ValueError(f"cannot read {compact[pos:]!r} (terms are [+-][number]B|L|Le|Lmu|Ltau)")
    return coef["B"], coef["Le"], coef["Lmu"], coef["Ltau"]


# -- families ---------------------------------------------------------------------------------


def alpha_r(alpha: ArrayLike, R: ArrayLike) -> Model:
    """X = sin(alpha) (L_e - L_mu) + cos(alpha) (B/3 - L_mu) + R (L_mu - L_tau).

    That is B = cos(alpha)/3, Le = sin(alpha), Lmu = -sin(alpha) - cos(alpha) + R, Ltau = -R
    (anomaly free for every alpha, R). ``alpha`` [rad] and ``R`` broadcast: pass
    ``alpha[:, None], R[None, :]`` for the plane. The inputs are kept in ``model.family``.
    """
    a = _as_charge(alpha, "alpha")
    r = _as_charge(R, "R")
    s, c = np.sin(a), np.cos(a)
    new = Model.from_generators(B=c / 3.0, Le=s, Lmu=-s - c + r, Ltau=-r, name="alpha-R")
    new.family = {"kind": "alpha-R", "alpha": a, "R": r}
    return new


def enumerate_models(max_charge: int = 10) -> Model:
    """Every anomaly-free, quark-universal, vector-like U(1)_X with integer field charges.

    Field charges (x_q, x_e, x_mu, x_tau) are integers with |x| <= ``max_charge`` that satisfy the
    anomaly condition 9 x_q + x_e + x_mu + x_tau = 0; each model is counted once up to overall
    normalisation (the charge vector is primitive: gcd 1) and sign (the first non-zero charge in the
    order x_q, x_e, x_mu, x_tau is positive). The all-zero vector (the pure dark photon) is excluded.

    Returns one batch Model (1-D) built from generators B = 3 x_q, Le = x_e, Lmu = x_mu,
    Ltau = x_tau, with labels such as ``"B-3Lmu"`` or ``"3B-2Le-7Lmu"`` (generator coefficients
    divided by their gcd). Order: by x_q, then x_e, x_mu.
    """
    if isinstance(max_charge, bool) or not isinstance(max_charge, (int, np.integer)):
        raise ValueError(f"max_charge must be a positive integer, got {max_charge!r}")
    n = int(max_charge)
    if n < 1:
        raise ValueError(f"max_charge must be a positive integer, got {max_charge!r}")
    qmax = (3 * n) // 9  # |9 x_q| = |x_e + x_mu + x_tau| <= 3n
    grid = np.meshgrid(
        np.arange(-qmax, qmax + 1), np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij"
    )
    q, e, mu = (axis.ravel() for axis in grid)
    tau = -9 * q - e - mu
    ok = np.abs(tau) <= n
    q, e, mu, tau = q[ok], e[ok], mu[ok], tau[ok]
    vec = np.stack([q, e, mu, tau], axis=1)
    nonzero = np.any(vec != 0, axis=1)
    vec = vec[nonzero]
    g = np.gcd.reduce(np.abs(vec), axis=1)
    vec = vec[g == 1]
    first = vec[np.arange(len(vec)), np.argmax(vec != 0, axis=1)]
    vec = vec[first > 0]
    gens = vec.astype(np.float64) * np.array([3.0, 1.0, 1.0, 1.0])
    label_gens = vec * np.array([3, 1, 1, 1])
    label_gens = label_gens // np.gcd.reduce(np.abs(label_gens), axis=1)[:, None]
    labels = np.array([generator_label(*map(float, row)) for row in label_gens], dtype=object)
    new = Model.from_generators(
        B=gens[:, 0], Le=gens[:, 1], Lmu=gens[:, 2], Ltau=gens[:, 3], name=f"survey-max{n}"
    )
    new._labels = labels
    new.family = {"kind": "survey", "max_charge": n, "field_charges": vec}
    return new


def __dir__() -> list[str]:
    return list(__all__)
