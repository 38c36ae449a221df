"""The pinned lock file and environment.yml must carry the same pins, and the pins must cover
every direct dependency in pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from scorecard_lib.core.paths import PROJECT_ROOT


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def _env_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.\-]+)==(\S+)$", line)
        if m:
            pins[m[1].lower()] = m[2]
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def test_lock_and_environment_agree() -> None:
    lock, env = _lock_pins(), _env_pins()
    assert lock, "requirements.lock has no pins"
    assert lock == env


def test_every_direct_dependency_is_pinned_at_the_declared_version() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"], *extras["test"], *extras["scale"]]
    lock = {_norm(k): v for k, v in _lock_pins().items()}
    for spec in declared:
        name, version = spec.split("==")
        assert lock.get(_norm(name)) == version, f"{name} is not pinned at {version}"
