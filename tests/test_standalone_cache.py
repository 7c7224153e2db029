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


def test_a_structure_compiles_once_and_another_duration_only_main(tmp_path, monkeypatch):
    """Four processes, four seeds, one structure: one compiles it, the others copy its
    project and compile nothing at all (the generated code does not depend on the
    seed, the state or the process). Then, in this process, a run of that structure
    compiles nothing either, and a run of another duration (another structure of the
    same family) starts from a copy and compiles only main.cpp, its code naming every
    object as a fresh process would (no ``_1``: the first project's objects are gone
    before the second is generated)."""
    from brian_effplast import Config, PlasticCircuit
    cache = tmp_path / "cache"
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", START, str(seed)], env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in range(4)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    assert len({o[0] for o in outs}) == 4  # four different seeds: four different results
    compiled = compiled_files(cache)
    assert len(compiled) == 4 and sorted(map(len, compiled.values()))[:3] == [0, 0, 0], compiled
    full, = [slot for slot, files in compiled.items() if len(files) > 10]

    cfg = Config.default("estimation").replace(**{"circuit.N": 5, "circuit.N_s": 4})
    model = PlasticCircuit(cfg, seed=5, target="cpp_standalone")
    logs = lambda: {p.parent.name: p.stat().st_mtime_ns for p in cache.glob("standalone/*/make.log")}
    before = logs()
    model.run(2.0)  # the structure of the four processes
    used, = [slot for slot, stamp in logs().items() if stamp != before[slot]]
    assert compiled_files(cache)[used] == []
    # the order of the clocks in main.cpp is the same in every process only when every clock is ours
    from brian_effplast.circuit import standalone
    from brian_effplast.circuit.brian2_internals import OrderedClock
    assert {o.name for o in standalone._ACTIVE.network.sorted_objects if not isinstance(o.clock, OrderedClock)} == set()
    model.run(1.0)
    new, = set(compiled_files(cache)) - set(compiled)
    assert new.split("_")[0] == full.split("_")[0]  # one family
    assert compiled_files(cache)[new] == ["main.cpp"]
    slots = [cache / "standalone" / name for name in (full, new)]
    sources = [sorted(p.name for p in (s / "code_objects").glob("*.cpp")) for s in slots]
    assert sources[0] == sources[1] and not any("_1." in name for name in sources[1])
