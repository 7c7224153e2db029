"""The front page: a LICENSE, a valid CITATION.cff citing the paper and the package, --version,
and a README short enough to read."""

import re
from pathlib import Path

import yaml

from brian_effplast import cli
from brian_effplast.version import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_license_and_citation():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["version"] == __version__ and cff["license"] == "MIT"
    paper = cff["preferred-citation"]
    assert paper["title"] == "Learning efficient task-dependent representations with synaptic plasticity"
    assert [a["family-names"] for a in paper["authors"]] == ["Bredenberg", "Simoncelli", "Savin"]
    assert paper["year"] == 2020 and paper["url"].startswith("https://proceedings.neurips.cc/")


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"brian-effplast {__version__}"


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", text, flags=re.S)  # the words a reader reads, outside code and output
    assert len(prose.split()) <= 1000, len(prose.split())
    assert len(text.split()) <= 1600, len(text.split())
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)", text):  # every local link resolves
        assert (ROOT / target).exists(), target
