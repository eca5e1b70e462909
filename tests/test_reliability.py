"""Reliability (issue 19): nothing lost, nothing silently wrong.

Families: a full disk (RLIMIT_FSIZE in a subprocess, and ENOSPC injected in-process), no overwrite
without consent (a kill -9 during an --overwrite scan keeps the old file), a concurrent writer,
changed inputs on resume, hostile recast files, damaged HDF5 structures, signals (SIGINT/SIGTERM,
and kill -9 with worker processes), and a fuzz test of the command line's numeric arguments: a clear
error or a valid output, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zprime_atlas import constraints, engine, store
from zprime_atlas.cli import main
from zprime_atlas.constants import FERMIONS
from zprime_atlas.constraints.recast import ENV_VAR
from zprime_atlas.models import alpha_r
from zprime_atlas.store import ScanWriteError, StoreError

CONSTRAINTS = "babar_2014_visible,na64_2019_invisible,nsi_oscillation"
#: 16 models in 8 chunks: small, but enough chunks to be interrupted in the middle.
SCAN = ["scan", "alpha-r", "--n", "4", "--mass", "0.2", "--mix-n", "3", "--n-g", "2",
        "--chunk-size", "2", "--constraints", CONSTRAINTS, "--quiet"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]

#: Runs the CLI in a subprocess, optionally with a file-size limit, a delay after every chunk
#: write (a scan slow enough to interrupt) or a SIGKILL of itself after some chunks.
RUNNER = """
import os, resource, signal, sys, time
fsize, delay, kill_after = {fsize!r}, {delay!r}, {kill_after!r}
# a background job of a non-interactive shell starts with SIGINT ignored (and Python then keeps it
# ignored): Ctrl-C must reach the CLI however the tests were started
signal.signal(signal.SIGINT, signal.default_int_handler)
if fsize is not None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
from zprime_atlas import store
_write = store.ScanWriter.write
count = [0]
def write(self, *args, **kwargs):
    _write(self, *args, **kwargs)
    count[0] += 1
    if kill_after is not None and count[0] >= kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
    if delay:
        time.sleep(delay)
store.ScanWriter.write = write
from zprime_atlas.cli import main
from zprime_atlas.constants import FERMIONS
sys.exit(main(sys.argv[1:]))
"""


def _spawn(args: list[str], fsize: int | None = None, delay: float = 0.0,
           kill_after: int | None = None, **kwargs) -> subprocess.Popen:  # fmt: skip
    code = RUNNER.format(fsize=fsize, delay=delay, kill_after=kill_after)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop(ENV_VAR, None)
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                            **kwargs)  # fmt: skip


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = _spawn(args, **kwargs)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    return lines[0]


def _contents(path: Path) -> dict[str, object]:
    """Every dataset and the attributes that describe the scan (not the creation time)."""
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[...])
                     if isinstance(obj, h5py.Dataset) else None)  # fmt: skip
        for key, value in f.attrs.items():
            if key not in ("created", "command_line"):
                out[f"@{key}"] = value
    return out


def _assert_identical(a: Path, b: Path) -> None:
    x, y = _contents(a), _contents(b)
    assert x.keys() == y.keys()
    for key in x:
        np.testing.assert_array_equal(x[key], y[key], err_msg=key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted scan every interrupted one is compared with."""
    path = tmp_path_factory.mktemp("reference") / "full.h5"
    assert main([*SCAN, "--out", str(path)]) == 0
    return path


def _partial_chunks(path: Path) -> int:
    state = store.progress(path)
    return 0 if state is None else state[0]


# -- a full disk -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_file_size_limit_keeps_every_chunk_and_resume_is_identical(tmp_path: Path,
                                                                   reference: Path) -> None:  # fmt: skip
    out = tmp_path / "scan.h5"
    # chunks (a few tens of kB each) fit, the assembled file does not
    limit = reference.stat().st_size - 1
    proc = _run([*SCAN, "--out", str(out)], fsize=limit)
    assert proc.returncode == 1
    line = _one_sentence(proc.stderr)
    assert "File too large" in line
    assert "8 of 8 chunks are kept" in line
    assert "--resume" in line
    assert not out.exists()
    assert store.progress(out) == (8, 8)
    assert not list(tmp_path.glob(".scan.h5.*.tmp"))  # no half-written file left behind
    assert main([*SCAN, "--out", str(out), "--resume"]) == 0
    _assert_identical(out, reference)
    assert not store.partial_path(out).exists()


