"""The test protocol: held stimuli, plasticity off.

Every replica is presented each of ``K`` test angles
(:func:`~brian_effplast.prior.test_angles`) for ``hold`` time units, with
plasticity off and the stimulus held (``sigma_s = 0``), in ``test.trials``
independent copies per angle that start from the model's state
(``test.start = "current"``) or from a training trial's reset
(``"reset"``); rates and outputs are recorded every ``test.record_every``
steps and the first :data:`SETTLE` time units dropped.
:data:`AUTHORS_PROTOCOL` is the authors' protocol. :func:`held_stimulus_test`
runs it on a model in memory, :func:`run_test` on a run directory (and
writes ``test.npz`` and the plots), :func:`scores` sums it up as the task
scores it.
"""

import sys
from pathlib import Path

import numpy as np

from .config import ConfigError
from .errors import RunError
from .prior import prior_weights, stationary_kappa, test_angles
from .rundir import FILES, read_run, write_figure, write_npz, writing
from .state import reset_trial, saved_keys
from .tasks import get_task
from .training import model_from

__all__ = ["held_stimulus_test", "run_test", "scores", "per_angle_error", "describe_protocol", "SETTLE",
           "AUTHORS_PROTOCOL"]

#: Time units dropped at the start of each test angle (the circuit settles).
SETTLE = 10.0

#: The authors' test protocol: 100 independent trials of each of 5 held stimuli for 200 time
#: units, each from the trial reset (``r = circuit.r_init = 0.1``). Keyword arguments of
#: :func:`held_stimulus_test` and :func:`run_test`, and the ``[test]`` keys of a configuration
#: (``cfg.replace(test=AUTHORS_PROTOCOL)``).
AUTHORS_PROTOCOL = {"angles": 5, "hold": 200.0, "trials": 100, "start": "reset"}


def describe_protocol(angles, hold, trials=1, start="current", r_init=0.1):
    """One line naming a test protocol, as ``test.npz`` records it (``protocol``).

    Examples
    --------
    >>> from brian_effplast.protocol import describe_protocol, AUTHORS_PROTOCOL
    >>> describe_protocol(12, 200.0)
    "12 angles x 200 time units, from the model's state"
    >>> describe_protocol(**AUTHORS_PROTOCOL)
    "the authors' protocol: 5 angles x 200 time units x 100 trials, from r = 0.1 (trial reset)"
    """
    text = f"{int(angles)} angles x {float(hold):g} time units"
    if trials != 1:
        text += f" x {int(trials)} trials"
    text += f", from r = {float(r_init):g} (trial reset)" if start == "reset" else ", from the model's state"
    settings = dict(angles=angles, hold=hold, trials=trials, start=start)
    return ("the authors' protocol: " + text) if settings == AUTHORS_PROTOCOL else text


