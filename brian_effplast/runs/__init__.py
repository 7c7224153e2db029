"""Run directories from Python: train, resume, test, load and describe them.

The functions behind the ``brian-effplast`` command, gathered in one place::

    from brian_effplast import Config, runs
    runs.train(Config.default("classification"), "runs/cls", duration=20000, seed=3)
    runs.run_test("runs/cls")                      # test.npz and plots
    model = runs.load("runs/cls", target="numpy")  # a PlasticCircuit, exactly where it stopped

They live in :mod:`~brian_effplast.runs.training` (train, resume, load),
:mod:`~brian_effplast.runs.protocol` (the test protocol) and
:mod:`~brian_effplast.runs.rundir` (the files); this module adds :func:`info`.
"""

from pathlib import Path


from ..blocks.prior import stationary_kappa
from ..config.schema import NONLINEARITIES, TASKS
from ..errors import Diverged, Interrupted, RunError
from .protocol import AUTHORS_PROTOCOL, SETTLE, authors_test, describe_protocol, held_stimulus_test, run_test, scores
from .rundir import (FILES, STATUSES, check_npz, config_edits, describe_edits, lock_holder, read_checkpoint,
                     read_checkpoints, read_run)
from .training import DIVERGENCE_LIMITS, load, objectives, resolve_config, resume, train

__all__ = ["train", "resume", "load", "run_test", "held_stimulus_test", "authors_test", "scores", "info", "read_run",
           "read_checkpoint", "resolve_config", "objectives", "RunError", "Diverged", "Interrupted", "FILES",
           "STATUSES", "SETTLE", "AUTHORS_PROTOCOL", "describe_protocol", "DIVERGENCE_LIMITS"]


