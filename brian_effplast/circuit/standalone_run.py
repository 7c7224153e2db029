"""Running a :class:`~brian_effplast.circuit.model.PlasticCircuit` on ``cpp_standalone``: the
model's structure compiled once into a cached project (:mod:`.standalone`), each run's state
and parameters given as ``run_args``."""

import brian2
import numpy as np
from brian2 import NeuronGroup

from ..blocks._groups import drop_idle_state_updater
from ..version import __version__
from .standalone import StandaloneProject, active_project

__all__ = ["StandaloneRunning"]


class StandaloneRunning:
    """The ``cpp_standalone`` part of `PlasticCircuit` (a mixin: it uses the model's state and builders)."""

    def _structure(self, steps, record, record_every, bin_steps):
        """Everything compiled into a standalone binary (not varied by run_args)."""
        cfg = self.config
        return ("brian-effplast", __version__, brian2.__version__, cfg.plasticity.rule, self.R, self.N, self.N_s,
                repr(self.task), sorted(self.task.namespace.items()), self.task.code, self.fi_curve.finv_expr,
                self.fi_curve.fprime_expr,
                sorted(self.fi_curve.namespace.items()), self.dt, float(self.tau),
                cfg.circuit.r_min, cfg.circuit.r_max, steps, tuple(sorted(record)), record_every, bin_steps,
                tuple(sorted(self.noise or {}))) + (
                # (only for spiking neurons: the rate model's cached projects keep their key)
                ("poisson", self.fi_curve.f_expr) if cfg.circuit.neuron == "poisson" else ()) + (
                # a learning-off run has a project of its own, without the updates (set_learning),
                # and one without the averages too
                () if self.plastic else ("learning off",)) + (() if self._averages else ("no averages",)) + (
                # the dynamics alone with the stimulus held, and copies that share their weights
                ("held",) if self._held() else ()) + (() if self._shared == 1 else (("shared", self._shared),))

    def _run_standalone(self, steps, record, record_every, bin_steps, report, profile, t_on):
        key = self._structure(steps, record, record_every, bin_steps) + (profile,)
        family = self._structure(None, record, record_every, bin_steps) + (profile,)

        def build():
            objs = self._build(0.0, steps=steps)
            self._set_learning(objs)  # (before the build: the generated loop holds the active objects only)
            objs.update({"monitor_" + k: m for k, m in
                         self._monitors(record, record_every, bin_steps).items()})
            # (on the model's clock: with one of Brian2's clocks in the network, main.cpp's order of
            # clocks would change from one process to the next, see OrderedClock)
            objs["seed"] = seed = NeuronGroup(1, "noise_seed : integer (shared, constant)", name="noise_seed",
                                              clock=objs["stimulus"].clock)
            drop_idle_state_updater(seed)
            return objs, steps * self.dt * self.tau, seed.noise_seed

        project = active_project(key) or StandaloneProject(key, build, profile=profile, family=family)
        objs = project.objects
        self._bind(objs)
        # (Brian2 hashes run_args arrays: they must be contiguous)
        run_args = {getattr(group, var): np.ascontiguousarray(value) if np.ndim(value) else value
                    for group, var, value in self._values(t_on)}
        run_args[objs["seed"].noise_seed] = self._noise_seed()
        start = self._steps_run
        for key_, group, ns in (("stimulus", objs["stimulus"], "z_stim"), ("rates", objs["population"], "z_rate")):
            if self.noise is not None and key_ in self.noise:
                run_args[group.namespace[ns]] = self.noise[key_][start:start + steps]
        loop_seconds, profile_info = project.run(run_args)
        mons = {k[len("monitor_"):]: m for k, m in objs.items() if k.startswith("monitor_")}
        out = self._collect(mons, steps, bin_steps)
        out["loop_seconds"] = loop_seconds
        if profile:
            out["profile"] = [(name, float(t)) for name, t in profile_info]
        self.state = self._get_state()
        self._bind(None)
        return out