def test_disk_full_in_the_middle_keeps_the_finished_chunks(
    tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "scan.h5"
    real = store._write_image
    calls = [0]

    def full_disk(path: Path, image: bytes) -> None:
        calls[0] += 1
        if calls[0] == 3:
            with open(path, "xb") as fh:  # a partial write, then the disk is full
                fh.write(image[: len(image) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, image)

    monkeypatch.setattr(store, "_write_image", full_disk)
    assert main([*SCAN, "--out", str(out)]) == 1
    line = _one_sentence(capsys.readouterr().err)
    assert "No space left on device" in line
    assert "2 of 8 chunks are kept" in line
    assert store.progress(out) == (2, 8)
    assert not list(store.partial_path(out).glob("*.tmp"))
    monkeypatch.setattr(store, "_write_image", real)
    with pytest.raises(StoreError, match="unfinished scan"):
        engine.load(out)
    assert main([*SCAN, "--out", str(out), "--resume"]) == 0
    _assert_identical(out, reference)


def test_python_api_raises_scan_write_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_quota(path: Path, image: bytes) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(store, "_write_image", no_quota)
    fam = alpha_r(np.linspace(-1, 1, 2)[:, None], np.linspace(-1, 1, 2)[None, :])
    with pytest.raises(ScanWriteError, match="Disk quota exceeded; 0 of 1 chunks") as info:
        engine.scan(fam, [0.2], n_g=2, constraints=CONSTRAINTS.split(","), out=tmp_path / "q.h5")
    assert (info.value.kept, info.value.total) == (0, 1)


# -- no overwrite without consent, one writer ----------------------------------------------------------


@pytest.mark.slow
def test_kill_during_overwrite_keeps_the_old_file(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "scan.h5"
    shutil.copy(reference, out)
    before = out.read_bytes()
    other = list(SCAN)
    other[other.index("--n-g") + 1] = "3"  # another scan
    proc = _run([*other, "--out", str(out), "--overwrite"], kill_after=2)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == before  # the finished file is untouched
    assert engine.load(out).shape[3] == 2
    assert store.progress(out) == (2, 8)
    # a new scan does not silently discard the unfinished one
    assert main([*other, "--out", str(out)]) == 1
    assert main([*other, "--out", str(out), "--resume"]) == 0
    assert engine.load(out).shape[3] == 3
    fresh = tmp_path / "fresh.h5"
    assert main([*other, "--out", str(fresh)]) == 0
    _assert_identical(out, fresh)


def test_a_second_writer_is_refused_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scan.h5"
    holder = store._Lock(out)  # another process writing the same file
    try:
        for extra in ([], ["--overwrite"], ["--resume"]):
            assert main([*SCAN, "--out", str(out), *extra]) == 1
            line = _one_sentence(capsys.readouterr().err)
            assert "is being written by another zprime-atlas process" in line
        assert not out.exists()
        assert not store.partial_path(out).exists()
    finally:
        holder.release()
    assert main([*SCAN, "--out", str(out)]) == 0
    assert not (tmp_path / ".scan.h5.lock").exists()


def test_existing_files_are_never_replaced_without_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "notes.h5"
    out.write_text("not a scan")
    assert main([*SCAN, "--out", str(out)]) == 1
    assert "exists" in _one_sentence(capsys.readouterr().err)
    assert out.read_text() == "not a scan"
    assert main([*SCAN, "--out", str(out), "--resume"]) == 1  # a foreign file is not resumed
    assert "not a readable HDF5 file" in _one_sentence(capsys.readouterr().err)
    assert out.read_text() == "not a scan"


# -- resume is exact or refused ------------------------------------------------------------------


def _plan(**changes):
    fam = alpha_r(np.linspace(-1, 1, 2)[:, None], np.linspace(-1, 1, 3)[None, :])
    kw = {"n_g": 2, "constraints": CONSTRAINTS.split(","), "chunk_size": 2, **changes}
    masses = kw.pop("masses", [0.05, 0.2])
    return engine.plan_scan(fam, masses, **kw)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"masses": [0.05, 0.3]}, "the mass axis"),
        ({"constraints": ["babar_2014_visible"]}, "the constraint set"),
        ({"n_g": 3}, "the couplings"),
        ({"eps": 0.001}, "the mixing axis"),
        ({"nsigma": 1.0}, "the options"),
    ],
)
def test_resume_with_a_changed_input_names_it(tmp_path: Path, changes: dict, named: str) -> None:
    out = tmp_path / "scan.h5"
    assert engine.execute(_plan(), out=out, max_chunks=1) is None
    with pytest.raises(StoreError, match=f"holds a different scan .changed: {named}"):
        engine.execute(_plan(**changes), out=out, resume=True)
    assert store.progress(out) == (1, 3)  # the refusal touched nothing
    assert engine.execute(_plan(), out=out, resume=True) is not None


