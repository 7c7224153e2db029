"""Tasks: target, readout, reward ``alpha`` and decoder error ``delta``.

A task is given once, as Brian2 abstract code run every step on the
:class:`TaskReadout` group (one element per replica), and once as NumPy
(for analysis and for :func:`check_task`). In the code, ``theta`` is the
stimulus and ``y_0 ... y_{n_out-1}`` the linear readouts ``D r``; the code
must set ``alpha`` (the reward, one number per replica) and ``delta_k``
(the decoder's error signal: ``D_kj`` moves by ``delta_k * r_j``).
``delta_k`` must be ``delta_scale * d alpha / d y_k``.

Everything else that differs between tasks lives here too: what the
learning curve shows (:attr:`Task.objective_label`, :meth:`Task.objective`),
and how a test is scored (:meth:`Task.test_error`, :attr:`Task.score_name`,
:meth:`Task.score`; the paper's panels and verdicts: :meth:`Task.test_loss`). Nothing outside this module branches on a task's name.
The Brian2 side (the group that runs :attr:`Task.code`) is
:class:`~brian_effplast.blocks.readout.TaskReadout`.

Add a task by subclassing :class:`Task` (see :class:`Estimation`). A model
file names it by import path, ``task = "mypackage.tasks:DoubleAngle"``,
with the constructor's arguments in a ``[task_args]`` table: the run
directory records both, and everything that reads a run brings the task
back from them (:func:`get_task`).
"""

import importlib
import importlib.util
import logging
import os
import sys

import numpy as np

__all__ = ["Task", "Estimation", "Classification", "get_task", "check_task", "load_object", "is_import_path",
           "distrust", "TASKS"]


class Task:
    """Base class of tasks.

    A subclass sets :attr:`n_out` and :attr:`code` (the Brian2 side) and
    defines :meth:`reward` and :meth:`delta` (the NumPy side, checked
    against each other by :func:`check_task`); :meth:`target` is needed by
    the plots and figure panels of the outputs. The other attributes have
    defaults.
    """

    #: Short name of the task (``"estimation"``), or ``None``.
    name = None
    #: Number of linear readouts ``y_k``.
    n_out = None
    #: Extra state of the readout group (Brian2 equation lines), e.g. ``"psi : 1"``.
    variables = ""
    #: Abstract code setting ``alpha`` and ``delta_0 ...`` from ``theta`` and
    #: ``y_0 ...``; constants come from :attr:`Task.namespace`.
    code = None
    #: Constants used by :attr:`Task.code` (name -> value).
    namespace = {}
    #: ``delta = delta_scale * grad_y alpha`` (checked by :func:`check_task`).
    delta_scale = 1.0
    #: What :meth:`Task.objective` of the mean reward is called in plots and summaries.
    objective_label = "reward"
    #: Name of :meth:`Task.score` in test results (a higher score is not necessarily better).
    score_name = "error"
    #: Name of the per-sample :meth:`Task.test_error` in plots.
    error_label = "error"
    #: Name of the per-sample :meth:`Task.test_loss` in plots.
    loss_label = "negative reward"
    #: Key of :meth:`Task.objective` in result files (e.g. ``"mse_first10pct"``).
    objective_name = "reward"
    #: Whether plots of :meth:`Task.objective` during learning use a log y axis.
    log_scale_curve = False
    #: Stimulus angles where the target class changes (drawn as lines on
    #: plots against the angle); empty for a task without classes.
    class_boundaries = ()
    #: Readout value separating the classes of a one-output task (drawn on
    #: output histograms); ``None`` for a task without classes. For a task
    #: with classes, :meth:`Task.target` gives the class of a stimulus.
    decision_threshold = None
    #: The built-in task whose default parameters (``Config.default``) a
    #: configuration of this task starts from.
    config_defaults = "estimation"

    def target(self, theta):
        """What the readouts should be at stimuli ``theta`` (...): ``(..., n_out)``
        (e.g. ``(cos theta, sin theta)``), or for a task with classes the class
        of each stimulus, ``(...)``."""
        raise NotImplementedError

    def reward(self, y, theta):
        """``alpha`` for readouts ``y`` (..., n_out) and stimuli ``theta`` (...)."""
        raise NotImplementedError

    def delta(self, y, theta):
        """Decoder error (..., n_out)."""
        raise NotImplementedError

    def objective(self, reward):
        """The training objective shown for a mean reward (default: the reward itself)."""
        return np.asarray(reward, dtype=float)

    def test_error(self, y, theta):
        """Error of readouts ``y`` (..., n_out) at held stimuli ``theta`` (...), per sample."""
        return -self.reward(y, theta)

    def score(self, error):
        """The test score from a mean :meth:`test_error` (default: the error itself)."""
        return error

    def test_loss(self, y, theta):
        """The paper's per-sample error of readouts ``y`` (..., n_out) at held stimuli ``theta`` (...).

        What the paper's per-angle error panels and their verdicts average
        (the authors' measure); :meth:`test_error` is what a run's scores
        report. Default: the negative reward.
        """
        return -self.reward(y, theta)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Estimation(Task):
    """Estimate ``(cos theta, sin theta)``; ``alpha = -||target - y||^2`` (Eq. 6)."""

    name = "estimation"
    n_out = 2
    variables = "target_0 : 1\ntarget_1 : 1"
    code = """
    target_0 = cos(theta)
    target_1 = sin(theta)
    delta_0 = target_0 - y_0
    delta_1 = target_1 - y_1
    alpha = -(delta_0**2 + delta_1**2)
    """
    delta_scale = 0.5  # the reference decoder rule uses (target - y), half the gradient
    objective_label = "MSE"
    objective_name = "mse"
    log_scale_curve = True
    score_name = "mse"
    error_label = "squared error"
    loss_label = "squared error"

    def target(self, theta):
        theta = np.asarray(theta, dtype=float)
        return np.stack([np.cos(theta), np.sin(theta)], axis=-1)

    def reward(self, y, theta):
        return -np.sum((self.target(theta) - y) ** 2, axis=-1)

    def delta(self, y, theta):
        return self.target(theta) - y

    def objective(self, reward):
        return -np.asarray(reward, dtype=float)  # the squared error

    def test_error(self, y, theta):
        return np.sum((np.asarray(y) - self.target(theta)) ** 2, axis=-1)