def _samples(cfg, hold):
    """Steps of a held stimulus, sample times and which samples are kept (after SETTLE)."""
    every = cfg.test.record_every
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
    """The test protocol on a model in memory (:class:`~brian_effplast.model.PlasticCircuit`).

    Every replica is presented each of ``angles`` test angles (at
    ``-pi + 2 pi k / K``) for ``hold`` time units, with plasticity off and the
    stimulus held (``sigma_s = 0``), in ``trials`` independent copies per
    angle; rates and outputs are recorded every ``config.test.record_every``
    steps and the first :data:`SETTLE` time units dropped. All
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
        low-pass averages 0; :func:`~brian_effplast.state.reset_trial`).
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
    from .model import PlasticCircuit
    cfg = model.config
    K = cfg.test.angles if angles is None else angles
    hold = cfg.test.hold if hold is None else hold
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"angles = {K!r} is not allowed: must be an integer >= 1")
    K = int(K)
    chosen = {f"test.{k}": v for k, v in (("trials", trials), ("start", start)) if v is not None}
    if chosen:  # validated as the model file's keys are
        cfg = cfg.override(chosen, source="held_stimulus_test()")
    T, start = cfg.test.trials, cfg.test.start
    dt, R, every = cfg.circuit.dt, model.R, cfg.test.record_every
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
    rec = tester.run(n_hold * dt, plastic=False, record=("r", "y"), record_every=every)

    def by_angle(x):  # (S, R*K*T, n) -> (R, K, T*S, n), each trial's samples in a block
        S, n = int(keep.sum()), x.shape[-1]
        return x[:len(times)][keep].reshape(S, R, K, T, n).transpose(1, 2, 3, 0, 4).reshape(R, K, T * S, n)

    return dict(angles=theta, rates=by_angle(rec["r"]), outputs=by_angle(rec["y"]),
                **{k: np.asarray(model.state[k]).copy() for k in ("W", "C", "b", "D")},
                task=np.str_(model.task.name), t=np.float64(model.t), hold=np.float64(hold),
                trials=np.int64(T), start=np.str_(start),
                protocol=np.str_(describe_protocol(K, hold, T, start, cfg.circuit.r_init)),
                settle=np.float64(SETTLE), sample_dt=np.float64(every * dt),
                prior_mu=np.float64(cfg.stimulus.mu),
                prior_kappa=np.float64(stationary_kappa(cfg.stimulus.kappa)),
                seed=np.int64(model.seed))


def run_test(run_dir, out=None, angles=None, hold=None, target=None, trials=None, start=None, *, quiet=False,
             stream=None):
    """The test protocol (:func:`held_stimulus_test`) on the last checkpoint of a run directory.

    Writes ``test.npz`` (the data :func:`held_stimulus_test` returns), ``tuning.png``
    and ``outputs.png`` to ``out`` (default: the run directory). ``angles``,
    ``hold``, ``trials``, ``start`` and ``target`` override the run's
    ``test.angles``, ``test.hold``, ``test.trials``, ``test.start`` and
    ``run.target`` (``**AUTHORS_PROTOCOL``: the authors' protocol). Returns a
    dict with the file paths, the test scores, ``samples`` (per replica and
    angle, all trials) and ``protocol`` (:func:`describe_protocol`).
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
        return _run_test(run_dir, out_dir, angles, hold, target, trials, start, quiet, stream)


def _run_test(run_dir, out_dir, angles, hold, target, trials, start, quiet, stream):
    cfg, summary, ckpt = read_run(run_dir)
    overrides = {k: v for k, v in (("test.angles", angles), ("test.hold", hold), ("test.trials", trials),
                                   ("test.start", start), ("run.target", target)) if v is not None}
    if overrides:
        cfg = cfg.override(overrides, source="arguments")
    model = model_from(cfg, ckpt)
    _samples(cfg, cfg.test.hold)  # a bad hold is reported before anything is written
    t = cfg.test
    protocol = describe_protocol(t.angles, t.hold, t.trials, t.start, cfg.circuit.r_init)
    if not quiet:
        s = sys.stderr if stream is None else stream
        if ckpt.fallback:
            s.write(f"brian-effplast: warning: {ckpt.fallback}\n")
        s.write(f"brian-effplast: testing {run_dir} (t = {float(ckpt['t']):g}, status {summary['status']}): "
                f"{protocol}, {cfg.run.replicas} replica(s), target {cfg.run.target}\n")
        s.flush()
    data = held_stimulus_test(model)
    numbers = scores(data, model.task)
    # the scores, kept as numbers: reading test.npz (info) needs no task, so imports nothing
    data["score_names"] = np.array(list(numbers), dtype=str)
    data["score_values"] = np.array(list(numbers.values()), dtype=float)
    write_npz(out_dir / FILES["test"], **data)
    from . import plotting
    write_figure(out_dir / FILES["tuning_png"], plotting.population_tuning(data))
    write_figure(out_dir / FILES["outputs_png"], plotting.output_distributions(data, model.task))
    result = {"test": str(out_dir / FILES["test"]), "tuning": str(out_dir / FILES["tuning_png"]),
              "outputs": str(out_dir / FILES["outputs_png"]), "angles": cfg.test.angles,
              "samples": data["rates"].shape[2], "protocol": protocol}
    result.update(numbers)
    return result


def scores(data, task):
    """The task's test score (:meth:`Task.score <brian_effplast.tasks.Task.score>` of the
    mean :meth:`~brian_effplast.tasks.Task.test_error`), averaged over replicas,
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
    """Mean :meth:`~brian_effplast.tasks.Task.test_error` per replica and test angle, ``(R, K)``."""
    task = get_task(task)
    y, angles = np.asarray(data["outputs"]), np.asarray(data["angles"])  # (R, K, S, n_out), (K,)
    return task.test_error(y, angles[None, :, None]).mean(axis=2)
