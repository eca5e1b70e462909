"""Scan results as xarray datasets and netCDF-4 files: named axes, lossless round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zprime_atlas as za
from zprime_atlas import engine, netcdf
from zprime_atlas.constants import FERMIONS

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

CONSTRAINTS = ["babar_2014_visible", "ccfr_trident", "nsi_oscillation", "e137_2012_dump"]


@pytest.fixture(scope="module")
def alpha_r_scan() -> za.ScanResult:
    family = za.alpha_r(np.linspace(-1.5, 1.5, 4)[:, None], np.linspace(-1.0, 1.0, 3)[None, :])
    return za.scan(family, [0.005, 0.05, 0.2, 0.5], eps_over_g=[0.0, 0.01], n_g=4,
                   constraints=CONSTRAINTS, store="ratio", progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def survey() -> za.ScanResult:
    return engine.survey(max_charge=2, masses=[0.01, 0.1, 0.3], xi=[0.0, 0.5], store="summary")


def _same(a: za.ScanResult, b: za.ScanResult) -> None:
    assert a.kind == b.kind
    assert a.mix_kind == b.mix_kind
    assert a.constraint_names == b.constraint_names
    np.testing.assert_array_equal(a.masses, b.masses)
    np.testing.assert_array_equal(a.mix_values, b.mix_values)
    np.testing.assert_array_equal(a.allowed, b.allowed)
    np.testing.assert_array_equal(a.g_low, b.g_low)
    np.testing.assert_array_equal(a.g_high, b.g_high)
    assert list(a.labels) == list(b.labels)
    for name in a.constraint_names:
        assert a.results[name].keys() == b.results[name].keys()
        for key, arr in a.results[name].items():
            np.testing.assert_array_equal(arr, b.results[name][key])
            assert arr.dtype == b.results[name][key].dtype
    for f in ("u", "e", "mu", "tau", "nu_mu"):
        np.testing.assert_array_equal(np.broadcast_to(a.models.charge(f), a.models.shape),
                                      np.broadcast_to(b.models.charge(f), b.models.shape))  # fmt: skip


def test_dataset_has_named_axes_and_coordinates(alpha_r_scan: za.ScanResult) -> None:
    ds = alpha_r_scan.to_xarray()
    assert ds["allowed"].dims == ("model", "mass", "mix", "coupling")
    assert ds["g_low"].dims == ("model", "mass", "mix")
    np.testing.assert_array_equal(ds["mass"].values, [0.005, 0.05, 0.2, 0.5])
    assert ds["mass"].attrs["units"] == "GeV"
    assert ds["mix"].attrs["long_name"] == "eps_over_g"
    assert list(ds["fermion"].values) == list(FERMIONS)
    assert [str(v) for v in ds["label"].values] == [str(v) for v in alpha_r_scan.labels]
    for name in CONSTRAINTS:
        var = ds[f"ratio_{name}"]
        assert var.attrs == {"constraint": name, "quantity": "ratio"}
        np.testing.assert_array_equal(var.values, alpha_r_scan.ratio(name))
    # label-based selection works as a physicist would use it
    point = ds["ratio_ccfr_trident"].sel(mass=0.2, mix=0.0)
    assert point.shape == (12, 4)


def test_netcdf_file_opens_with_xarray_and_round_trips(alpha_r_scan: za.ScanResult, tmp_path) -> None:
    path = netcdf.write(alpha_r_scan, tmp_path / "scan.nc")
    with xr.open_dataset(path) as ds:
        assert ds["allowed"].dtype == bool
        assert json.loads(ds.attrs["constraint_names"]) == CONSTRAINTS
        assert ds.attrs["dataset"] == alpha_r_scan.attrs["dataset"]
    back = netcdf.read(path)
    _same(alpha_r_scan, back)
    assert back.models.family == json.loads(alpha_r_scan.attrs["family"])  # as za.load gives it
    assert back.allowed_fraction() == alpha_r_scan.allowed_fraction()


def test_survey_summary_survives_the_round_trip(survey: za.ScanResult, tmp_path) -> None:
    back = netcdf.read(netcdf.write(survey, tmp_path / "survey.nc"))
    _same(survey, back)
    assert back.survey_summary() == survey.survey_summary()


def test_hdf5_scan_file_converts_losslessly(alpha_r_scan: za.ScanResult, tmp_path) -> None:
    alpha_r_scan.save(tmp_path / "scan.h5")
    loaded = za.load(tmp_path / "scan.h5")
    back = netcdf.read(netcdf.write(loaded, tmp_path / "scan.nc"))
    _same(alpha_r_scan, back)


def test_write_refuses_an_existing_file(alpha_r_scan: za.ScanResult, tmp_path) -> None:
    target = tmp_path / "notes.nc"
    target.write_text("someone's notes")
    with pytest.raises(FileExistsError, match=r"notes\.nc exists"):
        netcdf.write(alpha_r_scan, target)
    assert target.read_text() == "someone's notes"
    netcdf.write(alpha_r_scan, target, overwrite=True)
    _same(alpha_r_scan, netcdf.read(target))


def test_a_foreign_dataset_is_refused_in_one_sentence() -> None:
    ds = xr.Dataset({"allowed": ("x", np.zeros(3, bool))}, attrs={"constraint_names": "[]"})
    with pytest.raises(ValueError, match="not a zprime-atlas scan dataset: no variable 'charges'"):
        netcdf.from_dataset(ds)
