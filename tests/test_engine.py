"""The grid engine: equality with point-by-point calls, resume, parallel backends, file refusal."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from zprime_atlas import constraints, engine, gm2, store
from zprime_atlas.constants import E_CHARGE
from zprime_atlas.models import Model, alpha_r, model
from zprime_atlas.store import StoreError

MASSES = np.array([0.005, 0.05, 0.3])
NAMES = ["babar_2014_visible", "na64_2019_invisible", "nsi_oscillation", "gm2_electron_rb",
         "na64_2020_visible", "lhcb_2019_prompt"]  # fmt: skip


def _family() -> Model:
    return alpha_r(np.linspace(-3, 3, 4)[:, None], np.linspace(-1, 1, 3)[None, :])


def test_small_scan_equals_pointwise_ratios() -> None:
    fam = _family()
    eps_over_g = np.array([0.0, 0.02])
    res = engine.scan(fam, MASSES, eps_over_g=eps_over_g, n_g=3, constraints=NAMES)
    assert res.shape == (12, 3, 2, 3)
    flat = fam.reshape(12)
    for name in NAMES:
        c = constraints.get(name)
        r = res.ratio(name)
        for n in (0, 5, 11):
            for i, m in enumerate(MASSES):
                for k, e in enumerate(eps_over_g):
                    lo, hi = gm2.band(flat[n], m, eps_over_g=e)
                    g = np.geomspace(lo, hi, 3)
                    if not np.all(np.isfinite(g)):
                        assert np.all(np.isnan(r[n, i, k]))
                        continue
                    expected = c.ratio(m, g, flat[n], eps_over_g=e)
                    np.testing.assert_allclose(
                        r[n, i, k], expected, rtol=2e-6, atol=1e-30, equal_nan=True
                    )
    # allowed = every r < 1 (NaN ignored), and the band edges are the ones gm2.band gives.
    stacked = np.stack([res.ratio(n) for n in NAMES])
    expected_allowed = ~np.any(np.nan_to_num(stacked, nan=0.0) >= 1, axis=0)
    expected_allowed &= np.isfinite(res.couplings)
    np.testing.assert_array_equal(res.allowed, expected_allowed)
    assert res.best_mix().shape == (12, 3)


def test_xi_axis_is_effective_electron_charge() -> None:
    x = model("Le-Lmu")  # x_e = 1, x_mu = -1
    res = engine.scan(x, [0.01], xi=[0.0, 1.0], n_g=1, constraints=["na64_2019_invisible"])
    # xi = 0: electron coupling cancelled (eps/g = 1/e; g_mu = -2 g): NA64 excludes nothing.
    # xi = x_e = 1: eps = 0.
    r0, r1 = res.ratio("na64_2019_invisible")[0, 0, :, 0]
    assert r0 == 0.0
    lo0, _ = gm2.band(x, 0.01, eps_over_g=1 / E_CHARGE)
    assert res.g_low[0, 0, 0] == pytest.approx(float(lo0))
    lo, _ = gm2.band(x, 0.01)
    direct = constraints.get("na64_2019_invisible").ratio(0.01, lo, x)
    assert r1 == pytest.approx(float(direct), rel=1e-6)


def test_explicit_couplings_and_loop_mixing() -> None:
    g = np.geomspace(1e-5, 1e-2, 4)
    res = engine.scan(model("Lmu-Ltau"), MASSES, eps="loop", g_X=g, constraints=NAMES[:2])
    np.testing.assert_array_equal(res.couplings, g)
    c = constraints.get(NAMES[0])
    expected = c.ratio(MASSES[:, None], g[None, :], model("Lmu-Ltau"), eps="loop")
    np.testing.assert_allclose(res.ratio(NAMES[0])[0, :, 0, :], expected, rtol=2e-6)


def _datasets(path: Path) -> dict[str, np.ndarray]:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[...])
                     if isinstance(obj, h5py.Dataset) else None)  # fmt: skip
    return out


def test_interrupted_scan_resumes_to_identical_file(tmp_path: Path) -> None:
    fam = _family()
    kw = {"eps_over_g": [0.0, 0.01], "n_g": 2, "constraints": NAMES, "chunk_size": 3}
    full = tmp_path / "full.h5"
    part = tmp_path / "part.h5"
    engine.scan(fam, MASSES, out=full, **kw)
    assert engine.execute(engine.plan_scan(fam, MASSES, **kw), out=part, max_chunks=2) is None
    assert not part.exists()  # the target only ever holds a finished scan
    assert store.progress(part) == (2, 4)  # kept in part.h5.partial/
    with pytest.raises(StoreError, match=r"unfinished scan .2 of 4 chunks done.*resume"):
        engine.load(part)
    resumed = engine.scan(fam, MASSES, out=part, resume=True, **kw)
    a, b = _datasets(full), _datasets(part)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert resumed.allowed_fraction() == engine.load(full).allowed_fraction()
    # Resuming with another configuration is refused.
    with pytest.raises(StoreError, match="holds a different scan"):
        engine.scan(fam, MASSES[:2], out=part, resume=True, **kw)


def test_parallel_backends_match_serial() -> None:
    fam = _family()
    kw = {"eps_over_g": [0.0, 0.01], "n_g": 2, "constraints": NAMES, "chunk_size": 2}
    serial = engine.scan(fam, MASSES, **kw)
    for backend in ("loky", "threading"):
        parallel = engine.scan(fam, MASSES, n_jobs=2, backend=backend, **kw)
        for name in NAMES:
            np.testing.assert_array_equal(serial.ratio(name), parallel.ratio(name), err_msg=backend)
        np.testing.assert_array_equal(serial.allowed, parallel.allowed, err_msg=backend)


def test_dask_local_cluster_matches_serial() -> None:
    distributed = pytest.importorskip("distributed")
    fam = _family()
    kw = {"eps_over_g": [0.0], "n_g": 2, "constraints": NAMES[:3], "chunk_size": 4}
    serial = engine.scan(fam, MASSES, **kw)
    with distributed.Client(processes=False, dashboard_address=None):
        dask = engine.scan(fam, MASSES, n_jobs=2, backend="dask", **kw)
    for name in NAMES[:3]:
        np.testing.assert_array_equal(serial.ratio(name), dask.ratio(name))


def test_save_load_round_trip_and_metadata(tmp_path: Path) -> None:
    res = engine.scan(_family(), MASSES, eps_over_g=[0.0], n_g=2, constraints=NAMES)
    path = tmp_path / "s.h5"
    res.save(path)
    back = engine.load(path)
    np.testing.assert_array_equal(back.allowed, res.allowed)
    for name in NAMES:
        np.testing.assert_array_equal(back.ratio(name), res.ratio(name))
    np.testing.assert_array_equal(back.labels, res.labels)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "zprime_atlas.scan"
        assert "babar_2014_visible.csv" in json.loads(f.attrs["file_hashes"])
        assert json.loads(f.attrs["citations"])["babar_2014_visible"] == ["1406.2980"]
        assert f.attrs["particle_version"]
        assert f["constraints/babar_2014_visible/ratio"].compression == "gzip"
        assert f["constraints/babar_2014_visible/ratio"].shuffle
        assert f["allowed"].dims[1][0].name == "/axes/mass"
    assert back.summary()["constraints"] == NAMES


def test_summary_store_for_large_grids() -> None:
    res = engine.scan(_family(), MASSES, eps_over_g=[0.0, 0.01], n_g=4, constraints=NAMES,
                      store="summary")  # fmt: skip
    full = engine.scan(_family(), MASSES, eps_over_g=[0.0, 0.01], n_g=4, constraints=NAMES)
    for name in NAMES:
        np.testing.assert_array_equal(res.excluded_count(name), full.excluded_count(name))
    with pytest.raises(ValueError, match="stored as a summary"):
        res.ratio(NAMES[0])


def test_foreign_and_truncated_files_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(StoreError, match="is not a zprime-atlas scan file"):
        engine.load(foreign)
    good = tmp_path / "good.h5"
    engine.scan(model("B-L"), MASSES, n_g=2, constraints=NAMES[:2]).save(good)
    truncated = tmp_path / "truncated.h5"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="not a readable HDF5 file"):
        engine.load(truncated)
    other = tmp_path / "other_version.h5"
    other.write_bytes(data)
    with h5py.File(other, "r+") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(StoreError, match="format version 99"):
        engine.load(other)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not a readable HDF5 file"):
        engine.load(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"m_X": []}, "mass axis m_X is empty"),
        ({"m_X": [0.1, np.nan]}, "mass axis m_X must be positive and finite"),
        ({"m_X": [-0.1]}, "mass axis m_X must be positive and finite"),
        ({"eps_over_g": []}, "the mixing axis is empty"),
        ({"eps": [np.nan]}, "eps must be finite"),
        ({"g_X": [0.0, 1e-3]}, "g_X must be a non-empty array of positive couplings"),
        ({"gm2": "2025"}, "upper limit with no band"),
        ({"constraints": ["nope"]}, "unknown constraint 'nope'"),
        ({"eps": 0.0, "eps_over_g": 0.1}, "give eps or eps_over_g, not both"),
    ],
)
def test_bad_axes_are_rejected(kwargs: dict, message: str) -> None:
    args = {"m_X": MASSES, **kwargs}
    m = args.pop("m_X")
    with pytest.raises(ValueError, match=message):
        engine.scan(model("B-L"), m, **args)


def test_survey_small_and_upper_limit_dataset() -> None:
    res = engine.survey(max_charge=2, masses=[0.01, 0.1], xi=[0.0, 0.5, -0.5])
    assert res.kind == "survey"
    assert "gm2_electron_rb" not in res.constraint_names
    labels = [v["label"] for v in res.viable_models()]
    assert set(labels) <= set(res.labels)
    with_e = engine.survey(max_charge=2, masses=[0.01], xi=[0.0], electron_gm2="rb")
    assert "gm2_electron_rb" in with_e.constraint_names
    upper = engine.survey(max_charge=2, masses=[0.01, 0.1], xi=[0.0], dataset="2025")
    assert upper.shape[3] == 1
    np.testing.assert_allclose(upper.couplings[..., 0], upper.g_high)
    assert np.all(np.isnan(upper.g_low))
    with pytest.raises(ValueError, match="electron_gm2 must be 'cs' or 'rb'"):
        engine.survey(max_charge=2, masses=[0.01], electron_gm2="xx")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ray's own imports
def test_ray_backend_matches_serial() -> None:
    ray = pytest.importorskip("ray")  # the 'ray' extra; not installed in CI
    fam = _family()
    kw = {"eps_over_g": [0.0, 0.01], "n_g": 2, "constraints": NAMES[:3], "chunk_size": 3}
    serial = engine.scan(fam, MASSES, **kw)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        distributed = engine.scan(fam, MASSES, n_jobs=2, backend="ray", **kw)
    finally:
        ray.shutdown()
    for name in NAMES[:3]:
        np.testing.assert_array_equal(serial.ratio(name), distributed.ratio(name))


class _Flaky(constraints.Constraint):
    """A constraint that fails on its n-th call (an interruption in the middle of a scan)."""

    def __init__(self, fail_on: int | None) -> None:
        self.inner = constraints.get("nsi_oscillation")
        self.info = constraints.ConstraintInfo(
            name="flaky", title="test", citation=("0",), mass_range=(1e-9, 1e4), cl=0.9, notes="t"
        )
        self._calls = 0  # private: not a setting of the constraint (the resume check ignores it)
        self._fail_on = fail_on

    def ratio(self, m_X, g_X, model, eps=0.0, eps_over_g=None, loop_scale=None):
        self._calls += 1
        if self._calls == self._fail_on:
            raise KeyboardInterrupt
        return self.inner.ratio(m_X, g_X, model, eps=eps, eps_over_g=eps_over_g)

    def limit(self, m_X, model, eps_over_g=0.0, eps=None, loop_scale=None):
        return self.inner.limit(m_X, model, eps_over_g=eps_over_g, eps=eps)


def test_a_crash_mid_scan_keeps_finished_chunks(tmp_path: Path) -> None:
    fam = _family()
    kw = {"eps_over_g": [0.0], "n_g": 2, "chunk_size": 3}
    path = tmp_path / "crash.h5"
    with pytest.raises(KeyboardInterrupt):
        engine.scan(fam, MASSES, out=path, constraints=[_Flaky(fail_on=3)], **kw)
    assert store.progress(path) == (2, 4)
    resumed = engine.scan(fam, MASSES, out=path, resume=True, constraints=[_Flaky(None)], **kw)
    fresh = engine.scan(fam, MASSES, constraints=[_Flaky(None)], **kw)
    np.testing.assert_array_equal(resumed.ratio("flaky"), fresh.ratio("flaky"))


def test_survey_separates_viable_from_gap_only() -> None:
    # 0.78 GeV lies in BaBar's and LHCb's rho/omega window: a model allowed only there is gap-only.
    masses = [0.01, 0.05, 0.15, 0.78]
    res = engine.survey(max_charge=2, masses=masses, xi=[0.0, 0.5, -0.5])
    gaps = res.gap_mask()
    assert gaps.shape == (res.shape[0], len(masses))
    assert np.all(gaps[:, 3])  # silent there for every model
    assert not np.any(gaps[:, 1])
    np.testing.assert_array_equal(res.vetoed_masses(), np.all(gaps, axis=0))
    split = res.survey_summary()
    viable = {v["label"] for v in split["viable"]}
    gap_only = {v["label"] for v in split["gap_only"]}
    assert not viable & gap_only
    assert split["n_viable"] == len(viable)
    assert split["n_gap_only"] == len(gap_only)
    assert viable | gap_only == {v["label"] for v in res.viable_models()}
    labels = list(res.labels)
    for item in split["gap_only"]:
        i = labels.index(item["label"])
        assert not np.any(res.allowed_in_band[i] & ~gaps[i][:, None])  # allowed only in gaps
    for item in split["viable"]:
        assert all(0.01 <= iv["mass"][0] <= iv["mass"][1] < 0.78 for iv in item["mass_intervals"])
        lo, hi = item["g_X"]
        assert 0 < lo <= hi
    # strict JSON: no NaN or infinities anywhere in the summary
    json.dumps(res.summary(), allow_nan=False)


def test_an_existing_file_is_never_overwritten_by_accident(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    with pytest.raises(StoreError, match=r"notes\.txt exists; resume it .* nothing was written"):
        engine.scan(model("B-L"), MASSES, n_g=2, constraints=NAMES[:1], out=notes)
    assert notes.read_text() == "my notes"
    done = tmp_path / "done.h5"
    engine.scan(model("B-L"), MASSES, n_g=2, constraints=NAMES[:1], out=done)
    before = done.read_bytes()
    with pytest.raises(StoreError, match="exists"):
        engine.scan(model("B-L"), MASSES, n_g=3, constraints=NAMES[:1], out=done)
    assert done.read_bytes() == before  # the finished scan is intact
    again = engine.scan(model("B-L"), MASSES, n_g=3, constraints=NAMES[:1], out=done, overwrite=True)
    assert again.shape[3] == 3
    with pytest.raises(StoreError, match="exists"):
        again.save(done)
    again.save(done, overwrite=True)


def test_outputs_name_the_extra_recast_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZPRIME_ATLAS_RECASTS", str(tmp_path))
    res = engine.scan(model("B-L"), MASSES, n_g=2, constraints=NAMES[:1], out=tmp_path / "x.h5")
    assert json.loads(res.attrs["extra_recast_folders"]) == [str(tmp_path)]
    monkeypatch.delenv("ZPRIME_ATLAS_RECASTS")
    res = engine.scan(model("B-L"), MASSES, n_g=2, constraints=NAMES[:1])
    assert json.loads(res.attrs["extra_recast_folders"]) == []


def test_threaded_survey_matches_serial() -> None:
    """Threads share the constraints (their per-mass caches, the NSI tables, the memory setting)."""
    masses = np.geomspace(2e-3, 0.5, 5)
    serial = engine.survey(max_charge=2, masses=masses, progress=False, chunk_size=1)
    threaded = engine.survey(max_charge=2, masses=masses, progress=False, chunk_size=1, n_jobs=2,
                             backend="threading")  # fmt: skip
    np.testing.assert_array_equal(serial.allowed, threaded.allowed)
    for name in serial.constraint_names:
        for key, value in serial.results[name].items():
            np.testing.assert_array_equal(value, threaded.results[name][key], err_msg=name)