def info(run_dir):
    """A human-readable description of a run directory.

    Reads every file it describes and names a damaged one, with what to do;
    imports nothing (a task or F-I curve named by import path is shown as
    text, and test scores come from ``test.npz``), and takes no lock (a run
    being written says by which process).
    """
    run_dir = Path(run_dir)
    cfg, s, ckpt = read_run(run_dir, need_checkpoint=False)
    holder = lock_holder(run_dir)
    lines = [f"{run_dir}: {s['status']}"]
    if holder:
        lines.append(f"  writer      {holder.split(' is being written by ', 1)[-1].split(': wait', 1)[0]}")
    elif s["status"] == "running":
        lines.append("  writer      none: no process is writing this run, so it stopped without recording why "
                     "(killed, or the machine or disk failed)")
    args = "".join(f", {k} = {v!r}" for k, v in cfg.task_args.items())
    lines.append(f"  task        {cfg.task}{args} (N = {cfg.circuit.N}, sigma = {cfg.circuit.sigma:g}, "
                 f"stimulus process kappa = {cfg.stimulus.kappa:g}: prior von Mises of mean mu = "
                 f"{cfg.stimulus.mu:g} and concentration 2 kappa = {stationary_kappa(cfg.stimulus.kappa):g})")
    if cfg.nonlinearity.kind not in NONLINEARITIES or cfg.nonlinearity_args:
        lines.append(f"  F-I curve   {cfg.nonlinearity.kind}"
                     + "".join(f", {k} = {v!r}" for k, v in cfg.nonlinearity_args.items()))
    t_done = float(ckpt["t"]) if ckpt is not None else float(s.get("t", 0.0))
    steps_done = int(ckpt["steps"]) if ckpt is not None else s.get("steps_done", 0)
    lines.append(f"  progress    {t_done:g} / {cfg.run.duration:g} time units "
                 f"({steps_done} / {s.get('steps', '?')} steps)"
                 + (" at the last checkpoint" if s["status"] != "complete" else ""))
    if ckpt is None:
        try:
            read_checkpoints(run_dir)
        except RunError as exc:
            lines.append(f"  checkpoint  NONE USABLE: {exc}")
    elif ckpt.fallback:
        lines.append(f"  checkpoint  {ckpt.fallback}")
    else:
        lines.append(f"  checkpoint  {ckpt.path.name} verified (SHA-256)"
                     + (f"; previous one kept in {FILES['previous_checkpoint']}"
                        if (run_dir / FILES["previous_checkpoint"]).is_file() else ""))
    edits = config_edits(run_dir, cfg, s)
    if edits:
        lines.append("  config      EDITED since the run started: "
                     + describe_edits(edits))
    for change in s.get("config_changes", []):
        lines.append(f"  config      changed at t = {change['t']:g}: "
                     + describe_edits(change["changes"]))
    lines.append(f"  seed        {cfg.run.seed}")
    ce = cfg.run.checkpoint_every
    lines.append(f"  target      {cfg.run.target}, {cfg.run.replicas} replica(s), "
                 + (f"checkpoint every {ce:g} time units" if ce else "checkpoint only at the end"))
    wall = float(s.get("wall_seconds", 0.0))
    rate = f" ({s.get('t', 0) / wall:.0f} time units/s)" if wall > 0 else ""
    lines.append(f"  wall time   {wall:.1f} s{rate} in {s.get('sessions', 1)} session(s)")
    shown = s.get("objective") or {}
    if shown.get("initial") is not None:
        lines.append(f"  {shown['label']:<11} {shown['initial']:.4g} -> {shown['final']:.4g} "
                     "(first -> last 10% of training after the transient)")
    if s["status"] == "diverged":
        d = s.get("diverged", {})
        lines.append(f"  diverged    {d.get('what', '?')} during t in {d.get('during', '?')}")
    if s["status"] == "interrupted":
        i = s.get("interrupted", {})
        lines.append(f"  interrupted by {i.get('signal', '?')}; kept the checkpoint at t = {i.get('at_checkpoint', '?')}")
    if s["status"] == "failed":
        lines.append(f"  failed      {s.get('failed', {}).get('error', '?')}")
    if s["status"] in ("running", "interrupted", "failed") and not holder:
        lines.append(f"  resume with: brian-effplast resume {run_dir}")
    v = s.get("versions", {})
    if v:
        lines.append("  versions    " + ", ".join(f"{k} {val}" for k, val in v.items()))
    present = [name for name in FILES.values() if (run_dir / name).is_file()]
    lines.append("  files       " + ", ".join(present))
    fix = {"parameters": f"'brian-effplast resume {run_dir}' writes it again from the verified checkpoint",
           "curve": f"'brian-effplast resume {run_dir}' writes it again from the verified checkpoint",
           "test": f"run 'brian-effplast test {run_dir}' again"}
    arrays = {}
    for key, need in (("parameters", ("W", "C", "b", "D")), ("curve", ("curve", "time")),
                      ("test", ("angles", "rates", "outputs"))):
        path = run_dir / FILES[key]
        if not path.is_file():
            if s["status"] == "complete" and key != "test":
                lines.append(f"  DAMAGED     {path} is missing: " + fix[key])
            continue
        try:
            arrays[key] = check_npz(path, need)
        except RunError as exc:
            lines.append(f"  DAMAGED     {exc}: " + fix[key])
    z = arrays.get("test")
    if z is not None:
        which = f" ({z['protocol']})" if "protocol" in z else ""  # (older test.npz: no record)
        head = f"  test        {z['angles'].size} angles, {z['rates'].shape[2]} samples each{which}"
        if "score_names" in z and "score_values" in z:
            numbers = dict(zip(z["score_names"].tolist(), z["score_values"].tolist()))
        elif cfg.task in TASKS:  # (older test.npz: no scores kept; a built-in task scores it)
            numbers = scores({k: z[k] for k in ("angles", "outputs", "prior_mu", "prior_kappa") if k in z},
                             cfg.make_task())
        else:
            numbers = None
        lines.append(head + (": " + ", ".join(f"{k} {v:.4g}" for k, v in numbers.items()) if numbers else
                             f" (no scores kept; 'brian-effplast test {run_dir}' scores it with the task)"))
    return "\n".join(lines)
