"""The test protocols: plasticity off, the stimulus held (``sigma_s = 0``).

``test.protocol = "held"`` (:func:`held_stimulus_test`): every replica is
presented each of ``K`` test angles
(:func:`~brian_effplast.blocks.prior.test_angles`) for ``hold`` time units in
``test.trials`` independent copies per angle that start from the model's
state (``test.start = "current"``) or from a training trial's reset
(``"reset"``); the first :data:`SETTLE` time units are dropped.

``test.protocol = "authors"`` (:func:`authors_test`): the authors' test.
``test.trials`` trials (100) of :data:`AUTHORS_STIMULI` stimuli of
``hold`` time units each (200), every trial from the trial reset (rates
``circuit.r_init``, low-pass averages 0), each stimulus drawn uniformly,
with replacement, from the ``N_s`` input angles, a stimulus after the first
starting from the state the previous one left; nothing dropped.

Rates and outputs are recorded every ``test.record_every`` steps. The copies
run the dynamics alone (``PlasticCircuit.run(plastic=False, averages=False)``):
with learning off the low-pass averages feed back into nothing, so leaving them
out changes no sample and saves their work every step.
:func:`run_test` runs the configured protocol on a run directory (and writes
``test.npz`` and the plots), :func:`scores` sums it up as the task scores it.
"""

import sys
from pathlib import Path

import numpy as np

from ..config import ConfigError
from ..errors import RunError
from ..blocks.prior import prior_weights, stationary_kappa, test_angles
from .rundir import FILES, read_run, write_figure, write_npz, writing
from ..circuit.state import reset_trial, saved_keys
from ..blocks.tasks import get_task
from .training import model_from

__all__ = ["held_stimulus_test", "authors_test", "authors_draws", "test_model", "run_test", "scores",
           "per_angle_error", "describe_protocol", "SETTLE", "AUTHORS_PROTOCOL", "AUTHORS_STIMULI", "AUTHORS_SEED"]

#: Time units dropped at the start of each test angle (the circuit settles).
SETTLE = 10.0

#: The authors' test protocol as the ``[test]`` keys of a configuration
#: (``cfg.replace(test=AUTHORS_PROTOCOL)``) or keyword arguments of :func:`run_test`: 100 trials of
#: 5 stimuli of 200 time units, sampled every 200 steps.
AUTHORS_PROTOCOL = {"protocol": "authors", "hold": 200.0, "trials": 100, "record_every": 200}
#: Stimuli per trial of the authors' protocol.
AUTHORS_STIMULI = 5
#: Seed of the authors' protocol's draws of the stimuli (:func:`authors_draws`): fixed, so that every
#: network, stage and experiment is tested on the same sequence, with the same samples per angle.
AUTHORS_SEED = 2020


def describe_protocol(angles, hold, trials=1, start="current", r_init=0.1, protocol="held"):
    """One line naming a test protocol, as ``test.npz`` records it (``protocol``).

    Examples
    --------
    >>> from brian_effplast.runs.protocol import describe_protocol
    >>> describe_protocol(12, 200.0)
    "12 angles x 200 time units, from the model's state"
    >>> describe_protocol(12, 200.0, 100, protocol="authors")
    "the authors' protocol: 100 trials of 1000 time units, 5 stimuli of 200 from the 12 input angles, from r = 0.1"
    """
    if protocol == "authors":
        return (f"the authors' protocol: {int(trials)} trials of {AUTHORS_STIMULI * float(hold):g} time units, "
                f"{AUTHORS_STIMULI} stimuli of {float(hold):g} from the {int(angles)} input angles, "
                f"from r = {float(r_init):g}")
    text = f"{int(angles)} angles x {float(hold):g} time units"
    if trials != 1:
        text += f" x {int(trials)} trials"
    return text + (f", from r = {float(r_init):g} (trial reset)" if start == "reset" else ", from the model's state")


def _describe(cfg):
    t = cfg.test
    return describe_protocol(t.angles, t.hold, t.n_trials, t.start, cfg.circuit.r_init, t.protocol)


