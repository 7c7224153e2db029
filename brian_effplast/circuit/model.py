"""The assembled model: ``R`` independent replicas of the paper's circuit in one `Network`.

:class:`PlasticCircuit` builds the stimulus, inputs, recurrent population,
task readout and the four plastic pathways from a :class:`~brian_effplast.config.Config`
(learning with Eq. 10 or, ``plasticity.rule = "reinforce"``, with REINFORCE),
runs them on the chosen code-generation target and keeps the whole model
state (the parameters, the low-pass averages or eligibility traces, rates and stimulus) as
NumPy arrays in ``PlasticCircuit.state``, so a model saved from one
target continues in any other.

Order inside one step (all objects in the ``groups`` slot, by ``order``;
see ``docs/model.md``)::

    0 stimulus (Langevin + wrap)      1 inputs s
    2 summed I_in = C s               3 population (Eq. 2) + clip, consumes I_rec
    4 summed readouts y = D r         5 target, reward alpha, delta_k, gate
    6 the neuron rules: r_bar, the b and D rules (one pass over the neurons;
      REINFORCE: also r_dev = f'(h)*(r - r_bar), which the synapses read)
    7 the synapse rules, in Brian2's order within a slot (by name): the C
      rule, the W rule (which also adds up I_rec = W r for the next step:
      W and r are final by then); they touch disjoint variables, so their
      order does not change the result

Nine code objects per step, whatever the task and ``R``. With spiking neurons
(``circuit.neuron = "poisson"``, :class:`~brian_effplast.blocks.spiking.PoissonPopulation`)
step 3 is the population's state update (the decay of its filtered spike
trains, the input ``h``), its threshold and its reset, at orders 3, 3 1/3 and
3 2/3: eleven code objects.

On ``numpy`` and ``cython`` the model keeps one `Network`
(:attr:`PlasticCircuit.network`) to which a user can add objects of their
own (:mod:`brian_effplast.circuit.runtime_run`); ``cpp_standalone`` compiles the model's
own structure once into a cached binary (:mod:`brian_effplast.circuit.standalone_run`,
:mod:`brian_effplast.circuit.standalone`).
"""

import numpy as np
from brian2 import StateMonitor, ms

from .brian2_internals import OrderedClock
from ..blocks.population import RecurrentPopulation
from ..config import Config, check_resources
from ..blocks.nonlinearity import check_fi_curve
from ..blocks.prior import sample_prior, sample_von_mises
from ..blocks._groups import attach
from ..blocks.plasticity import Decoder, NeuronRules, ReinforceSynapses, ThreeFactorSynapses, paper_rate
from ..blocks.readout import TaskReadout
from .runtime_run import RuntimeRunning
from .standalone_run import StandaloneRunning
from .state import check_state, held_input, initial_state, recurrent_input, reset_trial, shared_copies
from ..blocks.stimulus import InputPopulation, LangevinStimulus
from ..blocks.spiking import PoissonPopulation
from ..blocks.rewards import check_runtime, reward_operation
from ..blocks.tasks import check_task, get_task

__all__ = ["PlasticCircuit"]


ORDER = {"stimulus": 0, "inputs": 1, "currents": 2, "population": 3, "readouts": 4,
         "reward": 5, "neuron_rules": 6, "synapse_rules": 7}


