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


def compiled_slots(cache):
    """Slots whose make.log shows code objects compiled. (``main.cpp`` holds the
    initial values Brian2 writes as constants, so it may compile again for another
    seed: seconds, against the minute of the code objects.)"""
    logs = sorted(Path(cache, "standalone").glob("*/make.log"))
    return [log.parent for log in logs if re.search(r" -c .*code_objects/\S+\.cpp -o", log.read_text())], logs


def test_four_processes_starting_the_same_model_compile_it_once(tmp_path):
    env = dict(os.environ, BRIAN_EFFPLAST_CACHE=str(tmp_path / "cache"))
    procs = [subprocess.Popen([sys.executable, "-c", START, str(seed)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in range(4)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    assert len({o[0] for o in outs}) == 4  # four different seeds: four different results
    compiled, logs = compiled_slots(tmp_path / "cache")
    assert len(logs) == 4 and len(compiled) == 1, [log.read_text()[-300:] for log in logs]