def _samples(cfg, hold):
    """Steps of a held stimulus, sample times and which samples are kept (after SETTLE)."""
    every = cfg.test.every
    n_hold = cfg.steps(hold, "test.hold")
    # sample i is recorded at the end of step i*every: the state at (i*every + 1)*dt
    times = (np.arange(-(-n_hold // every)) * every + 1) * cfg.circuit.dt
    keep = times > SETTLE + 1e-9
    if keep.sum() < 2:
        raise ConfigError(f"arguments: test.hold = {hold!r} is not allowed: must leave at least 2 "
                          f"samples (every test.record_every = {every} steps) after the first {SETTLE:g} "
                          f"time units (settling)")
    return n_hold, times, keep


def held_stimulus_test(model, angles=None, hold=None, target=None, trials=None, start=None):
    """The test protocol on a model in memory (:class:`~brian_effplast.circuit.model.PlasticCircuit`).

    Every replica is presented each of ``angles`` test angles (at
    ``-pi + 2 pi k / K``) for ``hold`` time units, with plasticity off and the
    stimulus held (``sigma_s = 0``), in ``trials`` independent copies per
    angle; rates and outputs are recorded every ``config.test.record_every``
    steps (:attr:`TestParams.every <brian_effplast.config.schema.TestParams.every>`) and the first :data:`SETTLE` time units dropped. All
    ``R * K * trials`` (replica, angle, trial) copies run in parallel, each
    with its own noise; ``model`` itself is not changed.

    Parameters
    ----------
    model : PlasticCircuit
        The model to test, at its current state.
    angles, hold, trials, start : optional
        Override ``config.test.angles``, ``.hold``, ``.trials`` and ``.start``:
        ``start = "current"`` runs every copy from the model's state,
        ``"reset"`` from the training trial's reset (rates ``circuit.r_init``,
        low-pass averages 0; :func:`~brian_effplast.circuit.state.reset_trial`).
        ``**AUTHORS_PROTOCOL`` gives the authors' protocol.
    target : str, optional
        Brian2 target of the test (default: the model's).

    Returns
    -------
    dict
        The test data, the layout of ``test.npz`` and of
        :mod:`brian_effplast.analysis`: ``angles (K,)``, ``rates (R, K, S, N)``,
        ``outputs (R, K, S, n_out)`` (with ``trials > 1`` the trials' samples
        one after the other along ``S``: trial ``j`` is ``S/trials`` samples
        from ``j*S/trials``), ``W, C, b, D``, the prior, the settings
        (``hold``, ``trials``, ``start``, ``settle``, ``sample_dt``) and
        ``protocol`` (:func:`describe_protocol`).
    """
    from ..circuit.model import PlasticCircuit
    cfg = model.config
    K = cfg.test.angles if angles is None else angles
    hold = cfg.test.hold if hold is None else hold
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"angles = {K!r} is not allowed: must be an integer >= 1")
    K = int(K)
    chosen = {f"test.{k}": v for k, v in (("trials", trials), ("start", start)) if v is not None}
    # validated as the model file's keys are
    cfg = cfg.override({"test.protocol": "held", **chosen}, source="held_stimulus_test()")
    T, start = cfg.test.n_trials, cfg.test.start
    dt, R, every = cfg.circuit.dt, model.R, cfg.test.every
    n_hold, times, keep = _samples(cfg, hold)
    theta = test_angles(K)
    rule = cfg.plasticity.rule
    # copy (replica r, angle k, trial j) is r*K*T + k*T + j
    state = {k: np.repeat(np.asarray(model.state[k]), K * T, axis=0) for k in saved_keys(rule)}
    state["theta"] = np.tile(np.repeat(theta, T), R)
    if start == "reset":
        reset_trial(state, cfg.circuit.r_init, rule)
    # no trial resets during the test: a copy runs on from where it starts
    tcfg = cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * K * T, "run.trial": 0.0, "run.workers": 1})
    tester = PlasticCircuit(tcfg, task=model.task, fi_curve=model.fi_curve, state=state, t=model.t,
                            seed=model.seed, target=target or model.target)
    rec = tester.run(n_hold * dt, plastic=False, averages=False, record=("r", "y"),
                     record_every=every)

    def by_angle(x):  # (S, R*K*T, n) -> (R, K, T*S, n), each trial's samples in a block
        S, n = int(keep.sum()), x.shape[-1]
        return x[:len(times)][keep].reshape(S, R, K, T, n).transpose(1, 2, 3, 0, 4).reshape(R, K, T * S, n)

    return dict(angles=theta, rates=by_angle(rec["r"]), outputs=by_angle(rec["y"]),
                **{k: np.asarray(model.state[k]).copy() for k in ("W", "C", "b", "D")},
                task=np.str_(model.task.name), t=np.float64(model.t), hold=np.float64(hold),
                trials=np.int64(T), start=np.str_(start),
                protocol=np.str_(describe_protocol(K, hold, T, start, cfg.circuit.r_init)), protocol_name=np.str_("held"),
                settle=np.float64(SETTLE), sample_dt=np.float64(every * dt),
                prior_mu=np.float64(cfg.stimulus.mu),
                prior_kappa=np.float64(stationary_kappa(cfg.stimulus.kappa)),
                seed=np.int64(model.seed))


