"""The command line: output formats, and one-sentence errors with non-zero exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from zprime_atlas import constraints, gm2
from zprime_atlas.cli import main
from zprime_atlas.models import model


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_limits_json_prints_the_band(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "limits", "--model", "Lmu-Ltau", "--mass", "0.01", "0.2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["model"] == "Lmu-Ltau"
    assert data["masses"] == [0.01, 0.2]
    assert data["gm2"]["dataset"] == "2021"
    lo, hi = gm2.band(model("Lmu-Ltau"), np.array([0.01, 0.2]))
    assert np.allclose(data["gm2"]["g_low"], lo)
    assert np.allclose(data["gm2"]["g_high"], hi)
    # Every registered constraint is listed, one value per mass; Lmu-Ltau without mixing has
    # no electron coupling, so the electron g-2 excludes nothing ("inf").
    assert set(data["constraints"]) == set(constraints.names())
    assert data["constraints"]["gm2_electron_rb"] == ["inf", "inf"]


def test_limits_json_loop_and_upper_limit_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "limits", "--model", "Lmu-Ltau", "--mass", "0.01", "--eps", "loop",
        "--dataset", "2025", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["eps"] == "loop"
    assert data["gm2"]["g_low"] == [None]
    assert data["gm2"]["kind"] == "upper_limit"
    assert isinstance(data["constraints"]["gm2_electron_rb"][0], float)


def test_limits_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "limits", "--model", "B-L", "--mass", "0.03", "0.3")
    assert code == 0
    assert "g-2 band (2021)" in out
    assert "gm2_electron_cs" in out
    assert len([line for line in out.splitlines() if line.strip().startswith("0.03")]) == 1


def test_list_shows_every_constraint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    for c in constraints.all():
        assert c.name in out
        assert "GeV" in out
        for arxiv in c.citation:
            assert arxiv in out
    code, out, _ = run(capsys, "list", "--bibtex")
    assert code == 0
    assert "@article{arXiv:2209.13084" in out


def test_any_model_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, by_string, err = run(capsys, "limits", "--model", "B-2Le-Lmu", "--mass", "0.1")
    assert code == 0, err
    code, by_charges, err = run(capsys, "limits", "--charges", "B=1,Le=-2,Lmu=-1", "--mass", "0.1")
    assert code == 0, err
    assert by_string == by_charges
    code, _, err = run(capsys, "limits", "--model", "2B-Le", "--mass", "0.1")
    assert code == 1
    assert "'2B-Le' is not anomaly free" in err
    assert "--allow-anomalous" in err
    code, _, err = run(capsys, "limits", "--model", "2B-Le", "--mass", "0.1", "--allow-anomalous")
    assert code == 0, err
    code, out, err = run(capsys, "limits", "--charges", "u=1,d=1,e=-1,nu_e=-1", "--mass", "0.1",
                         "--allow-anomalous")  # fmt: skip
    assert code == 0, err
    assert "model custom" in out


def _strict(text: str) -> dict:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_export_gives_both_edges_as_strict_json_and_csv(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    code, out, err = run(capsys, "export", "--model", "B-L", "--mass", "0.005", "0.01", "2.0",
                         "--constraints", "na64_2020_visible,borexino")  # fmt: skip
    assert code == 0, err
    table = _strict(out)
    na64 = table["constraints"]["na64_2020_visible"]
    assert na64["status"] == ["excludes", "excludes", "no_statement"]
    lower, upper = na64["intervals"][0][0]["lower"], na64["intervals"][0][0]["upper"]
    assert 0 < lower < upper  # an island keeps its upper edge
    assert not na64["intervals"][0][0]["upper_open"]
    bx = table["constraints"]["borexino"]["intervals"][0][0]
    assert bx["upper"] is None
    assert bx["upper_open"]
    # the same numbers as limit() and excluded_intervals()
    c = constraints.get("na64_2020_visible")
    lo, hi = c.excluded_intervals(0.005, model("B-L"))[0]
    assert (lower, upper) == (float(lo), float(hi))
    target = tmp_path / "t.csv"
    code, _, err = run(capsys, "limits", "--model", "B-L", "--mass-min", "0.004", "--mass-max",
                       "0.02", "--n-mass", "3", "--format", "csv", "--constraints",
                       "na64_2020_visible")  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, "export", "--model", "B-L", "--n-mass", "3", "--format", "csv",
                       "-o", str(target))  # fmt: skip
    assert code == 0, err
    assert target.read_text().startswith("constraint,m_GeV,interval,g_lower,g_upper,status,cl")
    code, _, err = run(capsys, "export", "--model", "B-L", "--n-mass", "3", "-o", str(target))
    assert code == 1
    assert "exists" in err
    code, _, err = run(capsys, "limits", "--model", "B-L", "--mass", "0.1", "--mass-min", "0.1")
    assert code == 1
    assert "not both" in err


def test_plot_model_draws_any_model(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    out = tmp_path / "x.png"
    code, _, err = run(capsys, "plot-model", "--model", "3B-10Le+Lmu", "--n-mass", "30",
                       "--dataset", "2025", "-o", str(out), "--quiet")  # fmt: skip
    assert code == 0, err
    assert out.stat().st_size > 10_000
    code, _, err = run(capsys, "plot-model", "--charges", "B=1,Le=-2,Lmu=-1", "--mass-min", "1",
                       "--mass-max", "0.1", "-o", str(out))  # fmt: skip
    assert code == 1
    assert "must satisfy 0 < min < max" in err


def test_constraint_selection_flags(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code, out, err = run(capsys, "limits", "--model", "B-L", "--mass", "0.1",
                         "--constraints", "borexino,nsi_oscillation")  # fmt: skip
    assert code == 0, err
    header = out.splitlines()[1]
    assert "borexino" in header
    assert "nsi_oscillation" in header
    assert "babar" not in header
    code, out, _ = run(capsys, "limits", "--model", "B-L", "--mass", "0.1", "--exclude", "borexino")
    assert "borexino" not in out.splitlines()[1]
    code, _, err = run(capsys, "limits", "--model", "B-L", "--mass", "0.1", "--exclude", "nope")
    assert code == 1
    assert "unknown constraint 'nope'" in err
    # scans and the survey default to every constraint but the electron g-2 ones
    out_file = tmp_path / "ar.h5"
    code, _, err = run(capsys, "scan", "alpha-r", "--n", "4", "--mix-n", "2", "--dataset", "2025",
                       "--out", str(out_file), "--quiet")  # fmt: skip
    assert code == 0, err
    code, text, _ = run(capsys, "show", str(out_file), "--json")
    shown = json.loads(text)
    assert not any(n.startswith("gm2_electron") for n in shown["constraints"])
    assert shown["dataset"] == "2025"
    assert shown["n_couplings"] == 1  # evaluated at the g-2 upper limit


def test_list_filters_by_kind_and_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--kind", "invisible")
    assert code == 0
    rows = [line.split()[0] for line in out.splitlines()[1:]]
    assert rows
    assert all("invisible" in name for name in rows)
    code, out, _ = run(capsys, "list", "--experiment", "babar")
    rows = [line.split()[0] for line in out.splitlines()[1:]]
    assert rows
    assert all(name.startswith("babar_") for name in rows)
    code, out, _ = run(capsys, "list", "--experiment", "NA64", "--kind", "dump")
    assert "na64_2020_visible" in out
    assert "na64_2019_invisible" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--kind", "loud"], "unknown kind 'loud'; kinds: visible, invisible, dump"),
        (["limits", "--charges", "B=1,Lx=2", "--mass", "0.1"], "unknown name 'Lx'"),
        (["limits", "--charges", "B=one", "--mass", "0.1"], "'one' is not a number"),
        (["limits", "--model", "Lmu_Ltau_x", "--mass", "0.1"], "unknown model 'Lmu_Ltau_x'"),
        (["limits", "--model", "B-L", "--mass", "-0.1"], "mass -0.1 is not a positive"),
        (["limits", "--model", "B-L", "--mass", "0"], "mass 0 is not a positive"),
        (["limits", "--model", "B-L", "--mass", "nan"], "mass nan is not a positive"),
        (["limits", "--model", "B-L", "--mass", "1e-3x"], "mass '1e-3x' is not a number"),
        (["limits", "--model", "B-L", "--mass", "0.1", "--eps", "lop"], "--eps 'lop' is not a"),
        (["limits", "--model", "B-L", "--mass", "0.1", "--eps", "loop"], "--loop-scale"),
        (
            ["limits", "--model", "B-L", "--mass", "0.1", "--eps", "loop", "--loop-scale", "-5"],
            "--loop-scale -5 is not a positive",
        ),
    ],
)
def test_errors_are_one_sentence(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("zprime-atlas: error: ")
    assert message in lines[0]
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "limits", "--model", "B-L", "--mass", "1", "--dataset", "1999")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "invalid choice: '1999'" in err


def test_loop_scale_makes_b_minus_l_loop_work(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "limits", "--model", "B-L", "--mass", "0.1", "--eps", "loop",
        "--loop-scale", "1000", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["loop_scale"] == 1000.0


def test_module_entry_point_runs_in_a_subprocess() -> None:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "zprime_atlas.cli", "limits", "--model", "nonsense", "--mass", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("zprime-atlas: error: unknown model 'nonsense'")
    assert "Traceback" not in proc.stderr


def test_b_minus_l_gets_babar_lhcb_and_na64_limits(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "limits", "--model", "B-L", "--mass", "0.03", "0.3", "1", "3", "--json")
    assert code == 0, err
    limits = json.loads(out)["constraints"]
    # BaBar visible covers 0.02-10 GeV except vetoed windows (1 GeV is inside the phi veto).
    assert all(isinstance(v, float) for v in np.array(limits["babar_2014_visible"])[[0, 1, 3]])
    assert limits["babar_2014_visible"][2] is None
    assert isinstance(limits["lhcb_2019_prompt"][1], float)
    assert isinstance(limits["na64_2019_invisible"][0], float)
    assert limits["na64_2019_invisible"][3] is None  # above its 1 GeV range
    for name in ("babar_2017_invisible", "babar_2016_4mu", "lhcb_2017_prompt"):
        assert name in limits


def test_scan_show_and_plot_commands(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    out = tmp_path / "ar.h5"
    code, text, err = run(
        capsys, "scan", "alpha-r", "--mass", "0.2", "--n", "4", "--mix-n", "4", "--n-g", "3",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert out.exists()
    code, text, err = run(capsys, "show", str(out), "--json")
    assert code == 0, err
    summary = json.loads(text)
    assert summary["n_models"] == 16
    assert summary["mix_kind"] == "xi"
    assert 0.0 <= summary["allowed_fraction"] <= 1.0
    png = tmp_path / "ar.png"
    code, _, err = run(capsys, "plot", str(out), "-o", str(png))
    assert code == 0, err
    assert png.stat().st_size > 1000
    # Resuming a finished scan is a no-op; a foreign file is refused in one sentence.
    code, _, err = run(capsys, "scan", "alpha-r", "--mass", "0.2", "--n", "4", "--mix-n", "4",
                       "--n-g", "3", "--out", str(out), "--resume", "--quiet")  # fmt: skip
    assert code == 0, err
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    code, _, err = run(capsys, "show", str(bad))
    assert code == 1
    assert "not a readable HDF5 file" in err
    assert len(err.strip().splitlines()) == 1


def test_mass_coupling_scan_and_survey_commands(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    out = tmp_path / "mc.h5"
    code, _, err = run(
        capsys, "scan", "mass-coupling", "--model", "B-L", "--n-mass", "5", "--n-coupling", "4",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, err
    code, text, _ = run(capsys, "show", str(out))
    assert "1 models, 5 masses" in text
    sv = tmp_path / "sv.h5"
    code, text, err = run(capsys, "survey", "--max-charge", "1", "--n-mass", "4", "--out", str(sv))
    assert code == 0, err
    assert "viable with the 2021 g-2 band" in text
    code, text, _ = run(capsys, "show", str(sv), "--json")
    data = json.loads(text)
    assert "viable_models" in data
    assert "n_viable_outside_vetoed_windows" in data
    code, _, err = run(capsys, "scan", "mass-coupling", "--model", "B-L", "--mass-min", "1",
                       "--mass-max", "0.1", "--out", str(out))  # fmt: skip
    assert code == 1
    assert "is not increasing" in err


def test_figures_command_rejects_unknown_names(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code, _, err = run(capsys, "figures", "--out", str(tmp_path), "--only", "nope")
    assert code == 1
    assert "unknown figure 'nope'" in err
    code, _, err = run(capsys, "figures", "--out", str(tmp_path), "--only", "mass_coupling_B-L",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "mass_coupling_B-L.png").exists()
    assert json.loads((tmp_path / "mass_coupling_B-L.json").read_text())["model"] == "B-L"


def test_cite_prints_full_entries_where_known(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cite", "--constraints", "e137_2012_dump,borexino")
    assert code == 0, err
    assert out.startswith("@software{zprime_atlas")
    assert "Andreas, Sarah and Niebuhr, Carsten and Ringwald, Andreas" in out  # full record
    assert 'eprint = "1707.09279"' in out  # Borexino Phase-II: a full record (references_extra.bib)
    assert "eprint = {1504.00711}" in out  # a source with no record still gets the honest stub
    assert "complete it from INSPIRE" in out
