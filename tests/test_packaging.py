"""Packaging (issue 28): the licences (code MIT, data CC BY 4.0 in every data package),
`python -m planbook`, environment.yml against pyproject's dependencies, CITATION.cff."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

from planbook.store.schema import DATA_LICENSES

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_code_is_mit_licensed_in_the_repository_and_pyproject():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "CC BY 4.0" in text and "示例数据" in text
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


def test_the_stores_data_package_states_its_licence_and_the_sample_caveat():
    package = json.loads((ROOT / "data" / "observations" / "datapackage.json")
                         .read_text(encoding="utf-8"))
    assert package["licenses"] == DATA_LICENSES
    assert DATA_LICENSES[0]["name"] == "CC-BY-4.0"
    assert "sample" in package["description"] and "不是官方统计" in package["description"]


def test_a_reports_data_package_has_the_licence_and_csvs_with_a_bom(sample_build, tmp_path):
    from frictionless import validate

    archive = sample_build / "reports" / "2025" / "html" / "downloads" / "data-2025.zip"
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path)
        descriptor = json.loads(z.read("datapackage.json"))
        for resource in descriptor["resources"]:
            # UTF-8 with a BOM: Excel on a Chinese Windows shows the Chinese right
            assert z.read(resource["path"]).startswith(b"\xef\xbb\xbf"), resource["path"]
    assert descriptor["licenses"] == DATA_LICENSES
    report = validate(tmp_path / "datapackage.json")  # the BOM does not stand in its way
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_python_dash_m_planbook_runs_the_command_line():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PLANBOOK_ROOT": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "planbook", "--help"], capture_output=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert proc.stdout.decode("utf-8").startswith("用法：planbook")
    wrong = subprocess.run([sys.executable, "-m", "planbook", "no-such-command"],
                           capture_output=True, env=env, check=False)
    assert wrong.returncode == 2  # the CLI's own exit code for wrong usage comes through


# conda-forge's name for a PyPI package, where it differs
CONDA_NAMES = {"quarto": "quarto-cli"}


def _requirement(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", spec)
    name = m[1].lower().replace("_", "-")
    return CONDA_NAMES.get(name, name), m[2].replace(" ", "")


def test_environment_yml_lists_every_dependency_of_pyproject():
    project = PYPROJECT["project"]
    wanted = dict(_requirement(s) for s in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.update(_requirement(s) for s in extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for dep in env["dependencies"]:
        for spec in dep["pip"] if isinstance(dep, dict) else [dep]:
            name, bound = _requirement(spec)
            if name not in ("python", "pip"):
                assert name not in listed, f"{name} listed twice"
                listed[name] = bound
    assert listed == wanted  # same packages, same lower bounds


def test_citation_cff_is_valid_citation_metadata():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    # the keys CFF 1.2.0 requires, and the ones a reader of the report needs
    for key in ("message", "title", "authors", "version", "license", "type"):
        assert cff.get(key), key
    assert all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert cff["type"] in ("software", "dataset")
    assert str(cff["version"]) == PYPROJECT["project"]["version"]
    assert cff["license"] == PYPROJECT["project"]["license"]
