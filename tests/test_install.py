"""The README's two commands work on a machine with only Python 3.11: every dependency installs from a wheel.

`[tool.uv] no-build = true` makes `uv run` refuse any source distribution; these tests catch the same thing
earlier and offline, by reading uv.lock: every package that `uv sync` would install (the resolution walked from
the project through its dependencies and the dev group, markers evaluated for the platform) must have a wheel
whose tags that platform accepts. A future dependency that brings an sdist-only package (as `pyicu` did, under
followthemoney -> normality) fails here with its name.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "oretrail"


def _marker_holds(marker: str | None, env: dict[str, str]) -> bool:
    return marker is None or Marker(marker).evaluate({**env, "extra": ""})


def resolution(lock: dict, env: dict[str, str], groups: Iterable[str] = ("dev",)) -> list[dict]:
    """The locked packages that `uv sync` installs in `env`: the project, then what it needs, transitively."""
    by_name: dict[str, list[dict]] = {}
    for pkg in lock["package"]:
        by_name.setdefault(canonicalize_name(pkg["name"]), []).append(pkg)

    def find(edge: dict) -> dict:
        candidates = by_name[canonicalize_name(edge["name"])]
        if "version" in edge:
            candidates = [p for p in candidates if p["version"] == edge["version"]]
        assert len(candidates) == 1, f"ambiguous lock edge {edge}"
        return candidates[0]

    def follow(edges: Iterable[dict]) -> list[tuple[dict, str]]:
        out = []
        for edge in edges:
            if _marker_holds(edge.get("marker"), env):
                dep = find(edge)
                out += [(dep, ""), *((dep, extra) for extra in edge.get("extra", ()))]
        return out

    root = find({"name": PROJECT})
    todo = [(root, "")]
    for group in groups:
        todo += follow(root.get("dev-dependencies", {}).get(group, []))
    installed: dict[tuple[str, str], dict] = {}
    visited: set[tuple[str, str, str]] = set()
    while todo:
        pkg, extra = todo.pop()
        if (pkg["name"], pkg["version"], extra) in visited:
            continue
        visited.add((pkg["name"], pkg["version"], extra))
        installed[(pkg["name"], pkg["version"])] = pkg
        todo += follow(pkg.get("optional-dependencies", {}).get(extra, []) if extra else pkg.get("dependencies", []))
    return list(installed.values())


def without_wheel(lock: dict, env: dict[str, str], tags: Iterable[Tag]) -> list[str]:
    """`name version` of every package in the resolution that only a source build could install."""
    accepted = set(tags)
    missing = []
    for pkg in resolution(lock, env):
        if pkg["name"] == PROJECT:  # the project itself: built by uv as an editable, from this tree
            continue
        source = pkg["source"]
        assert "registry" in source, f"{pkg['name']} comes from {source}, not an index: check it by hand"
        wheels = [parse_wheel_filename(w["url"].rsplit("/", 1)[1])[3] for w in pkg.get("wheels", [])]
        if not any(accepted & set(w) for w in wheels):
            missing.append(f"{pkg['name']} {pkg['version']}")
    return sorted(missing)


def _here() -> tuple[dict[str, str], list[Tag]]:
    return dict(default_environment()), list(sys_tags())


def _linux_x86_64_cp311() -> tuple[dict[str, str], list[Tag]]:
    """A plain glibc 2.28 x86_64 Linux with CPython 3.11: what the README promises beyond this machine."""
    env = {
        "implementation_name": "cpython",
        "implementation_version": "3.11.7",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": "3.11.7",
        "python_version": "3.11",
        "sys_platform": "linux",
    }
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    tags = [*cpython_tags((3, 11), platforms=platforms), *compatible_tags((3, 11), "cp311", platforms)]
    return env, tags


def _lock(path: Path = ROOT / "uv.lock") -> dict:
    return tomllib.loads(path.read_text())


@pytest.mark.parametrize("target", [_here, _linux_x86_64_cp311], ids=["this-machine", "manylinux_2_28-x86_64-cp311"])
def test_every_locked_dependency_has_a_wheel(target) -> None:
    env, tags = target()
    lock = _lock()
    installed = {p["name"] for p in resolution(lock, env)}
    assert {"followthemoney", "normality", "rigour", "pytest"} <= installed  # the walk reaches the leaves
    assert without_wheel(lock, env, tags) == BUILT_FROM_SOURCE, "sdist-only in the resolution: uv will refuse them"


# The one exception to no-build, listed in pyproject.toml's no-binary-package: pyspark publishes no wheel; its
# sdist is Python files and Spark's jars, packed by setuptools (no compiler, no system library).
BUILT_FROM_SOURCE = ["pyspark 4.3.0"]


def test_only_pyspark_may_be_built_from_source() -> None:
    """A new exception to no-build is a decision, made here and in pyproject.toml together."""
    uv = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    assert uv["no-binary-package"] == [b.split()[0] for b in BUILT_FROM_SOURCE]
    import pyspark

    assert f"pyspark {pyspark.__version__}" in BUILT_FROM_SOURCE


def test_the_check_catches_an_sdist_only_dependency() -> None:
    """The same check on a copy of the lock where normality needs a package that ships only an sdist, two levels
    below the project as pyicu was; and on one where only a win32-marked edge needs it, which Linux never installs."""
    sdist_only = {
        "name": "needs-a-compiler",
        "version": "1.0",
        "source": {"registry": "https://pypi.org/simple"},
        "sdist": {"url": "https://example.invalid/needs_a_compiler-1.0.tar.gz"},
    }
    env, tags = _linux_x86_64_cp311()
    for marker, expected in [
        (None, ["needs-a-compiler 1.0", *BUILT_FROM_SOURCE]),
        ("sys_platform == 'win32'", BUILT_FROM_SOURCE),
    ]:
        lock = _lock()
        lock["package"].append(sdist_only)
        normality = next(p for p in lock["package"] if p["name"] == "normality")
        normality["dependencies"].append({"name": "needs-a-compiler", **({"marker": marker} if marker else {})})
        assert without_wheel(lock, env, tags) == expected


def test_uv_refuses_source_builds_and_drops_pyicu() -> None:
    """The README's commands themselves enforce it: the setting is in pyproject.toml, not only in .ci/run."""
    uv = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    assert uv["no-build"] is True
    assert "pyicu" in uv["exclude-dependencies"]
    assert _lock().get("manifest", {}).get("excludes") == ["pyicu"], "uv.lock is stale: run `uv lock`"


