"""The paper's circuit assembled from the blocks, and how it runs.

::

    model             PlasticCircuit: R replicas of the circuit in one Network
    state             the state arrays of R replicas (NumPy)
    standalone        compiled cpp_standalone projects, compiled once and run many times
    brian2_internals  every non-public Brian2 name the package uses, each tested
    lifetime          child processes that never outlive the run that started them
"""

__all__ = []  # the modules are the API: import from them