def test_resume_with_other_constraint_settings_is_refused(tmp_path: Path) -> None:
    from zprime_atlas.constraints.nsi import NSIOscillation

    out = tmp_path / "scan.h5"
    assert engine.execute(_plan(constraints=[NSIOscillation()]), out=out, max_chunks=1) is None
    with pytest.raises(StoreError, match="changed: the constraint set or a constraint's settings"):
        engine.execute(_plan(constraints=[NSIOscillation(scale=0.5)]), out=out, resume=True)


def test_resume_after_a_package_data_table_changed_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "scan.h5"
    assert engine.execute(_plan(), out=out, max_chunks=1) is None
    real = engine._package_data_hashes

    def changed() -> dict[str, str]:
        hashes = real()
        key = next(k for k in hashes if k.endswith("references.bib"))
        return {**hashes, key: "0" * 64}

    monkeypatch.setattr(engine, "_package_data_hashes", changed)
    with pytest.raises(StoreError, match=r"changed: the data files \(zprime_atlas/data/references"):
        engine.execute(_plan(), out=out, resume=True)


def test_resume_after_a_package_upgrade_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    out = tmp_path / "scan.h5"
    assert engine.execute(_plan(), out=out, max_chunks=1) is None
    monkeypatch.setattr(store, "__version__", "99.0")
    with pytest.raises(StoreError, match=r"changed: the zprime-atlas version \(.* -> 99\.0"):
        engine.execute(_plan(), out=out, resume=True)


def _user_recast(folder: Path, name: str = "my_search") -> Path:
    folder.mkdir(exist_ok=True)
    src = constraints.get("babar_2014_visible")
    csv = folder / f"{name}.csv"
    shutil.copy(src.data.path, csv)
    text = src.meta_path.read_text().replace('name = "babar_2014_visible"', f'name = "{name}"')
    (folder / f"{name}.toml").write_text(text.replace(f'data = "{src.data.path.name}"',
                                                      f'data = "{csv.name}"'))  # fmt: skip
    return csv


def test_resume_after_a_recast_data_file_changed_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _user_recast(tmp_path / "limits")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "limits"))
    out = tmp_path / "scan.h5"
    try:
        constraints.reload()
        kw = {"constraints": ["my_search", "nsi_oscillation"]}
        assert engine.execute(_plan(**kw), out=out, max_chunks=1) is None
        csv.write_text(csv.read_text().replace("0,0.02077,", "0,0.02078,"))
        constraints.reload()
        with pytest.raises(StoreError, match=r"changed: the data files \(my_search\.csv\)"):
            engine.execute(_plan(**kw), out=out, resume=True)
    finally:
        monkeypatch.delenv(ENV_VAR)
        constraints.reload()


# -- recast files cannot hurt --------------------------------------------------------------------

SECRET = "hunter2-private"