def test_the_icu_binding_stands_in_for_pyicu() -> None:
    """uv checks no version for an excluded requirement, so the floor normality asks of `pyicu` is checked here."""
    import icu

    assert importlib.metadata.packages_distributions()["icu"] == ["pyicu-wheels"]
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("pyicu")
    wants = [Requirement(r) for r in importlib.metadata.requires("normality") or []]
    floor = [r for r in wants if canonicalize_name(r.name) == "pyicu" and r.marker is None]
    assert floor, "normality no longer requires pyicu: the exclusion and pyicu-wheels may go"
    assert floor[0].specifier.contains(Version(icu.VERSION)), (icu.VERSION, str(floor[0].specifier))


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("ООО Тяжхимметалл", "OOO Tazhimmetall"),
        ("삼성전자", "samseongjeonja"),
        ("Ελληνικά Μεταλλεία", "Ellenika Metalleia"),
        ("ミツビシ", "mitsubishi"),
        ("中国五矿", "zhong guo wu kuang"),
        ("شركة", "shrkt"),
    ],
)
def test_every_script_transliterates_without_a_compiler(text: str, ascii: str) -> None:
    import normality
    from rigour.text.translit import ascii_text

    assert normality.ascii_text(text) == ascii
    assert ascii_text(text).isascii() and ascii_text(text)
