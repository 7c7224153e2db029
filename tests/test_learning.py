"""Learning happens on the compiled targets, standalone included (reference parameters).

The stimulus path is supplied (the same standard normals on every target)
so that every target learns on the same stimuli; the rates' noise is
Brian2's own (``xi``), seeded by ``seed``. The numpy target is left out:
it computes the same step (tests/test_oracle_match.py checks every target
step for step against the NumPy reference), and these trainings take it
6 minutes (8 minutes of CPU for both) where cython takes seconds.
"""

import numpy as np
import pytest

from brian_effplast import Config, PlasticCircuit

pytestmark = pytest.mark.slow  # trainings long enough to learn, each target compiled
TARGETS = ["cython", "cpp_standalone"]

SEED = 0
TRANSIENT = 40  # time units


def stimulus_noise(duration, seed=1000):
    return {"stimulus": np.random.default_rng(seed).standard_normal((int(round(duration / 0.01)), 1))}


@pytest.mark.parametrize("target", TARGETS)
def test_estimation_learns(target):
    # mean MSE of the last 1000 time units <= 70% of the first 500 after the transient
    duration = 5000.0
    model = PlasticCircuit(Config.default("estimation"), seed=SEED, target=target,
                           noise=stimulus_noise(duration))
    mse = -model.run(duration)["curve"][0]  # one point per time unit
    first, last = mse[TRANSIENT:TRANSIENT + 500].mean(), mse[-1000:].mean()
    assert last <= 0.7 * first, (first, last)


@pytest.mark.parametrize("target", TARGETS)
def test_classification_learns(target):
    # mean log-likelihood of the last 1000 time units at least 0.05 nats above the first 1000
    duration = 3000.0
    model = PlasticCircuit(Config.default("classification"), seed=SEED, target=target,
                           noise=stimulus_noise(duration))
    ll = model.run(duration)["curve"][0]
    first, last = ll[TRANSIENT:TRANSIENT + 1000].mean(), ll[-1000:].mean()
    assert last >= first + 0.05, (first, last)
