"""Brian2's ``log1p`` against :func:`brian_effplast.blocks.nonlinearity.log1p_function` on the numpy target.

The circuit's ``f^-1`` (Softplus) calls ``log1p`` once per step. On the numpy
target Brian2's own ``log1p`` goes through a unit-checking wrapper that formats
its whole result array into a message on every call; ``fi_log1p`` calls
``numpy.log1p`` directly. Both versions of the same population (the package's
F-I inverse, 2 x 40 neurons) run the same steps here, alternately, in one
process, so the ratio is not disturbed by other load::

    python benchmarks/numpy_log1p.py
"""
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
from brian2 import NeuronGroup, Network, defaultclock, ms, prefs  # noqa: E402
from brian_effplast.blocks.nonlinearity import Softplus, log1p_function  # noqa: E402

prefs.codegen.target = "numpy"
curve = Softplus()
exprs = {"Brian2 log1p": curve.finv_expr.replace("fi_log1p", "log1p"), "fi_log1p": curve.finv_expr}
nets = {}
for name, expr in exprs.items():
    G = NeuronGroup(80, f"dr/dt = (-({expr}) + 0.1)/(10*ms) : 1", method="euler",
                    namespace=dict(curve.namespace, fi_log1p=log1p_function()))
    G.r = np.linspace(0.05, 2.0, 80)
    nets[name] = Network(G)
    nets[name].run(1 * ms)  # code generation outside the timing
times = {name: [] for name in nets}
for _ in range(3):
    for name, net in nets.items():
        t0 = time.perf_counter()
        net.run(2000 * defaultclock.dt)
        times[name].append((time.perf_counter() - t0) / 2000 * 1e6)
best = {name: min(t) for name, t in times.items()}
for name, us in best.items():
    print(f"{name:>14}: {us:7.1f} us per step")
print(f"Brian2 log1p / fi_log1p: {best['Brian2 log1p'] / best['fi_log1p']:.1f}x")
