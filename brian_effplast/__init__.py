"""brian-effplast: stochastic recurrent rate circuits that learn task-specific
codes with reward-gated Hebbian plasticity (Bredenberg, Simoncelli & Savin,
NeurIPS 2020), as Brian2 building blocks.
"""

__version__ = "0.1.0"  # before the imports: model.py keys compiled projects on it

from .config import Config, ConfigError
from .nonlinearity import FICurve, Softplus, check_fi_curve
from .stimulus import LangevinStimulus, InputPopulation, preferred_angles
from .circuit import RecurrentPopulation
from .tasks import Task, Estimation, Classification, TaskReadout, check_task
from .plasticity import ThreeFactorSynapses, NeuronRules, Decoder
from .model import PlasticCircuit, initial_state, STATE_KEYS


__all__ = ["Config", "ConfigError", "FICurve", "Softplus", "check_fi_curve", "LangevinStimulus",
           "InputPopulation", "preferred_angles", "RecurrentPopulation", "Task", "Estimation",
           "Classification", "TaskReadout", "check_task", "ThreeFactorSynapses", "NeuronRules", "Decoder",
           "PlasticCircuit", "initial_state", "STATE_KEYS"]