def authors_draws(trials, angles, seed=AUTHORS_SEED):
    """The stimuli of the authors' protocol: angle indices ``(trials, AUTHORS_STIMULI)``, uniform
    with replacement over ``range(angles)``, from ``numpy.random.default_rng(seed)``."""
    return np.random.default_rng(seed).integers(0, angles, size=(trials, AUTHORS_STIMULI))


def authors_test(model, trials=None, hold=None, target=None):
    """The authors' test protocol on a model in memory (:class:`~brian_effplast.circuit.model.PlasticCircuit`).

    ``trials`` trials (default ``config.test.trials``: 100) of :data:`AUTHORS_STIMULI`
    stimuli of ``hold`` time units (default ``config.test.hold``: 200), plasticity
    off and the stimulus held (``sigma_s = 0``). Every trial starts from the trial
    reset (rates ``circuit.r_init``, low-pass averages 0;
    :func:`~brian_effplast.circuit.state.reset_trial`); its stimuli are the input
    units' preferred angles ``-pi + 2 pi k / N_s`` drawn by :func:`authors_draws`
    (the same for every replica), and a stimulus after the first starts from the
    state the previous one left. Rates and outputs are recorded every
    ``config.test.record_every`` steps (default 200: 2 time units, where the rates'
    autocorrelation of an untrained network has fallen to 0.04), nothing dropped. All ``R * trials`` (replica, trial)
    copies run in parallel, each with its own noise, one stimulus after another;
    ``model`` itself is not changed.

    The samples are grouped by angle for :mod:`brian_effplast.analysis`: each angle
    is shown a random number of times (``presentations``, about ``5 trials / N_s``
    each), and every angle keeps the samples of its first ``n_min`` presentations
    (trial order; ``n_min`` the fewest of any angle), so that every angle has the
    same number of samples and the covariance-based measures the same small-sample
    bias.

    Returns
    -------
    dict
        As :func:`held_stimulus_test` (``rates (R, K, S, N)`` and ``outputs (R, K, S,
        n_out)`` in float32, ``S = n_min * samples_per_presentation``), plus
        ``presented (trials, 5)`` (the angle index of each stimulus), ``presentations
        (K,)``, ``n_min``, ``samples_per_presentation`` and ``draw_seed``.
    """
    from ..circuit.model import PlasticCircuit
    cfg = model.config
    chosen = {f"test.{k}": v for k, v in (("trials", trials), ("hold", hold)) if v is not None}
    cfg = cfg.override({"test.protocol": "authors", "test.angles": cfg.circuit.N_s, **chosen},
                       source="authors_test()")
    T, hold, K, every = cfg.test.n_trials, cfg.test.hold, cfg.test.angles, cfg.test.every
    dt, R = cfg.circuit.dt, model.R
    n_hold = cfg.steps(hold, "test.hold")
    if n_hold % every:
        raise ConfigError(f"arguments: test.hold = {hold!r} is not allowed: must be a whole number of "
                          f"test.record_every = {every} steps (the same samples for every stimulus)")
    presented = authors_draws(T, K)
    counts = np.bincount(presented.ravel(), minlength=K)
    if counts.min() == 0:
        raise ConfigError(f"arguments: test.trials = {T} is not allowed: angle {int(counts.argmin())} is never "
                          f"shown (draw seed {AUTHORS_SEED}); use more trials")
    theta = test_angles(K)
    rule = cfg.plasticity.rule
    # copy (replica q, trial j) is q*T + j; every one starts from the trial reset
    state = {k: np.repeat(np.asarray(model.state[k]), T, axis=0) for k in saved_keys(rule)}
    reset_trial(state, cfg.circuit.r_init, rule)
    tcfg = cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * T, "run.trial": 0.0, "run.workers": 1})
    tester = PlasticCircuit(tcfg, task=model.task, fi_curve=model.fi_curve, state=state, t=model.t,
                            seed=model.seed, target=target or model.target)
    rates, outputs = [], []  # per stimulus: (R, T, S_p, n)
    for i in range(AUTHORS_STIMULI):
        tester.state["theta"] = np.tile(theta[presented[:, i]], R)  # the rest carries over
        rec = tester.run(n_hold * dt, plastic=False, averages=False, record=("r", "y"),
                         record_every=every)
        for x, into in ((rec["r"], rates), (rec["y"], outputs)):  # (S_p, R*T, n)
            into.append(x.astype(np.float32).reshape(len(x), R, T, -1).transpose(1, 2, 0, 3))
    n_min = int(counts.min())
    trial, stimulus = zip(*(np.nonzero(presented == k) for k in range(K)))  # each in trial order

    def by_angle(per_stimulus):  # -> (R, K, n_min * S_p, n)
        x = np.stack(per_stimulus, axis=2)  # (R, T, 5, S_p, n)
        kept = np.stack([x[:, j[:n_min], i[:n_min]] for j, i in zip(trial, stimulus)], axis=1)
        return kept.reshape(R, K, -1, x.shape[-1])

    return dict(angles=theta, rates=by_angle(rates), outputs=by_angle(outputs),
                **{k: np.asarray(model.state[k]).copy() for k in ("W", "C", "b", "D")},
                task=np.str_(model.task.name), t=np.float64(model.t), hold=np.float64(hold),
                trials=np.int64(T), start=np.str_("reset"), protocol=np.str_(_describe(cfg)),
                protocol_name=np.str_("authors"), settle=np.float64(0.0), sample_dt=np.float64(every * dt),
                presented=presented, presentations=counts, n_min=np.int64(n_min),
                samples_per_presentation=np.int64(n_hold // every), draw_seed=np.int64(AUTHORS_SEED),
                prior_mu=np.float64(cfg.stimulus.mu),
                prior_kappa=np.float64(stationary_kappa(cfg.stimulus.kappa)),
                seed=np.int64(model.seed))


def test_model(model, target=None):
    """The configured protocol (``config.test.protocol``) on a model in memory:
    :func:`held_stimulus_test` or :func:`authors_test`."""
    test = authors_test if model.config.test.protocol == "authors" else held_stimulus_test
    return test(model, target=target)


test_model.__test__ = False  # not a pytest test


def run_test(run_dir, out=None, angles=None, hold=None, target=None, trials=None, start=None, protocol=None,
             record_every=None, *, quiet=False, stream=None):
    """The configured test protocol (:func:`test_model`) on the last checkpoint of a run directory.

    Writes ``test.npz`` (the data the protocol returns), ``tuning.png``
    and ``outputs.png`` to ``out`` (default: the run directory). ``protocol``,
    ``angles``, ``hold``, ``trials``, ``start``, ``record_every`` and ``target``
    override the run's ``test.protocol``, ``test.angles``, ``test.hold``,
    ``test.trials``, ``test.start``, ``test.record_every`` and ``run.target``
    (``protocol="authors"`` or ``**AUTHORS_PROTOCOL``: the authors' protocol).
    Returns a dict with the file paths, the test scores, ``samples`` (per
    replica and angle) and ``protocol`` (:func:`describe_protocol`).
    """
    run_dir = Path(run_dir)
    out_dir = Path(out) if out is not None else run_dir
    if out_dir == run_dir:
        read_run(run_dir)  # (a missing or broken run directory is named before any lock is taken)
    if out_dir.exists() and not out_dir.is_dir():
        raise RunError(f"output directory {out_dir} exists and is not a directory")
    # one writer at a time: the lock is held from reading the checkpoint to the last file, so a
    # training (or another test) of the same directory is refused before anything runs
    with writing(out_dir, create=True):
        return _run_test(run_dir, out_dir, angles, hold, target, trials, start, protocol, record_every, quiet,
                         stream)


def _run_test(run_dir, out_dir, angles, hold, target, trials, start, protocol, record_every, quiet, stream):
    cfg, summary, ckpt = read_run(run_dir)
    overrides = {k: v for k, v in (("test.protocol", protocol), ("test.angles", angles), ("test.hold", hold),
                                   ("test.trials", trials), ("test.start", start),
                                   ("test.record_every", record_every), ("run.target", target)) if v is not None}
    if protocol == "authors" and angles is None:
        overrides["test.angles"] = cfg.circuit.N_s
    if overrides:
        cfg = cfg.override(overrides, source="arguments")
    model = model_from(cfg, ckpt)
    if cfg.test.protocol == "held":
        _samples(cfg, cfg.test.hold)  # a bad hold is reported before anything is written
    description = _describe(cfg)
    if not quiet:
        s = sys.stderr if stream is None else stream
        if ckpt.fallback:
            s.write(f"brian-effplast: warning: {ckpt.fallback}\n")
        s.write(f"brian-effplast: testing {run_dir} (t = {float(ckpt['t']):g}, status {summary['status']}): "
                f"{description}, {cfg.run.replicas} replica(s), target {cfg.run.target}\n")
        s.flush()
    data = test_model(model)
    numbers = scores(data, model.task)
    # the scores, kept as numbers: reading test.npz (info) needs no task, so imports nothing
    data["score_names"] = np.array(list(numbers), dtype=str)
    data["score_values"] = np.array(list(numbers.values()), dtype=float)
    write_npz(out_dir / FILES["test"], **data)
    from .. import plotting
    write_figure(out_dir / FILES["tuning_png"], plotting.population_tuning(data))
    write_figure(out_dir / FILES["outputs_png"], plotting.output_distributions(data, model.task))
    result = {"test": str(out_dir / FILES["test"]), "tuning": str(out_dir / FILES["tuning_png"]),
              "outputs": str(out_dir / FILES["outputs_png"]), "angles": cfg.test.angles,
              "samples": data["rates"].shape[2], "protocol": description}
    result.update(numbers)
    return result


def scores(data, task):
    """The task's test score (:meth:`Task.score <brian_effplast.blocks.tasks.Task.score>` of the
    mean :meth:`~brian_effplast.blocks.tasks.Task.test_error`), averaged over replicas,
    samples and test angles, uniformly (``"mse"`` for estimation, ``"accuracy"``
    for classification) and weighted by the stimulus prior when ``data`` has
    ``prior_mu`` / ``prior_kappa`` (``"mse_prior"``, ``"accuracy_prior"``)."""
    task = get_task(task)
    angles = np.asarray(data["angles"])
    per_angle = per_angle_error(data, task).mean(axis=0)
    out = {task.score_name: float(task.score(np.mean(per_angle)))}
    if "prior_mu" in data and "prior_kappa" in data:
        w = prior_weights(angles, data["prior_mu"], data["prior_kappa"])
        out[task.score_name + "_prior"] = float(task.score(np.sum(w * per_angle)))
    return out


def per_angle_error(data, task):
    """Mean :meth:`~brian_effplast.blocks.tasks.Task.test_error` per replica and test angle, ``(R, K)``."""
    task = get_task(task)
    y, angles = np.asarray(data["outputs"]), np.asarray(data["angles"])  # (R, K, S, n_out), (K,)
    return task.test_error(y, angles[None, :, None]).mean(axis=2)
