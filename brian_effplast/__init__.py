"""brian-effplast: stochastic recurrent rate circuits that learn task-specific
codes with reward-gated Hebbian plasticity (Bredenberg, Simoncelli & Savin,
NeurIPS 2020), as Brian2 building blocks.

Importing the package, its configuration (:mod:`brian_effplast.config`),
tasks or analyses does not import Brian2; the Brian2 building blocks below
are imported on first use.
"""

import importlib

from .version import __version__
from .config import Config, ConfigError
from .blocks.nonlinearity import FICurve, Softplus, check_fi_curve
from .blocks.prior import preferred_angles
from .circuit.state import STATE_KEYS, initial_state
from .blocks.tasks import Task, Estimation, Classification, check_task

#: Names imported from their (Brian2) modules on first use.
_BRIAN2_NAMES = {
    "LangevinStimulus": "blocks.stimulus", "InputPopulation": "blocks.stimulus",
    "RecurrentPopulation": "blocks.population", "PoissonPopulation": "blocks.spiking",
    "TaskReadout": "blocks.readout", "ThreeFactorSynapses": "blocks.plasticity",
    "ReinforceSynapses": "blocks.plasticity", "NeuronRules": "blocks.plasticity", "Decoder": "blocks.plasticity",
    "paper_rate": "blocks.plasticity", "reward_operation": "blocks.rewards", "PlasticCircuit": "circuit.model",
}

__all__ = ["__version__", "Config", "ConfigError", "FICurve", "Softplus", "check_fi_curve", "preferred_angles",
           "STATE_KEYS", "initial_state", "Task", "Estimation", "Classification", "check_task",
           *_BRIAN2_NAMES]


def __getattr__(name):
    if name in _BRIAN2_NAMES:
        return getattr(importlib.import_module(f".{_BRIAN2_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_BRIAN2_NAMES))
