"""Running a :class:`~brian_effplast.circuit.model.PlasticCircuit` on ``numpy`` and ``cython``:
one Brian2 `Network`, built on first use and kept across runs, to which a user may add objects."""

import signal
import time

import brian2
from brian2 import Network

from ..blocks._groups import skip_group_calls
from ..errors import Interrupted

__all__ = ["RuntimeRunning"]


class RuntimeRunning:
    """The runtime targets' part of `PlasticCircuit` (a mixin: it uses the model's state and builders)."""

    @property
    def network(self):
        """The one Brian2 `Network` of this model (``numpy`` and ``cython``).

        Built on first use and kept for every :meth:`run`: add your own
        objects to it (or with :meth:`add`): monitors, inputs, groups,
        ``network_operation`` s. The model's objects are attributes
        (``population``, ``stimulus``, ``readout``, ``W_synapses``...). Its
        time continues across runs. Every :meth:`run` first writes ``state``
        and the parameters into the objects, so changes to ``state`` take
        effect.

        Raises ``RuntimeError`` for ``cpp_standalone`` (see :meth:`add`).
        """
        if self.target == "cpp_standalone":
            raise RuntimeError(self._STANDALONE_OBJECTS)
        if self._network is None:
            brian2.prefs.codegen.target = self.target
            self._net_steps = 0
            objs = self._build(0.0)
            skip_group_calls(objs.values())
            self._objects = objs
            self._network = Network(list(objs.values()), name="plastic_circuit*")
        return self._network

    def add(self, *objects):
        """Add Brian2 objects (monitors, groups, synapses, network operations...)
        to :attr:`network`; they run with the model in every later :meth:`run`.
        Runtime targets only: in ``cpp_standalone`` the model's own structure
        is compiled once into a cached binary whose code is generated from the
        model's objects alone (Brian2 generates a standalone project from one
        fixed set of objects, and a network operation, being Python, is never
        part of it), so objects of your own are refused there."""
        self.network.add(*objects)
        return objects[0] if len(objects) == 1 else objects

    _STANDALONE_OBJECTS = (
        "cpp_standalone: the model is compiled once per structure into a cached binary generated from its "
        "own objects only, and run with new state through run_args; a Brian2 object of your own cannot be "
        "added to it (it would have to be part of the compiled project, and a network_operation cannot run "
        "in standalone at all). Use target 'numpy' or 'cython' for your own objects, or record the model's "
        "variables with run(record=...)")

    def _run_runtime(self, steps, record, record_every, bin_steps, report, profile, t_on):
        net = self.network  # (built on first use, then kept)
        brian2.prefs.codegen.target = self.target
        self._bind(self._objects)
        self._set_learning(self._objects)
        self._set_values(self._values(t_on))
        brian2.seed(self._noise_seed())
        mons = self._monitors(record, record_every, bin_steps)
        net.add(*mons.values())
        start = time.perf_counter()
        t0 = float(net.t_)
        try:
            net.run(steps * self.dt * self.tau, report=report, namespace={}, profile=profile)
        finally:
            net.remove(*mons.values())
        done = int(round((float(net.t_) - t0) / float(self.dt * self.tau)))
        if done < steps:  # Brian2's Ctrl-C handler ends a run early; never keep a partial run
            self._network = None  # (its objects hold a partial step: built anew on the next run)
            self._bind(None)
            raise Interrupted(signal.SIGINT, f"the simulation stopped after {done} of {steps} steps")
        out = self._collect(mons, steps, bin_steps)
        out["loop_seconds"] = time.perf_counter() - start
        if profile:
            out["profile"] = [(name, float(t)) for name, t in net.profiling_info]
        self.state = self._get_state()
        self._net_steps += steps
        return out