def _hostile_folder(folder: Path) -> dict[str, str]:
    """A good recast and many bad ones; returns {file name: what its warning must say}."""
    _user_recast(folder, "good_search")
    good = (folder / "good_search.toml").read_text()
    outside = folder.parent / "outside.csv"
    outside.write_text(f"{SECRET}\nsegment,m_GeV,eps\n0,0.1,1e-3\n0,0.2,1e-3\n")
    (folder / "link.csv").symlink_to(outside)
    (folder / "adir").mkdir()
    csv = (folder / "good_search.csv").read_text()
    (folder / "nan_cell.csv").write_text(csv.replace("0,0.02077,0.0018757", "0,0.02077,nan"))
    (folder / "secret_header.csv").write_text(f"{SECRET},x\n1,2\n3,4\n")

    def meta(name: str, *edits: tuple[str, str]) -> None:
        text = good.replace('name = "good_search"', f'name = "{name}"')
        for a, b in edits:
            assert a in text, a
            text = text.replace(a, b)
        (folder / f"{name}.toml").write_text(text)

    meta("nan_cl", ("cl = 0.90", "cl = nan"))
    meta("nan_t1", ('lifetime = { kind = "prompt" }',
                    'lifetime = { kind = "window", t1_ps = 1.0, t1_gev_ps = nan }'))  # fmt: skip
    meta("absolute", ('data = "good_search.csv"', 'data = "/etc/passwd"'))
    meta("dotdot", ('data = "good_search.csv"', 'data = "../outside.csv"'))
    meta("symlink_out", ('data = "good_search.csv"', 'data = "link.csv"'))
    meta("directory", ('data = "good_search.csv"', 'data = "adir"'))
    meta("wrong_type", ("cl = 0.90", f'cl = "{SECRET}"'))
    meta("nan_data", ('data = "good_search.csv"', 'data = "nan_cell.csv"'))
    meta("secret_data", ('data = "good_search.csv"', 'data = "secret_header.csv"'))
    (folder / "not_utf8.toml").write_bytes(b"name = \xff\xfe" + SECRET.encode())
    (folder / "junk.toml").write_text(f"{SECRET} = = =\n\x00\x01")
    return {
        "nan_cl.toml": "key 'cl' must be a finite number, got the non-finite number nan",
        "nan_t1.toml": "t1_gev_ps", "absolute.toml": "no absolute path",
        "dotdot.toml": "no '..'", "symlink_out.toml": "leads outside the folder",
        "directory.toml": "not a regular file", "wrong_type.toml": "must be a finite number",
        "nan_cell.csv": "not finite", "secret_header.csv": "missing column",
        "not_utf8.toml": "not UTF-8", "junk.toml": "not valid TOML",
    }  # fmt: skip


def test_hostile_recast_files_are_warnings_and_the_rest_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "limits"
    folder.mkdir()
    expected = _hostile_folder(folder)
    builtin = set(constraints.names(superseded=True))
    monkeypatch.setenv(ENV_VAR, str(folder))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            constraints.reload()
        messages = [str(w.message) for w in caught]
        for name, words in expected.items():
            hits = [m for m in messages if name in m]
            assert len(hits) == 1, (name, messages)
            assert words in hits[0], (name, hits[0])
        assert all(SECRET not in m for m in messages)
        names = set(constraints.names(superseded=True))
        assert names == builtin | {"good_search"}
        # the command line (a fresh process): one warning line per bad file, the command works
        proc = subprocess.run([sys.executable, "-m", "zprime_atlas.cli", "list", "--experiment",
                               "BaBar"], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, ENV_VAR: str(folder)}, timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "good_search" in proc.stdout
        assert SECRET not in proc.stderr
        assert SECRET not in proc.stdout
        assert "Traceback" not in proc.stderr
        lines = [line for line in proc.stderr.splitlines() if "recast skipped" in line]
        assert len(lines) == len(expected)
        assert all(line.startswith("zprime-atlas: warning: recast skipped: ") for line in lines)
    finally:
        monkeypatch.delenv(ENV_VAR)
        constraints.reload()


def test_a_recast_nan_is_an_error_never_excludes_nothing(tmp_path: Path) -> None:
    from zprime_atlas.constraints.recast import RecastFileError, load_recast

    folder = tmp_path / "limits"
    folder.mkdir()
    _hostile_folder(folder)
    with pytest.raises(RecastFileError, match=r"nan_t1\.toml: lifetime t1_gev_ps must be a finite"):
        load_recast(folder / "nan_t1.toml")


# -- damaged files ---------------------------------------------------------------------------------


def _damaged(reference: Path, tmp_path: Path, how) -> Path:
    path = tmp_path / "damaged.h5"
    shutil.copy(reference, path)
    with h5py.File(path, "r+") as f:
        how(f, tmp_path)
    return path


def _external_link(f: h5py.File, tmp: Path) -> None:
    with h5py.File(tmp / "other.h5", "w") as g:
        g["x"] = np.zeros((16, 1, 3, 2), dtype=np.uint8)
    del f["allowed"]
    f["allowed"] = h5py.ExternalLink(str(tmp / "other.h5"), "/x")


def _replace(name: str, data: np.ndarray):
    def how(f: h5py.File, tmp: Path) -> None:
        del f[name]
        f[name] = data

    return how