class Classification(Task):
    """Class ``theta >= 0``; logistic readout ``psi = 1/(1 + exp(-gain*y))``,
    log-likelihood reward (Eq. 7) with ``psi`` clipped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    gain : float
        Readout gain (reference: 100).
    eps : float
        Clip of ``psi`` (reference: 1e-4).
    """

    name = "classification"
    config_defaults = "classification"
    n_out = 1
    objective_label = "log-likelihood"
    objective_name = "log_likelihood"
    score_name = "accuracy"
    error_label = "error rate"
    loss_label = "negative log-likelihood"
    class_boundaries = (0.0, np.pi)  # class 1 is theta >= 0
    decision_threshold = 0.0  # class 1 where y >= 0 (psi >= 1/2)
    variables = "c : 1\npsi : 1"
    code = """
    c = int(theta >= 0)
    psi = clip(1/(1 + exp(-cls_gain*y_0)), cls_eps, 1 - cls_eps)
    alpha = c*log(psi) + (1 - c)*log(1 - psi)
    delta_0 = cls_gain*(c - psi)
    """

    def __init__(self, gain=100.0, eps=1e-4):
        if not (np.isfinite(gain) and gain > 0):
            raise ValueError(f"gain = {gain!r} is not allowed: must be a finite number > 0")
        if not (0 < eps < 0.5):
            raise ValueError(f"eps = {eps!r} is not allowed: must be in (0, 0.5)")
        self.gain, self.eps = float(gain), float(eps)
        self.namespace = {"cls_gain": self.gain, "cls_eps": self.eps}

    def __repr__(self):
        return f"Classification(gain={self.gain!r}, eps={self.eps!r})"

    def target(self, theta):
        return (np.asarray(theta) >= 0).astype(float)

    def psi(self, y):
        with np.errstate(over="ignore"):
            p = 1.0 / (1.0 + np.exp(-self.gain * np.asarray(y, dtype=float)[..., 0]))
        return np.clip(p, self.eps, 1 - self.eps)

    def reward(self, y, theta):
        c, psi = self.target(theta), self.psi(y)
        return c * np.log(psi) + (1 - c) * np.log(1 - psi)

    def delta(self, y, theta):
        return (self.gain * (self.target(theta) - self.psi(y)))[..., None]

    def test_error(self, y, theta):
        """1 where the readout's sign gives the wrong class, else 0."""
        return ((np.asarray(y)[..., 0] >= 0) != (np.asarray(theta) >= 0)).astype(float)

    def score(self, error):
        return 1.0 - error  # accuracy

    def test_loss(self, y, theta):
        """Negative log-likelihood of the true class, ``-log psi`` for class 1 and
        ``-log(1 - psi)`` for class 0 (``psi`` clipped as the reward clips it),
        as the authors measure the error per angle. ``theta = -pi`` counts as
        class 1 (their convention: ``-pi`` and ``pi`` are one stimulus)."""
        theta = np.asarray(theta, dtype=float)
        c = np.where(np.abs(theta + np.pi) <= 1e-9, 1.0, self.target(theta))
        psi = self.psi(y)
        return -(c * np.log(psi) + (1 - c) * np.log(1 - psi))