class PlasticCircuit(RuntimeRunning, StandaloneRunning):
    """
    PlasticCircuit(config=None, *, task=None, replicas=None, seed=None, target=None, state=None, noise=None, fi_curve=None)

    ``replicas`` independent circuits (Eq. 2) learning a task with reward-gated
    plasticity, generated for ``numpy``, ``cython`` or ``cpp_standalone``.

    Parameters
    ----------
    config : `Config`, optional
        All parameters; default ``Config.default(task)``. Keyword arguments
        below override ``config.run``.
    task : str or `Task`, optional
        ``"estimation"`` (default), ``"classification"`` or a user's `Task`
        (then ``config.task`` only chooses the defaults).
    replicas : int, optional
        Independent circuits in one network (``config.run.replicas``).
    seed : int, optional
        Seeds the initial state and Brian2's noise. ``None`` draws one;
        the seed used is the attribute ``seed``.
    target : str, optional
        ``"numpy"``, ``"cython"`` or ``"cpp_standalone"``.
    state : dict, optional
        Initial arrays (any subset of :data:`STATE_KEYS`, shapes per
        replica first, e.g. ``W`` is ``(R, N, N)``); the rest is drawn.
    noise : dict, optional
        ``{"stimulus": (steps, R), "rates": (steps, R*N)}`` standard normals
        replacing Brian2's ``xi`` (for exact comparisons; either key alone
        is fine); the model can then run at most ``steps`` steps.
    fi_curve : `FICurve`, optional
        Default: the config's (``nonlinearity.kind``, see `Config.make_fi_curve`).
    t : float
        Time units already simulated (when continuing a saved model): the
        transient and the noise stream continue from there.
    reward : callable, optional
        The reward computed in Python instead of by the task's Brian2 code:
        ``reward(y, theta, t) -> (alpha, delta)`` with the readouts ``y``
        ``(R, n_out)``, the stimulus ``theta`` ``(R,)`` and the time ``t``
        (time units), returning the reward ``(R,)`` and the decoder errors
        ``(R, n_out)``. It may keep state of its own. Runs as a Brian2
        ``network_operation`` on ``numpy`` and ``cython``; refused on
        ``cpp_standalone`` (Brian2 cannot call Python from the compiled
        loop: write the reward as Brian2 code in a `Task` there).
    reward_every : int
        Call ``reward`` every this many steps (its values are held between).

    Attributes
    ----------
    state : dict of ndarray
        The whole model state, replica first (keys :data:`STATE_KEYS`):
        read back after every :meth:`run`.
    t : float
        Time units simulated so far.
    seed : int
        The seed used (drawn when ``seed=None``).
    plastic : bool
        Learning switch of the next :meth:`run` (default ``True``).
    config : `Config`
        The configuration, with ``run.seed``, ``run.target`` and
        ``run.replicas`` as used.
    task : `Task`
    fi_curve : `FICurve`
    target : str
    R, N, N_s, n_out : int
        Replicas, neurons, input units and readouts per replica.
    network : `Network`
        ``numpy`` and ``cython``: the one Brian2 network, kept across runs;
        add your own objects to it (:meth:`add`).
    stimulus, inputs, population, readout, W_synapses, C_synapses, neuron_rules, decoder
        The model's Brian2 objects (the public blocks of
        :mod:`brian_effplast.blocks.plasticity` and the groups).

    Notes
    -----
    Brian2's noise is seeded at the start of every :meth:`run` from
    ``(seed, step)``, so a simulation split into runs at the same points
    gives the same result whether it ran in one process or was saved and
    continued in another (same target).

    Examples
    --------
    >>> model = PlasticCircuit(task="estimation", seed=1, target="cpp_standalone")  # doctest: +SKIP
    >>> mse = -model.run(5000)["curve"]  # per time unit; learning after the transient  # doctest: +SKIP
    """

    def __init__(self, config=None, *, task=None, replicas=None, seed=None, target=None,
                 state=None, noise=None, fi_curve=None, t=0.0, reward=None, reward_every=1):
        if config is None:
            # a Task instance starts from the defaults it names (Task.config_defaults)
            config = Config.default(task if isinstance(task, str) else
                                    getattr(task, "config_defaults", None) or Config.task)
        if not isinstance(config, Config):
            raise TypeError(f"config = {config!r} is not allowed: must be a brian_effplast.Config")
        overrides = {k: v for k, v in (("run.replicas", replicas), ("run.seed", seed),
                                       ("run.target", target)) if v is not None}
        if isinstance(task, str):
            overrides["task"] = task
        config = config.replace(**overrides) if overrides else config
        if config.run.seed is None:
            config = config.replace(**{"run.seed": int(np.random.SeedSequence().entropy % 2**32)})
        check_resources(config)  # a model that cannot fit in memory is refused before allocating
        self.config = config
        self.task = config.make_task() if task is None or isinstance(task, str) else get_task(task)
        check_task(self.task)
        self.n_out = self.task.n_out
        self.fi_curve = fi_curve or config.make_fi_curve()
        check_fi_curve(self.fi_curve, config.circuit.r_min, config.circuit.r_max)
        if config.plasticity.rule == "reinforce" and self.fi_curve.fprime_expr is None:
            raise ValueError(f'plasticity.rule = "reinforce" needs the slope of the F-I curve: '
                             f"{type(self.fi_curve).__name__} has no fprime_expr (and fprime)")
        self.seed = config.run.seed
        self.target = config.run.target
        self.R = config.run.replicas
        self.N, self.N_s = config.circuit.N, config.circuit.N_s
        self.dt = config.circuit.dt
        self.tau = config.circuit.tau_ms * ms
        self.state = initial_state(config, self.R, self.seed)
        if self.n_out != config.n_out:  # a user's task with another number of outputs
            rng = np.random.default_rng([self.seed, 1])
            self.state["D"] = rng.uniform(-1, 1, (self.R, self.n_out, self.N)) * config.init.D_scale / self.N
        if state is not None:
            self.state.update(check_state(state, self.R, self.N, self.N_s, self.n_out, config.plasticity.rule))
            if "I_rec" not in state:  # a state from elsewhere: the input its W and r give
                self.state["I_rec"] = recurrent_input(self.state)
            if config.init.W_symmetric:  # the mode's promise holds only from a symmetric W
                W = self.state["W"]
                gap = np.abs(W - W.transpose(0, 2, 1)).max()
                if gap > 1e-12 * np.abs(W).max():
                    raise ValueError(f"state['W'] is not symmetric (max |W - W^T| = {gap:.3g}): "
                                     f"init.W_symmetric = true needs W[q] == W[q].T")
        self.noise = self._check_noise(noise)
        if config.circuit.neuron == "poisson":
            if self.fi_curve.f_expr is None:
                raise ValueError(f'circuit.neuron = "poisson" needs the F-I curve as a Brian2 expression: '
                                 f"{type(self.fi_curve).__name__} has no f_expr")
            if self.noise is not None and "rates" in self.noise:
                raise ValueError('noise["rates"] is not allowed with circuit.neuron = "poisson": the neurons draw '
                                 "their spikes with Brian2's rand(), there are no rate normals to supply")
        if not (np.isfinite(t) and t >= 0):
            raise ValueError(f"t = {t!r} is not allowed: must be a finite number of time units >= 0")
        self.t = float(t)  # time units simulated so far
        if reward is not None:
            if not callable(reward):
                raise TypeError(f"reward = {reward!r} is not allowed: must be a callable "
                                "reward(y, theta, t) -> (alpha, delta)")
            check_runtime(self.target, what=f"PlasticCircuit(reward={getattr(reward, '__name__', reward)!r})")
            if isinstance(reward_every, bool) or int(reward_every) != reward_every or reward_every < 1:
                raise ValueError(f"reward_every = {reward_every!r} is not allowed: must be an integer >= 1")
        self.reward, self.reward_every = reward, int(reward_every)
        self._bind(None)
        self._steps_run = 0  # steps run by this object (rows of external noise used)
        self._network = None  # runtime targets: the one Network, built on first use
        self._net_steps = 0  # steps that network has simulated
        self.plastic = True
        self._averages = True  # (of the current run: run(averages=...))
        self._shared = 1  # (of the current run: replicas sharing their weights, see _set_learning)

    # -- construction -------------------------------------------------------------

    def _check_noise(self, noise):
        if noise is None:
            return None
        shapes = {"stimulus": self.R, "rates": self.R * self.N}
        if not noise or set(noise) - set(shapes):
            raise ValueError(f"noise keys {sorted(noise)} are not allowed: use 'stimulus' and/or 'rates'")
        out = {k: np.ascontiguousarray(v, dtype=float) for k, v in noise.items()}
        for key, value in out.items():
            if value.ndim != 2 or value.shape[1] != shapes[key]:
                raise ValueError(f"noise[{key!r}] has shape {value.shape}: must be (steps, {shapes[key]})")
        lengths = sorted({len(v) for v in out.values()})
        if len(lengths) > 1:
            raise ValueError(f"noise arrays have different numbers of steps {lengths}: must be equal")
        return out

    def _build(self, t_on, steps=None):
        """Create the Brian2 objects (holding :attr:`state` on runtime targets); returns them by role.

        Every object has a fixed name: Brian2 names the arrays in generated
        code after their owners, so with ``name*`` a second model in one
        process would get ``population_1`` and other code, which Cython
        compiles anew and standalone cannot cache. ``steps`` is given for a
        standalone build only: it limits external noise to the rows of one
        run, and no value is set (every value comes with the run's run_args).
        """
        cfg, R, N, N_s = self.config, self.R, self.N, self.N_s
        clock = OrderedClock(dt=self.dt * self.tau, name="effplast_clock")
        # external noise: the rows from the current step on (a network starts at t = 0)
        start = self._steps_run
        stop = None if steps is None else start + steps
        noise = {k: v[start:stop] for k, v in (self.noise or {}).items()}
        pl = cfg.plasticity
        objs = {}
        objs["stimulus"] = stim = LangevinStimulus(
            R, cfg.stimulus.mu, cfg.stimulus.kappa, cfg.stimulus.sigma_s, self.tau, noise=noise.get("stimulus"),
            clock=clock, order=ORDER["stimulus"], name="stimulus")
        objs["inputs"] = inputs = InputPopulation(stim, N_s, clock=clock, order=ORDER["inputs"], name="inputs")
        if cfg.circuit.neuron == "poisson":  # spiking neurons; r is their filtered spike train
            objs["population"] = pop = PoissonPopulation(
                N, R, self.tau, cfg.circuit.rate_scale, cfg.circuit.tau_r * self.tau, self.fi_curve,
                cfg.circuit.r_init, clock=clock, order=ORDER["population"], name="population")
        else:
            objs["population"] = pop = RecurrentPopulation(
                N, R, self.tau, cfg.circuit.sigma, self.fi_curve, cfg.circuit.r_min, cfg.circuit.r_max,
                cfg.circuit.r_init, noise=noise.get("rates"), clock=clock,
                order=ORDER["population"], name="population")
        objs["readout"] = readout = TaskReadout(self.task, stim, code=self.reward is None, clock=clock,
                                                order=ORDER["reward"], name="readout")
        # the paper's circuit, assembled from the public blocks
        tau_bar, tau_e = pl.tau_bar * self.tau, pl.tau_e * self.tau
        links = dict(reward=(readout, "alpha"), reward_index="replica", gate=(readout, "learn"), clock=clock)
        if pl.rule == "reinforce":  # the synapses read r_dev = f'(h)*(r - r_bar), made by the neuron rules
            Plastic, post, syn = ReinforceSynapses, "r_dev", dict(tau_e=tau_e)
            neuron = dict(rule="reinforce", gain="fprime_h", tau_e=tau_e)
        else:
            Plastic, post, syn, neuron = ThreeFactorSynapses, "r", dict(tau_bar=tau_bar), {}
        objs["decoder"] = decoder = Decoder(pop, self.n_out, activity="r", index="replica", replicas=R,
                                            readout=readout, clock=clock, order=ORDER["readouts"],
                                            name="decoder")
        objs["neuron_rules"] = NeuronRules(
            pop, activity="r", tau_bar=tau_bar, bias="b", eta_bias=paper_rate(pl.eta_b, self.tau),
            lam_bias=cfg.lam("b"), decoder=decoder, delta=(readout, "delta"),
            eta_decoder=paper_rate(pl.eta_D, self.tau), lam_decoder=cfg.lam("D"), order=ORDER["neuron_rules"],
            name="neuron_rules", **neuron, **links)
        objs["W_synapses"] = W = Plastic(
            pop, pop, pre="r", post=post, weight="W", eta=paper_rate(pl.eta_W, self.tau), lam=cfg.lam("W"),
            current="I_rec", accumulate=True, order=ORDER["synapse_rules"], name="W_synapses",
            **syn, **links)
        W.connect_replicas(R)
        objs["C_synapses"] = C = Plastic(
            inputs, pop, pre="s", post=post, weight="C", eta=paper_rate(pl.eta_C, self.tau), lam=cfg.lam("C"),
            current="I_in", order=ORDER["synapse_rules"], name="C_synapses", **syn, **links)
        C.connect_replicas(R)
        if self.reward is not None:  # after the readouts, before the readout's own code (gate, alpha_acc)
            objs["python_reward"] = self._reward_operation(stim, decoder, readout, clock, "readout_python")
        for key, order in (("C_synapses", "currents"), ("decoder", "readouts")):
            for updater in objs[key].summed_updaters.values():
                updater.order = ORDER[order]
        self._bind(objs)
        # (standalone: set here, a value Brian2 writes as a constant, such as one replica's angle,
        # would change main.cpp with each state and recompile it)
        if steps is None:
            self._set_values(self._values(t_on))
        return objs

    def _reward_operation(self, stim, decoder, readout, clock, name):
        R, n_out, fn, tau = self.R, self.n_out, self.reward, float(self.tau)

        def compute(t, y, theta):
            out = fn(y.reshape(R, n_out), theta, t / tau)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(f"reward {fn!r} returned {type(out).__name__}: it must return (alpha, delta), "
                                f"arrays of shapes ({R},) and ({R}, {n_out})")
            alpha, delta = np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)
            if alpha.shape != (R,) or delta.shape != (R, n_out):
                raise ValueError(f"reward {fn!r} returned alpha {alpha.shape} and delta {delta.shape}: "
                                 f"expected ({R},) and ({R}, {n_out})")
            return {"alpha": alpha, **{f"delta_{k}": delta[:, k] for k in range(n_out)}}

        writes = {"alpha": (readout, "alpha"), **{f"delta_{k}": (readout, f"delta_{k}") for k in range(n_out)}}
        return reward_operation(compute, reads={"y": (decoder.outputs, "y"), "theta": (stim, "theta")},
                                writes=writes, every=self.reward_every, clock=clock, when="groups",
                                order=ORDER["reward"] - 0.5, name=name)

    _ROLES = ("stimulus", "inputs", "population", "readout", "W_synapses", "C_synapses", "neuron_rules", "decoder",
              "python_reward")

    def _bind(self, objs):
        """Name the Brian2 objects (standalone: of the current run, ``None`` between runs)."""
        self.__dict__["_bound"] = objs

    def __getattr__(self, name):
        # the model's Brian2 objects by role (stimulus, population, ...): on the runtime
        # targets the network is built on first use, so that a user can attach to them
        if name in type(self)._ROLES:
            if self.__dict__.get("_bound") is None and self.__dict__.get("target") in ("numpy", "cython"):
                self.network
            bound = self.__dict__.get("_bound")
            return None if bound is None else bound.get(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _values(self, t_on):
        """(group, variable, value) for the whole state and every run-time parameter."""
        st, cfg, pl = self.state, self.config, self.config.plasticity
        stim, pop, W, C = self.stimulus, self.population, self.W_synapses, self.C_synapses
        # synapse order: replica, presynaptic, postsynaptic (see replica_pairs)
        syn = lambda x: x.transpose(0, 2, 1).ravel()
        values = [(stim, "theta", st["theta"]), (pop, "r", st["r"].ravel()), (pop, "b", st["b"].ravel()),
                  (pop, "I_rec", st["I_rec"].ravel()),
                  (pop, "r_bar", st["r_bar"].ravel()), (W, "W", syn(st["W"])), (C, "C", syn(st["C"]))]
        if pl.rule == "reinforce":
            values += [(W, "W_e", syn(st["W_e"])), (C, "C_e", syn(st["C_e"])), (pop, "b_e", st["b_e"].ravel()),
                       (W, "tau_e_W", pl.tau_e * self.tau), (C, "tau_e_C", pl.tau_e * self.tau),
                       (pop, "tau_e_b", pl.tau_e * self.tau)]
        else:
            values += [(W, "W_bar", syn(st["W_bar"])), (C, "C_bar", syn(st["C_bar"])),
                       (W, "tau_bar_W", pl.tau_bar * self.tau), (C, "tau_bar_C", pl.tau_bar * self.tau)]
        values += [(pop, f"D_{k}", st["D"][:, k, :].ravel()) for k in range(self.n_out)]
        # learning from the first step at or after t_on: half a step early, so that round-off
        # in t = step*dt never moves the switch by a step
        on_step = self._net_steps + int(np.ceil(t_on / self.dt - 1e-9))
        values += [(self.readout, "plastic", int(self.plastic)),
                   (self.readout, "t_on", (on_step - 0.5) * self.dt * self.tau),
                   (self.readout, "alpha_acc", np.zeros(self.R)),
                   (stim, "mu", cfg.stimulus.mu), (stim, "kappa", cfg.stimulus.kappa),
                   (stim, "sigma_s", cfg.stimulus.sigma_s),
                   (W, "eta_W", paper_rate(pl.eta_W, self.tau)), (W, "lam_W", cfg.lam("W")),
                   (C, "eta_C", paper_rate(pl.eta_C, self.tau)), (C, "lam_C", cfg.lam("C")),
                   (pop, "eta_b", paper_rate(pl.eta_b, self.tau)), (pop, "lam_b", cfg.lam("b")),
                   (pop, "eta_D", paper_rate(pl.eta_D, self.tau)), (pop, "lam_D", cfg.lam("D")),
                   (pop, "tau_bar_r", pl.tau_bar * self.tau)]
        if cfg.circuit.neuron == "poisson":
            values += [(pop, "rate_scale", cfg.circuit.rate_scale), (pop, "tau_r", cfg.circuit.tau_r * self.tau)]
        else:
            values.append((pop, "sigma", cfg.circuit.sigma))
        if self._held():
            values.append((pop, "I_in", held_input(st, self.N_s).ravel()))
        return values

    def _set_learning(self, objs):
        """Run the rules' updates only with learning on (:attr:`plastic`): off, the weights,
        biases and decoder are not updated at all; the averages go on as with the gate at 0,
        unless the run leaves them out (``run(averages=False)``). In such a run of the dynamics
        alone, replicas with the same weights (a network's test copies) share them in ``I_rec``
        (:attr:`~brian_effplast.blocks.dense.SynapseRule.shared`), and with the stimulus held
        too (:meth:`_held`) the inputs and ``I_in = C s`` are left out (the stimulus still steps:
        it draws its normals from the stream the rates draw from)."""
        for key in ("neuron_rules", "W_synapses", "C_synapses"):
            objs[key].set_learning(self.plastic, averages=self._averages)
        held = self._held()
        objs["inputs"].rates.active = not held
        for updater in objs["C_synapses"].summed_updaters.values():
            updater.active = not held
        current = objs["W_synapses"].rule_current
        if current is not None:
            current.shared = self._shared

    def _held(self):
        """Whether this run is the dynamics alone (``run(plastic=False, averages=False)``) with the
        stimulus held (``stimulus.sigma_s = 0``): then the inputs ``s`` and ``I_in = C s`` stay as
        they are for the whole run, and ``I_in`` is computed once, before it (:func:`held_input`),
        rather than at every step (to rounding the same: ``C s`` is summed in another order)."""
        return not self.plastic and not self._averages and self.config.stimulus.sigma_s == 0

    @staticmethod
    def _set_values(values):
        for group, var, value in values:
            setattr(group, var, value)

    def _get_state(self):
        R, N, N_s = self.R, self.N, self.N_s
        syn = lambda obj, name, n_pre: np.asarray(getattr(obj, name)[:]).reshape(R, n_pre, N).transpose(0, 2, 1)
        neuron = lambda name: np.asarray(getattr(self.population, name)[:]).reshape(R, N)
        state = {
            "theta": np.asarray(self.stimulus.theta[:]).copy(),
            "r": neuron("r").copy(), "b": neuron("b").copy(), "r_bar": neuron("r_bar").copy(),
            "I_rec": neuron("I_rec").copy(),
            "W": syn(self.W_synapses, "W", N).copy(), "C": syn(self.C_synapses, "C", N_s).copy(),
            "D": np.stack([neuron(f"D_{k}") for k in range(self.n_out)], axis=1).copy(),
        }
        if self.config.plasticity.rule == "reinforce":
            state.update(W_e=syn(self.W_synapses, "W_e", N).copy(), C_e=syn(self.C_synapses, "C_e", N_s).copy(),
                         b_e=neuron("b_e").copy())
        else:
            state.update(W_bar=syn(self.W_synapses, "W_bar", N).copy(),
                         C_bar=syn(self.C_synapses, "C_bar", N_s).copy())
        return state

    # -- running --------------------------------------------------------------------

    def run(self, duration, plastic=None, record=(), record_every=1, curve_bin=None, report=None,
            profile=False, averages=True):
        """Simulate ``duration`` time units and update ``state``.

        Parameters
        ----------
        duration : float or `Quantity`
            Time units of ``tau`` (a whole number of steps), or a Brian2
            quantity of time (``0.05*second`` is 5 time units at tau = 10 ms).
        plastic : bool, optional
            Learning on or off for this run (default: the attribute ``plastic``).
            Learning is also held off until ``t`` reaches ``config.run.transient``
            or, with trials (``config.run.trial > 0``), for the first
            ``transient`` time units of every trial; a trial starts by
            resetting the rates to ``r_init`` and the low-pass averages to 0.
        record : sequence of str
            Any of ``"theta"``, ``"r"``, ``"y"``, ``"alpha"``; recorded every
            ``record_every`` steps (after each step).
        curve_bin : float, optional
            Time units per learning-curve point (default ``config.run.curve_bin``).
        report : str, optional
            Brian2's progress report (``"text"``, ``"stdout"``...); runtime
            targets only (a standalone run's output is not shown; the command
            line reports progress between checkpoints instead).
        profile : bool
            Also return Brian2's profile: ``out["profile"] = [(code object, seconds)]``.
        averages : bool
            With learning off, step the low-pass averages (REINFORCE: the eligibility
            traces) as usual (``True``), or leave them out (``False``): the run then computes
            the dynamics alone and the averages keep their values. Nothing else reads them
            with learning off, so the rates, outputs and rewards are the same either way
            (the test protocols run their copies so); ``False`` needs ``plastic=False``.

        Returns
        -------
        dict
            ``"curve"``: mean reward per bin, shape ``(R, bins)``; the recorded
            traces (time first, then replica); ``"loop_seconds"``: time in
            the simulation loop.
        """
        steps = self.config.steps(duration, name="duration", source="PlasticCircuit.run()")
        if steps < 1:
            raise ValueError(f"duration = {duration!r} is not allowed: must be at least one step ({self.dt})")
        curve_bin = self.config.run.curve_bin if curve_bin is None else curve_bin
        bin_steps = self.config.steps(curve_bin, name="curve_bin", source="PlasticCircuit.run()")
        rows = min((len(v) for v in (self.noise or {}).values()), default=None)
        if rows is not None and self._steps_run + steps > rows:
            raise ValueError(f"duration = {duration!r} needs {self._steps_run + steps} noise rows "
                             f"in total, the supplied noise has {rows}")
        if plastic is not None:
            self.plastic = bool(plastic)
        if self.plastic and not averages:
            raise ValueError("averages = False is not allowed with learning on: the rules read the averages "
                             "(run(..., plastic=False, averages=False))")
        self._averages = bool(averages)
        # (the dynamics alone: a network's test copies read one copy of their weights)
        self._shared = shared_copies(self.state["W"]) if not self._averages else 1
        unknown = set(record) - {"theta", "r", "y", "alpha"}
        if unknown:
            raise ValueError(f"record = {sorted(unknown)} is not allowed: choose from theta, r, y, alpha")
        trial_steps = self.config.steps(self.config.run.trial, name="run.trial")
        if trial_steps % bin_steps:
            raise ValueError(f"curve_bin = {curve_bin!r} is not allowed: run.trial = {self.config.run.trial!r} "
                             f"must be a whole number of bins")
        segments = []  # one per trial (or part of one): a reset may only happen between Brian2 runs
        while steps:
            into_trial = self._steps_done() % trial_steps if trial_steps else self._steps_done()
            if trial_steps and into_trial == 0:
                self._start_trial()
            n = min(steps, trial_steps - into_trial) if trial_steps else steps
            segments.append(self._run_segment(n, record, record_every, bin_steps, report, profile, into_trial))
            steps -= n
        out = segments[0]
        if len(segments) > 1:
            out = {k: np.concatenate([seg[k] for seg in segments], axis=1 if k == "curve" else 0)
                   for k in segments[0] if k not in ("loop_seconds", "profile")}
            out["loop_seconds"] = sum(seg["loop_seconds"] for seg in segments)
            if profile:
                total = {}
                for seg in segments:
                    for name, sec in seg["profile"]:
                        total[name] = total.get(name, 0.0) + sec
                out["profile"] = list(total.items())
        return out

    def _start_trial(self):
        """The authors' trial start: rates back to ``r_init``, low-pass averages (and REINFORCE's
        eligibility traces) to 0 and, with
        ``run.trial_angle = "prior"``, a new stimulus angle from the stationary law (von Mises of
        concentration ``2 kappa``), with ``"authors"`` from von Mises(``mu``, ``kappa``) as the
        authors' code draws it (drawn from ``(seed, step)``: the same at any target and however the
        run is cut into chunks)."""
        st, cfg = self.state, self.config
        reset_trial(st, cfg.circuit.r_init, cfg.plasticity.rule)
        if cfg.run.trial_angle in ("prior", "authors"):
            rng = np.random.default_rng([self.seed, self._steps_done(), 1])
            draw = sample_prior if cfg.run.trial_angle == "prior" else sample_von_mises
            st["theta"] = draw(rng, len(st["theta"]), cfg.stimulus.mu, cfg.stimulus.kappa)

    def _run_segment(self, steps, record, record_every, bin_steps, report, profile, into_trial):
        # learning starts run.transient time units into the run (online) or into each trial
        t_on = max(0.0, self.config.run.transient - into_trial * self.dt)
        if self.target == "cpp_standalone":
            out = self._run_standalone(steps, record, record_every, bin_steps, report, profile, t_on)
        else:
            out = self._run_runtime(steps, record, record_every, bin_steps, report, profile, t_on)
        self.t += steps * self.dt
        self._steps_run += steps
        for key in ("W", "C", "b", "D", "r"):
            if not np.all(np.isfinite(self.state[key])):
                raise FloatingPointError(f"the run diverged: {key} is not finite after t = {self.t} time units")
        return out

    def _steps_done(self):
        return int(round(self.t / self.dt))

    def _noise_seed(self):
        """Seed of Brian2's generator for the run starting now: from (seed, step)."""
        return int(np.random.SeedSequence([self.seed, self._steps_done()]).generate_state(1)[0] >> 1)

    def _every(self, steps):
        """(clock steps, stride) of a monitor sampling every ``steps`` steps from the
        current step on: a clock of ``steps`` steps when the network's time is a
        multiple of it (its samples are then where a fresh network's would be),
        else every step, subsampled."""
        return (steps, 1) if self._net_steps % steps == 0 else (1, steps)

    def _monitors(self, record, record_every, bin_steps):
        dt = self.dt * self.tau
        # cumulative reward at the start of each bin; the final sum is read after the run
        every, stride = self._every(bin_steps)
        # (each monitor's clock is named too: Brian2 would name it "<monitor>_clock*")
        clock = lambda every, name: OrderedClock(dt=every * dt, name=f"{name}_clock")
        mons = {"curve": StateMonitor(self.readout, "alpha_acc", record=True, clock=clock(every, "curve_monitor"),
                                      when="start", name="curve_monitor")}
        attach(mons["curve"], stride=stride)
        where = {"theta": self.stimulus, "r": self.population, "alpha": self.readout}
        every, stride = self._every(record_every)
        for var in record:
            if var == "y":
                mons["y"] = StateMonitor(self.readout, [f"y_{k}" for k in range(self.n_out)], record=True,
                                         clock=clock(every, "y_monitor"), when="end", name="y_monitor")
            else:
                mons[var] = StateMonitor(where[var], var, record=True, clock=clock(every, f"{var}_monitor"),
                                         when="end", name=f"{var}_monitor")
            attach(mons[var], stride=stride)
        return mons

    def _collect(self, mons, steps, bin_steps):
        out = {}
        stride = lambda mon: getattr(mon, "stride", 1)
        acc = np.asarray(mons["curve"].alpha_acc)[:, ::stride(mons["curve"])]  # (R, bins): sums before each bin
        final = np.asarray(self.readout.alpha_acc[:])[:, None]
        n_bins = steps // bin_steps
        full = np.concatenate([acc[:, :n_bins], final], axis=1) if steps % bin_steps == 0 else acc[:, :n_bins + 1]
        out["curve"] = np.diff(full, axis=1) / bin_steps
        for var, mon in mons.items():
            if var == "curve":
                continue
            # (every step, subsampled: sample k is the state after step k*stride + stride - 1)
            pick = slice(stride(mon) - 1, None, stride(mon))
            if var == "y":
                out["y"] = np.stack([np.asarray(getattr(mon, f"y_{k}")).T[pick] for k in range(self.n_out)], axis=-1)
            elif var == "r":
                out["r"] = np.asarray(mon.r).T[pick].reshape(-1, self.R, self.N)
            else:
                out[var] = np.asarray(getattr(mon, var)).T[pick]
        return out