def _flip_chunk_byte(f: h5py.File, tmp: Path) -> None:
    info = f["band/g_low"].id.get_chunk_info(0)
    f.flush()
    f.close()
    with open(tmp / "damaged.h5", "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 2)
        byte = fh.read(1)
        fh.seek(info.byte_offset + info.size // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        (_external_link, "external link"),
        (_replace("allowed", np.zeros((16, 1, 3), dtype=np.uint8)), "has shape"),
        (_replace("allowed", np.zeros((16, 1, 3, 2), dtype=np.float64)), "has dtype"),
        (_replace("done", np.ones(3, dtype=np.uint8)), "done list has shape"),
        (_replace("done", np.full(8, 2, dtype=np.uint8)), "values other than 0 and 1"),
        (_replace("axes/mass", np.array([0.1, 0.2])), "has shape"),
        (_replace("models/labels", np.array([b"x"] * 3)), "has shape"),
        (_flip_chunk_byte, "cannot read its data"),
    ],
)  # fmt: skip
def test_damaged_structures_are_refused(tmp_path: Path, reference: Path, how, message: str) -> None:
    path = _damaged(reference, tmp_path, how)
    with pytest.raises(StoreError, match=message):
        engine.load(path)
    assert main(["show", str(path)]) == 1


def test_version_1_files_still_load(tmp_path: Path) -> None:
    """A first-format summary file (min_ratio, float64 band, charges) reads as before."""
    new = tmp_path / "v2.h5"
    res = engine.execute(_plan(store="summary"), out=new)
    assert res is not None
    old = tmp_path / "v1.h5"
    shutil.copy(new, old)
    with h5py.File(old, "r+") as f:
        f.attrs["format_version"] = 1
        f["models/charges"] = np.stack(
            [np.broadcast_to(res.models.charge(x), res.models.shape) for x in FERMIONS], axis=1)
        for name in res.constraint_names:
            del f[f"constraints/{name}/silent"]
            f[f"constraints/{name}/min_ratio"] = np.where(
                res.excluded_count(name) > 0, np.float32(2.0), np.float32(0.5))
    back = engine.load(old)
    np.testing.assert_array_equal(back.allowed, res.allowed)
    np.testing.assert_array_equal(back.gap_mask(), res.gap_mask())
    assert back.summary()["n_models"] == 6


# -- signals ------------------------------------------------------------------------------------------


def _wait_for_chunks(path: Path, proc: subprocess.Popen, n: int) -> None:
    """Wait (polling) until the scan of ``proc`` has kept at least n chunks."""
    for _ in range(2400):
        if _partial_chunks(path) >= n or proc.poll() is not None:
            return
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize(("sig", "code", "jobs"), [(signal.SIGINT, 130, "1"),
                                                   (signal.SIGTERM, 143, "2")])  # fmt: skip
def test_signals_keep_the_finished_chunks_and_print_the_resume_command(
    tmp_path: Path, reference: Path, sig: int, code: int, jobs: str
) -> None:
    out = tmp_path / "scan.h5"
    proc = _spawn([*SCAN, "--out", str(out), "--jobs", jobs], delay=0.5)
    _wait_for_chunks(out, proc, 1)
    workers = _children(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    line = _one_sentence(err)
    kept = _partial_chunks(out)
    assert 1 <= kept < 8
    assert line.startswith(f"zprime-atlas: interrupted; {kept} of 8 chunks kept in ")
    command = shlex.split(line.split("resume with: ", 1)[1])
    assert command[0] == "zprime-atlas"
    assert command[-1] == "--resume"
    for _ in range(1200):  # every worker process is gone
        if not any(_alive(p) for p in workers):
            break
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers)
    assert main(command[1:]) == 0
    _assert_identical(out, reference)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_workers_exit_when_the_scan_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "scan.h5"
    proc = _spawn([*SCAN, "--out", str(out), "--jobs", "2"], delay=0.5)
    _wait_for_chunks(out, proc, 1)
    workers = _children(proc.pid)
    assert workers
    proc.kill()
    proc.communicate(timeout=120)
    for _ in range(1200):
        if not any(_alive(p) for p in workers):
            break
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers)
    assert main([*SCAN, "--out", str(out), "--resume"]) == 0


# -- the command line's numeric arguments --------------------------------------------------------

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "-0", "1e-400", "1e400", "-1e-3", "nan", "-inf", "1e154", "1e155",
                     "", " ", "abc", "1,5", "0x10", "--", "-"]),
)  # fmt: skip


