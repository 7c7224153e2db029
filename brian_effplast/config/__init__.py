"""The configuration layer: one validated :class:`Config` from model files, the
command line and the Python API (no NumPy simulation, no Brian2).

::

    schema         sections, fields, defaults and names
    rules          one validation rule per field
    messages       error messages and reading model files
    configuration  Config: read, validate, override, serialise
    resources      memory and time estimates before anything is allocated
    modelfiles     the model files shipped with the package
"""

from .configuration import (MAX_FILE_BYTES, NONLINEARITIES, SECTIONS, SEED_MAX, STEP_TOLERANCE, TARGETS, TASKS,
                            CircuitParams, Config, ConfigError, InitParams, NonlinearityParams, PlasticityParams,
                            RunParams, StimulusParams, TestParams, check_resources, estimate_memory,
                            estimate_seconds)

__all__ = ["ConfigError", "Config", "CircuitParams", "NonlinearityParams", "StimulusParams", "PlasticityParams",
           "InitParams", "RunParams", "TestParams", "TASKS", "TARGETS", "NONLINEARITIES", "SECTIONS", "SEED_MAX",
           "STEP_TOLERANCE", "MAX_FILE_BYTES", "estimate_memory", "estimate_seconds", "check_resources"]
