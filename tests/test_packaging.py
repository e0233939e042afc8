"""The package's metadata as setuptools reads it: the SPDX licence with its file, and no deprecation warning."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_licence_is_an_spdx_string_with_its_file_and_installs_without_warnings(monkeypatch):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "setuptools>=77" in project["build-system"]["requires"]  # where the SPDX form is understood
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence and "END OF TERMS" in licence

    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # `project.license` as a table warned on every install
        dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.metadata.license_expression == "Apache-2.0" and dist.metadata.license_files == ["LICENSE"]


def test_contributing_says_how_to_test_and_commit():
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for needed in ("make test", "make test-clock", "bench/", "VirtualClock", "create_app", "commit"):
        assert needed in guide, needed