#: Counts: small enough that a valid grid runs in a moment, plus invalid and absurd ones.
COUNTS = st.one_of(
    st.integers(min_value=-3, max_value=9).map(str),
    st.sampled_from(["0", "-1", "256", "1000", str(10**12), "1e3", "2.5", "nan", "", "abc"]),
)


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():  # fmt: skip
        warnings.simplefilter("default")  # as for a user: a warning is a line, not an error
        try:
            code = main(args)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _check(code: int, out: str, err: str, json_out: bool) -> None:
    assert code in (0, 1, 2), (code, err)
    if code == 0:
        if json_out:
            json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    else:
        errors = [line for line in err.splitlines() if line.startswith("zprime-atlas: error:")]
        assert len(errors) == 1, err
        assert "Traceback" not in err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mass=NUMBERS, eps=NUMBERS, loop_scale=st.one_of(st.none(), NUMBERS))
def test_fuzz_limits_numbers(mass: str, eps: str, loop_scale: str | None) -> None:
    args = ["limits", "--model", "B-L", "--mass", mass, "--eps", eps, "--format", "json",
            "--constraints", "babar_2014_visible,nsi_oscillation"]  # fmt: skip
    if loop_scale is not None:
        args += ["--loop-scale", loop_scale]
    _check(*_cli(args), json_out=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=COUNTS, mix_n=COUNTS, n_g=COUNTS, r_max=NUMBERS, mass=NUMBERS)
def test_fuzz_scan_numbers(n: str, mix_n: str, n_g: str, r_max: str, mass: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "f.h5")
        code, stdout, err = _cli(["scan", "alpha-r", "--n", n, "--mix-n", mix_n, "--n-g", n_g,
                                  "--r-max", r_max, "--mass", mass, "--constraints",
                                  "na64_2019_invisible", "--quiet", "--out", out])  # fmt: skip
        _check(code, stdout, err, json_out=False)
        if code == 0:
            code, stdout, err = _cli(["show", out, "--json"])
            _check(code, stdout, err, json_out=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["limits", "--model", "B-L", "--mass", "0.1", "--eps", "loop", "--loop-scale", "1e200"],
         "--loop-scale 1e200 GeV is too large: its square overflows"),
        (["limits", "--model", "B-L", "--mass", "0.1", "--eps", "2"],
         "--eps 2 must lie between -1 and 1"),
        (["scan", "alpha-r", "--n", "4", "--mix-n", "0", "--out", "x.h5"], "--mix-n 0 must lie"),
        (["scan", "alpha-r", "--n", "100000", "--out", "x.h5"],
         r"needs about .* GB of memory and this machine has"),
        (["scan", "alpha-r", "--n", "4", "--n-g", "300", "--out", "x.h5"], "--n-g 300 must lie"),
        (["scan", "alpha-r", "--n", "4", "--r-max", "inf", "--out", "x.h5"], "--r-max inf must be"),
        (["scan", "alpha-r", "--n", "4", "--jobs", "10000", "--out", "x.h5"],
         "more than 8 workers per CPU"),
        (["scan", "mass-coupling", "--model", "B-L", "--g-max", "100", "--out", "x.h5"],
         "above 4 pi"),
        (["survey", "--max-charge", "1000000", "--out", "x.h5"], "--max-charge 1000000 must lie"),
    ],
)  # fmt: skip
def test_bad_numbers_are_one_sentence(args: list[str], message: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli(args)
    assert code == 1
    assert re.search(message, _one_sentence(err)), err
    assert not (tmp_path / "x.h5").exists()


def test_negative_numbers_parse_after_flags() -> None:
    code, out, err = _cli(["limits", "--model", "Lmu-Ltau", "--mass", "0.1", "--eps", "-1e-3",
                           "--format", "json", "--constraints", "babar_2014_visible"])  # fmt: skip
    assert code == 0, err
    assert json.loads(out)


def test_ray_without_ray_is_one_sentence(tmp_path: Path) -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ray is installed")
    code, _, err = _cli(["scan", "alpha-r", "--n", "4", "--backend", "ray", "--jobs", "2",
                         "--out", str(tmp_path / "x.h5")])  # fmt: skip
    assert code == 1
    assert "--backend ray needs ray" in _one_sentence(err)


@pytest.mark.slow  # the default alpha-R scan: 40000 models x 65 xi x 9 couplings (~20-60 s)
def test_default_alpha_r_file_is_below_20_mb(tmp_path: Path) -> None:
    out = tmp_path / "alpha_r.h5"
    assert main(["scan", "alpha-r", "--mass", "0.2", "--out", str(out), "--quiet"]) == 0
    assert out.stat().st_size < 20e6
    res = engine.load(out)
    assert res.shape == (40000, 1, 65, 9)
    assert "silent" in res.results[res.constraint_names[0]]