#: The built-in tasks by name. The names alone are :data:`brian_effplast.config.schema.TASKS`, which the
#: configuration checks without importing this module (tests/test_tasks_api.py keeps the two equal).
TASKS = {cls.name: cls for cls in (Estimation, Classification)}


def is_import_path(text):
    """Whether ``text`` looks like ``"package.module:Name"``."""
    if not isinstance(text, str) or text.count(":") != 1:
        return False
    module, name = text.split(":")
    return all(p.isidentifier() for p in module.split(".")) and name.isidentifier()


#: Real paths of the run directories this process has read: no module inside one is imported.
_UNTRUSTED = set()
#: Called with a line saying which module is imported for a task or F-I curve, before it is
#: (the command line prints it; default: the ``brian_effplast`` logger, level INFO).
on_import = None


def distrust(directory):
    """Never import a module found inside ``directory`` (a run directory that was read)."""
    _UNTRUSTED.add(os.path.realpath(directory))


def _inside(path, directories):
    real = os.path.realpath(path)
    return next((d for d in directories if real == d or real.startswith(d.rstrip(os.sep) + os.sep)), None)


def _search_path():
    """``sys.path`` without the current directory and the run directories read.

    Python puts the current directory on the path for ``python -m``, ``python -c``,
    the interactive interpreter and Jupyter (as '' or its full path, and an empty
    entry of PYTHONPATH means it too): a ``.py`` file beside a downloaded run
    directory would be imported, and run, by asking what the directory holds. A
    directory named explicitly in PYTHONPATH stays (unless it is a run directory).
    """
    cwd = os.path.realpath(os.getcwd())
    explicit = {os.path.realpath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    kept = []
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        if entry in ("", "."):
            continue
        real = os.path.realpath(entry)
        if (real == cwd and real not in explicit) or _inside(real, _UNTRUSTED):
            continue
        kept.append(entry)
    return kept


def _origin(spec):
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen", "namespace"):
        return spec.origin
    locations = list(spec.submodule_search_locations or [])
    return locations[0] if locations else spec.origin


def _import_module(module_name, what, path):
    """Import ``module_name`` for ``what = path`` from the trusted search path (:func:`_search_path`)."""
    module = sys.modules.get(module_name)
    if module is not None:
        where = getattr(module, "__file__", None)
        found = where and _inside(where, _UNTRUSTED)
        if found:
            raise ValueError(f"{what} = {path!r}: module {module_name!r} was loaded from {where}, inside the "
                             f"run directory {found}: a run directory's own code is never used")
        return module
    top = module_name.split(".")[0]
    saved = sys.path[:]
    sys.path[:] = _search_path()
    try:
        try:
            spec = importlib.util.find_spec(top)  # finds; runs nothing (a top-level name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            sys.path[:] = saved
            try:
                skipped = importlib.util.find_spec(top)
            except (ImportError, ValueError):
                skipped = None
            where = _origin(skipped)
            if where:
                raise ValueError(f"{what} = {path!r}: module {top!r} was found only at {where}, in the current "
                                 "directory or a run directory, which are not searched for code (a downloaded "
                                 "run directory could carry any): install the package, or name its directory in "
                                 "PYTHONPATH") from None
            raise ValueError(f"{what} = {path!r}: cannot import module {module_name!r} (no module named "
                             f"{top!r}); is the package installed or on PYTHONPATH?")
        where = _origin(spec)
        found = where and _inside(where, _UNTRUSTED)
        if found:
            raise ValueError(f"{what} = {path!r}: module {top!r} is at {where}, inside the run directory {found}: "
                             "a run directory's own code is never imported; install the package, or put it on "
                             "PYTHONPATH outside the run directory")
        line = f"importing module {module_name!r} for {what} = {path!r} (from {where})"
        (on_import or logging.getLogger("brian_effplast").info)(line)
        try:
            return importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or an error raised by the module itself
            raise ValueError(f"{what} = {path!r}: cannot import module {module_name!r} ({type(exc).__name__}: "
                             f"{exc}); is the package installed or on PYTHONPATH?") from None
    finally:
        sys.path[:] = saved


def load_object(path, base, what="task"):
    """The class (or factory) named by the import path ``"package.module:Name"``.

    The module is looked for on ``sys.path`` without the current directory
    and without any run directory this process has read (:func:`distrust`):
    an installed package, or a directory named in ``PYTHONPATH``. A module
    found only there is refused, naming where it is; the module imported is
    announced (:data:`on_import`) before it is imported.

    Raises ``ValueError`` naming the path and what went wrong (the module
    cannot be imported or is refused, has no such name, or it is not a ``base``).
    """
    if not is_import_path(path):
        raise ValueError(f"{what} = {path!r} is not an import path: write it as 'package.module:ClassName'")
    module_name, name = path.split(":")
    module = _import_module(module_name, what, path)
    try:
        obj = getattr(module, name)
    except AttributeError:
        raise ValueError(f"{what} = {path!r}: module {module_name!r} has no {name!r}") from None
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise ValueError(f"{what} = {path!r}: {name} is not a subclass of {base.__module__}.{base.__name__}")
    return obj


def get_task(task, args=None):
    """A :class:`Task` from a task instance, a name in :data:`TASKS` or an
    import path ``"package.module:Class"`` of a :class:`Task` subclass
    (built with ``args``, a dict of its constructor's arguments).

    A task loaded by import path that sets no :attr:`Task.name` is named by
    the path (so test data and plots can find it again)."""
    if isinstance(task, Task):
        return task
    args = dict(args or {})
    if isinstance(task, str) and task in TASKS:
        cls = TASKS[task]
    elif is_import_path(task):
        cls = load_object(task, Task)
    else:
        raise ValueError(f"task = {task!r} is not allowed: must be one of {sorted(TASKS)} or a Task instance "
                         f"(or an import path 'package.module:Class' of a Task subclass)")
    try:
        obj = cls(**args)
    except TypeError as exc:
        raise ValueError(f"task = {task!r}: cannot build it with the arguments {args!r} ({exc})") from None
    if obj.name is None:
        obj.name = task
    return obj


def check_task(task, n=200, seed=0, rtol=1e-5):
    """Shared checks every task must pass (built-in or a user's).

    The NumPy ``reward`` and ``delta`` have the right shapes and are finite,
    and ``delta == delta_scale * d alpha / d y`` by central differences.
    Raises ``ValueError`` naming the failing check; returns ``True``.
    """
    task = get_task(task)
    if not (isinstance(task.n_out, int) and task.n_out >= 1):
        raise ValueError(f"{task!r}.n_out = {task.n_out!r} is not allowed: must be an integer >= 1")
    for word in ["alpha"] + [f"delta_{k}" for k in range(task.n_out)]:
        if word not in (task.code or ""):
            raise ValueError(f"{task!r}.code does not set {word}")
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, n)
    y = rng.normal(0, 0.02, (n, task.n_out))
    alpha, delta = task.reward(y, theta), task.delta(y, theta)
    if np.shape(alpha) != (n,) or np.shape(delta) != (n, task.n_out):
        raise ValueError(f"{task!r}: reward has shape {np.shape(alpha)}, delta {np.shape(delta)}; "
                         f"expected ({n},) and ({n}, {task.n_out})")
    if not (np.all(np.isfinite(alpha)) and np.all(np.isfinite(delta))):
        raise ValueError(f"{task!r}: reward or delta not finite")
    h = 1e-6
    for k in range(task.n_out):
        e = np.zeros(task.n_out)
        e[k] = h
        grad = (task.reward(y + e, theta) - task.reward(y - e, theta)) / (2 * h)
        err = np.abs(task.delta_scale * grad - delta[:, k])
        if np.any(err > rtol * np.maximum(1.0, np.abs(delta[:, k]))):
            j = int(np.argmax(err))
            raise ValueError(f"{task!r}: delta_{k} = {float(delta[j, k])!r} but delta_scale * d alpha/d y_{k} = "
                             f"{float(task.delta_scale * grad[j])!r} at theta = {float(theta[j])!r}, "
                             f"y = {y[j].tolist()!r}")
    return True
