"""Compile once per structure, also when several processes start it at once."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.standalone

START = """
import sys
from brian_effplast import Config, PlasticCircuit
cfg = Config.default("estimation").replace(**{"circuit.N": 5, "circuit.N_s": 4})
model = PlasticCircuit(cfg, seed=int(sys.argv[1]), target="cpp_standalone")
model.run(2.0)
print(model.state["W"].sum())
"""


def compiled_files(cache):
    """``{slot: [the .cpp files its last make compiled]}``."""
    logs = Path(cache, "standalone").glob("*/make.log")
    return {log.parent.name: re.findall(r" -c .*?(\S+\.cpp) -o", log.read_text()) for log in logs}


def test_four_processes_starting_the_same_model_compile_it_once(tmp_path):
    """Four processes, four seeds, one structure: one compiles it, the others copy its
    project and compile nothing at all (the generated code does not depend on the
    seed, the state or the process)."""
    env = dict(os.environ, BRIAN_EFFPLAST_CACHE=str(tmp_path / "cache"))
    procs = [subprocess.Popen([sys.executable, "-c", START, str(seed)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in range(4)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    assert len({o[0] for o in outs}) == 4  # four different seeds: four different results
    compiled = sorted(compiled_files(tmp_path / "cache").values(), key=len)
    assert len(compiled) == 4 and compiled[:3] == [[], [], []] and len(compiled[3]) > 10, compiled


def test_another_duration_in_the_same_process_recompiles_only_main(tmp_path, monkeypatch):
    """Two runs of one model with different durations are two structures: the second
    starts from the first's compiled project (its family) and compiles only main.cpp,
    and its generated code names every object as a fresh process would (no ``_1``:
    the first project's objects are gone before the second is generated)."""
    from brian_effplast import Config, PlasticCircuit
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(tmp_path / "cache"))
    cfg = Config.default("estimation").replace(**{"circuit.N": 5, "circuit.N_s": 4})
    model = PlasticCircuit(cfg, seed=1, target="cpp_standalone")
    model.run(1.0)
    model.run(2.0)
    slots = sorted(Path(tmp_path, "cache", "standalone").glob("*-0"), key=lambda p: (p / "make.log").stat().st_mtime)
    assert len(slots) == 2 and slots[0].name.split("_")[0] == slots[1].name.split("_")[0]  # one family
    compiled = [compiled_files(tmp_path / "cache")[s.name] for s in slots]
    assert len(compiled[0]) > 10 and compiled[1] == ["main.cpp"], compiled
    sources = [sorted(p.name for p in (s / "code_objects").glob("*.cpp")) for s in slots]
    assert sources[0] == sources[1] and not any("_1." in name for name in sources[1])
