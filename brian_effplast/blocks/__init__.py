"""The Brian2 building blocks a user composes with their own groups.

::

    stimulus     LangevinStimulus (the drifting angle) and InputPopulation (Eq. 1)
    population   RecurrentPopulation: the rate neurons of Eq. 2
    spiking      PoissonPopulation: the same circuit with Poisson spiking neurons
    readout      TaskReadout: a task's code run every step (output, target, reward)
    plasticity   ThreeFactorSynapses, ReinforceSynapses, NeuronRules, Decoder (Eq. 10)
    rewards      reward_operation: a reward computed in Python (runtime targets)
    tasks        Task, Estimation, Classification (NumPy and Brian2 code strings)
    nonlinearity F-I curves (the paper's f)
    prior        the stimulus prior and angles (NumPy)

Nothing is imported here, so that ``tasks``, ``nonlinearity`` and ``prior``
(NumPy only) can be imported without Brian2; the package's top level
re-exports the public names.
"""

__all__ = []  # the modules are the API: import from them
