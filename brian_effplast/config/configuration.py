"""Parameters of brian-effplast: the single validation layer.

Every way of configuring a simulation (the command line, the Python API and
the TOML model files) goes through :class:`Config`.  The defaults are the
reference parameters of Bredenberg, Simoncelli & Savin (NeurIPS 2020) as used
in the authors' published code (see ``docs/model.md``); they depend on the task (``"estimation"`` or
``"classification"``), so build a default configuration with
:meth:`Config.default` rather than ``Config()``.

Time is measured in the paper's dimensionless time units: one unit is
``circuit.tau_ms`` milliseconds in the Brian2 model.  All durations here
(``dt``, ``tau_bar``, ``run.duration`` ...) are in time units unless the name
says otherwise.

This module is deliberately free of NumPy and Brian2 so that it can be
imported (and configurations checked) cheaply.

Example::

    cfg = Config.from_toml("models/estimation.toml")
    cfg = cfg.replace(**{"circuit.sigma": 0.33, "run.seed": 3})
    cfg.to_toml("out/config.toml")

Every error is a :class:`ConfigError` (a ``ValueError``) whose message names
the source, the key as ``section.key``, the offending value and what is
allowed, e.g.::

    models/x.toml: circuit.sigma = -0.1 is not allowed: must be a finite number >= 0

Reading a configuration is one pass: the model file or mapping is read (the task's defaults,
the given values over them: :meth:`Config.from_dict`), validated (types, then one rule per
field: :meth:`Config.validate`) and its task and F-I curve built (once; a plug-in named by
import path is imported there and nowhere else). :meth:`Config.replace` is a new pass over
the changed mapping.

Before a long or large run, :func:`estimate_memory`, :func:`estimate_seconds`
and :func:`check_resources` estimate what the configuration needs on this
machine (they are not part of :meth:`Config.validate`, which does not depend
on the machine).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from .messages import (bare_name, decode_toml, dotted, error_line, fmt, parse_toml, read_model_file, source_name,
                       suggest, toml_value, type_name)
from .durations import TIME_KEYS, given_tau_ms, to_time_units
from .resources import check_resources, estimate_memory, estimate_seconds
from .rules import NUM, RULES
from .schema import (MAX_FILE_BYTES, NONLINEARITIES, SECTIONS, SEED_MAX, STEP_TOLERANCE, TARGETS, TASK_DEFAULTS,
                     TASKS, CircuitParams, ConfigError, InitParams, NonlinearityParams, PlasticityParams,
                     RunParams, StimulusParams, TestParams, fields_of, kind_of)

__all__ = [
    "ConfigError", "Config", "CircuitParams", "NonlinearityParams", "StimulusParams", "PlasticityParams",
    "InitParams", "RunParams", "TestParams", "TASKS", "TARGETS", "NONLINEARITIES", "SECTIONS", "SEED_MAX",
    "STEP_TOLERANCE", "MAX_FILE_BYTES", "estimate_memory", "estimate_seconds", "check_resources",
]

# --------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------


#: False while reading a run directory: a task or F-I curve named by import path is then
#: checked as text, not imported (:func:`no_plugin_imports`).
_PLUGIN_IMPORTS = contextvars.ContextVar("brian_effplast_plugin_imports", default=True)


@contextlib.contextmanager
def no_plugin_imports():
    """Build configurations without importing the task or F-I curve they name by import path.

    Used to read a run directory's ``config.toml`` (whose every key is given,
    so a plug-in's ``config_defaults`` is not needed): such a configuration
    imports its plug-in only when something builds it (:meth:`Config.make_task`,
    :meth:`Config.make_fi_curve`).
    """
    token = _PLUGIN_IMPORTS.set(False)
    try:
        yield
    finally:
        _PLUGIN_IMPORTS.reset(token)


def _defaults_name(task: str, source: str) -> str:
    """The built-in task whose defaults a task starts from (a plug-in's ``config_defaults``):
    the one place where reading a configuration imports a task named by import path."""
    if task in TASK_DEFAULTS:
        return task
    if not _PLUGIN_IMPORTS.get():
        return "estimation"
    from ..blocks.tasks import Task, load_object
    try:
        name = getattr(load_object(task, Task), "config_defaults", "estimation")
    except ValueError as exc:  # one error naming the path
        raise ConfigError(f"{source}: {exc}") from None
    return name if name in TASK_DEFAULTS else "estimation"



@dataclass
class Config:
    """All parameters of one simulation.

    Build with :meth:`default`, :meth:`from_dict` or :meth:`from_toml`; derive
    variants with :meth:`replace`.  Direct construction validates too, but
    ``Config()`` / ``Config(task=...)`` use the *estimation* section defaults
    whatever the task: prefer ``Config.default(task)``.

    Examples
    --------
    >>> from brian_effplast import Config, ConfigError
    >>> cfg = Config.default("estimation")
    >>> cfg.circuit.N, cfg.circuit.sigma, cfg.plasticity.eta_W
    (40, 0.2, 5e-06)
    >>> noisy = cfg.replace(**{"circuit.sigma": 0.33, "run.seed": 3})
    >>> noisy.circuit.sigma, noisy.run.seed, cfg.circuit.sigma
    (0.33, 3, 0.2)
    >>> cfg.steps(5)  # time units -> steps of dt = 0.01
    500
    >>> try:
    ...     cfg.replace(**{"circuit.sigma": -0.1})
    ... except ConfigError as err:
    ...     print(err)
    Config.replace(): circuit.sigma = -0.1 is not allowed: must be a finite number >= 0
    """

    task: str = "estimation"
    circuit: CircuitParams = field(default_factory=CircuitParams)
    nonlinearity: NonlinearityParams = field(default_factory=NonlinearityParams)
    stimulus: StimulusParams = field(default_factory=StimulusParams)
    plasticity: PlasticityParams = field(default_factory=PlasticityParams)
    init: InitParams = field(default_factory=InitParams)
    run: RunParams = field(default_factory=RunParams)
    test: TestParams = field(default_factory=TestParams)
    #: Arguments of a task named by import path (the ``[task_args]`` table).
    task_args: dict = field(default_factory=dict)
    #: Arguments of an F-I curve named by import path in ``nonlinearity.kind``
    #: (the ``[nonlinearity_args]`` table).
    nonlinearity_args: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ---- construction -------------------------------------------------

    @classmethod
    def _unvalidated(cls, task: str, sections: Mapping[str, Mapping[str, Any]]) -> "Config":
        """Build without validation (values are taken as given)."""
        self = object.__new__(cls)
        self.task = task
        self.task_args, self.nonlinearity_args = {}, {}
        for name, sec_cls in SECTIONS.items():
            sec = object.__new__(sec_cls)
            for key, value in sections[name].items():
                setattr(sec, key, value)
            setattr(self, name, sec)
        return self

    @staticmethod
    def _default_sections(task: str, source: str) -> dict:
        sections = {
            name: {f.name: (f.default_factory() if f.default is dataclasses.MISSING else f.default)
                   for f in dataclasses.fields(sec_cls)}
            for name, sec_cls in SECTIONS.items()
        }
        for name, values in TASK_DEFAULTS[_defaults_name(task, source)].items():
            sections[name].update(values)
        return sections

    @classmethod
    def _check_task(cls, task: Any, source: str) -> None:
        allowed, ok = RULES[("", "task")][:2]
        if not isinstance(task, str) or not ok(task, None):
            extra = f" (got {type_name(task)})" if not isinstance(task, str) else ""
            hint = suggest(task, TASKS) if isinstance(task, str) else ""
            hint = f"; did you mean {json.dumps(hint)}?" if hint else ""
            raise ConfigError(error_line(source, "task", task, f"must be {allowed}{extra}{hint}"))

    def _build_plugins(self, source: str) -> list:
        """Build the task and the F-I curve once (kept for :meth:`make_task` and
        :meth:`make_fi_curve`); the problems with ``task_args``, ``nonlinearity_args`` and the
        objects they build."""
        self._built = {}
        errors = []
        for key in ("task_args", "nonlinearity_args"):
            value = getattr(self, key, None)
            if not isinstance(value, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, (bool, int, float, str)) for k, v in value.items()):
                errors.append(error_line(source, key, value, "must be a table of arguments (names to numbers, "
                                                             "booleans or strings)"))
        if errors or not _PLUGIN_IMPORTS.get():
            return errors
        if self.task_args or self.task not in TASKS:
            try:
                self._built["task"] = (self._task_key(), self.make_task())
            except ValueError as exc:
                errors.append(f"{source}: {exc}")
        kind = getattr(self.nonlinearity, "kind", None)
        if self.nonlinearity_args and kind in NONLINEARITIES:
            errors.append(error_line(source, "nonlinearity_args", dict(self.nonlinearity_args),
                                     f"is only for an F-I curve named by import path (nonlinearity.kind = "
                                     f"{json.dumps(kind)} takes its parameters from [nonlinearity])"))
        elif isinstance(kind, str) and kind not in NONLINEARITIES:
            try:
                self._built["fi_curve"] = (self._fi_key(), self.make_fi_curve())
            except ValueError as exc:
                errors.append(f"{source}: {exc}")
        return errors

    def _task_key(self):
        return self.task, tuple(sorted(self.task_args.items()))

    def _fi_key(self):
        nl = self.nonlinearity
        return nl.kind, nl.a, nl.beta, nl.g, tuple(sorted(self.nonlinearity_args.items()))

    def make_task(self):
        """The :class:`~brian_effplast.blocks.tasks.Task` of this configuration (built with ``task_args``;
        a task named by import path was built once, by :meth:`validate`)."""
        key, built = getattr(self, "_built", {}).get("task", (None, None))
        if built is not None and key == self._task_key():
            return built
        from ..blocks.tasks import get_task
        return get_task(self.task, self.task_args)

    def make_fi_curve(self):
        """The :class:`~brian_effplast.blocks.nonlinearity.FICurve` of this configuration (one named by
        import path was built once, by :meth:`validate`)."""
        key, built = getattr(self, "_built", {}).get("fi_curve", (None, None))
        if built is not None and key == self._fi_key():
            return built
        from ..blocks.nonlinearity import get_fi_curve
        nl = self.nonlinearity
        return get_fi_curve(nl.kind, {"a": nl.a, "beta": nl.beta, "g": nl.g}, self.nonlinearity_args)

    @classmethod
    def default(cls, task: str = "estimation") -> "Config":
        """The reference defaults for ``task`` ("estimation" or "classification").

        These are the model parameters of ``models/estimation.toml`` and
        ``models/classification.toml``, but not their run settings: every model
        file of ``models/`` changes ``[run]``, so ``Config.default(task)`` and
        ``Config.from_toml("models/<task>.toml")`` are different runs (compare
        their :meth:`to_dict`). The defaults: ``run.duration = 5000`` time units,
        ``run.checkpoint_every = 0`` (only at the end), ``run.curve_bin = 1``.
        The model files: ``run.curve_bin = 10`` in all of them;
        ``run.duration = 20000`` and ``run.checkpoint_every = 5000`` in
        ``estimation.toml``, ``estimation_narrow_prior.toml``,
        ``noise_levels.toml``, ``estimation_symmetric.toml`` and ``estimation_spiking.toml``;
        50000 and 5000 in
        ``classification.toml`` and ``classification_shifted_prior.toml``; 260000 and
        10000 in ``estimation_full.toml``. Beyond
        ``[run]``, ``estimation_narrow_prior.toml`` sets ``stimulus.kappa = 2``,
        ``classification_shifted_prior.toml`` ``stimulus.mu = pi/4``, ``noise_levels.toml``
        ``circuit.sigma = 0.33``, ``estimation_symmetric.toml`` ``init.W_symmetric = true`` and
        ``estimation_spiking.toml`` ``circuit.neuron = "poisson"``, ``circuit.sigma = 0`` and
        ``circuit.tau_ms = 100``.
        """
        cls._check_task(task, "Config.default()")
        cfg = cls._unvalidated(task, cls._default_sections(task, "Config.default()"))
        return cfg.validate(source="Config.default()")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "<dict>") -> "Config":
        """Build from a nested mapping ``{"task": ..., "circuit": {...}, ...}``.

        Missing keys take the defaults of the task (``task`` itself defaults to
        "estimation").  ``run.seed`` may be ``None`` or missing.
        """
        source = source_name(source)
        if not isinstance(d, Mapping):
            raise ConfigError(
                f"{source}: the configuration = {fmt(d)} is not allowed: must be a table "
                f"(mapping) of sections (got {type_name(d)})"
            )
        task = d.get("task", "estimation")
        cls._check_task(task, source)
        sections = cls._default_sections(task, source)
        errors = []
        given = []
        valid_top = ["task"] + list(SECTIONS)
        plugin_args = {}
        for name, values in d.items():
            if name == "task":
                continue
            if name in ("task_args", "nonlinearity_args"):
                plugin_args[name] = dict(values) if isinstance(values, Mapping) else values
                given.append(name)
                continue
            if not isinstance(name, str) or name not in SECTIONS:
                hint = suggest(str(name), valid_top)
                hint = f"did you mean {hint if hint == 'task' else '[' + hint + ']'}? " if hint else ""
                errors.append(
                    error_line(source, bare_name(str(name)), values,
                           f"unknown section or key; {hint}allowed: task, "
                           + ", ".join(f"[{s}]" for s in SECTIONS))
                )
                continue
            if not isinstance(values, Mapping):
                errors.append(
                    error_line(source, name, values,
                           f"must be a table [{name}] of keys (got {type_name(values)})")
                )
                continue
            known = fields_of(SECTIONS[name])
            for key, value in values.items():
                if not isinstance(key, str) or key not in known:
                    hint = suggest(str(key), known)
                    hint = f"did you mean {name}.{hint}? " if hint else ""
                    errors.append(
                        error_line(source, dotted(name, str(key)), value,
                               f"unknown key in [{name}]; {hint}allowed keys: " + ", ".join(known))
                    )
                    continue
                if (name, key) in TIME_KEYS:  # "200 s" or 2*second: in time units of tau
                    value = to_time_units(value, given_tau_ms(d, sections["circuit"]["tau_ms"]))
                sections[name][key] = value
                given.append(dotted(name, key))
        cfg = cls._unvalidated(task, sections)
        for name, values in plugin_args.items():
            setattr(cfg, name, values)
        return cfg.validate(source=source, _errors=errors, _given=given)

    @classmethod
    def from_toml(cls, path: Union[str, os.PathLike]) -> "Config":
        """Read a TOML model file (see :meth:`from_dict` for the layout).

        Every problem is a :class:`ConfigError` naming the file: it cannot be
        read (missing, a directory, no permission, larger than
        ``MAX_FILE_BYTES``), it is not UTF-8 text (binary, UTF-16 ...; a UTF-8
        byte-order mark is accepted), it is not valid TOML, or a value is not
        allowed.
        """
        source = source_name(os.fsdecode(os.fspath(path)))
        return cls.from_dict(parse_toml(decode_toml(read_model_file(path, source), source), source),
                             source=source)

    @classmethod
    def from_toml_string(cls, text: str, source: str = "<string>") -> "Config":
        """Parse TOML text (see :meth:`from_dict` for the layout)."""
        source = source_name(source)
        if not isinstance(text, str):
            raise ConfigError(f"{source}: cannot read the configuration: TOML text must be a str "
                              f"(got {type_name(text)})")
        return cls.from_dict(parse_toml(text, source), source=source)

    # ---- validation ---------------------------------------------------

    def validate(self, source: str = "<Config>", _errors=None, _given=()) -> "Config":
        """Check every value; raise :class:`ConfigError` listing all problems.

        Integers given for float fields are converted to ``float`` in place.
        Returns ``self``.
        """
        source = source_name(source)
        errors = list(_errors or [])
        self._check_task(self.task, source)
        well_typed = {}  # (section, key) -> bool
        to_float = []
        for name, sec_cls in SECTIONS.items():
            sec = getattr(self, name, None)
            if not isinstance(sec, sec_cls):
                raise ConfigError(
                    error_line(source, name, sec, f"must be a {sec_cls.__name__} (got {type_name(sec)})")
                )
            for f in dataclasses.fields(sec_cls):
                value = getattr(sec, f.name)
                ok, reason = self._check_type(kind_of(f), value)
                if ok:
                    if kind_of(f) == "float" and not isinstance(value, float):
                        to_float.append((sec, f.name))
                else:
                    errors.append(
                        error_line(source, dotted(name, f.name), value,
                               f"must be {self._allowed(name, f.name)}{reason}")
                    )
                well_typed[(name, f.name)] = ok
        failed = {dotted(n, k) for (n, k), ok in well_typed.items() if not ok}
        given = set(_given)
        order = sorted(well_typed.items(), key=lambda item: dotted(*item[0]) not in given)
        for (name, key), ok in order:
            if not ok:
                continue
            rule = RULES[(name, key)]
            pred, deps = rule[1], (rule[2] if len(rule) > 2 else ())
            allowed = None
            if failed.intersection(deps):
                if len(rule) < 4:
                    continue
                allowed, pred = rule[3]  # the check that does not involve the failed fields
            value = getattr(getattr(self, name), key)
            if not pred(value, self):
                failed.add(dotted(name, key))
                if allowed is None:
                    allowed = self._allowed(name, key)
                errors.append(error_line(source, dotted(name, key), value, f"must be {allowed}"))
        if not errors:
            errors += self._build_plugins(source)
        if errors:
            raise ConfigError(errors)
        for sec, key in to_float:  # ints given for float fields
            setattr(sec, key, float(getattr(sec, key)))
        self._source = source
        return self

    def _allowed(self, section: str, key: str) -> str:
        text = RULES[(section, key)][0]
        if callable(text):
            try:
                return text(self)
            except Exception:  # a referenced field is badly typed
                return NUM
        return text

    @staticmethod
    def _check_type(kind: str, value: Any):
        """Return (ok, reason-suffix)."""
        got = f" (got {type_name(value)})"
        if kind == "int?" and value is None:
            return True, ""
        if kind in ("int", "int?"):
            if isinstance(value, int) and not isinstance(value, bool):
                return True, ""
            return False, got
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False, got
            try:
                if math.isfinite(float(value)):
                    return True, ""
            except OverflowError:
                pass
            return False, " (got a non-finite number)" if isinstance(value, float) else " (too large)"
        if kind == "str":
            if isinstance(value, str):
                return True, ""
            return False, got
        if kind == "bool":  # TOML true/false only: 0 and 1 are integers there
            if isinstance(value, bool):
                return True, ""
            return False, got
        raise AssertionError(kind)  # pragma: no cover

    # ---- derived copies and export -------------------------------------

    def to_dict(self) -> dict:
        """Nested plain dict ``{"task": ..., "circuit": {...}, ...}`` (seed may be None);
        ``task_args`` and ``nonlinearity_args`` only when not empty."""
        d = dataclasses.asdict(self)
        for key in ("task_args", "nonlinearity_args"):
            if not d[key]:
                del d[key]
        return d

    def replace(self, updates: Union[Mapping[str, Any], None] = None, /, **kwargs: Any) -> "Config":
        """A validated copy with some values changed.

        Keys are ``"section.key"`` (pass them with ``**{...}`` or as a mapping),
        ``"task"`` (only the task name changes, not the other defaults) or a
        section name with a mapping of its keys::

            cfg.replace(**{"circuit.sigma": 0.3, "run.seed": 3})
            cfg.replace({"circuit.sigma": 0.3}, run={"seed": 3})
        """
        changes = dict(updates or {})
        changes.update(kwargs)
        return self.override(changes, source="Config.replace()")

    def override(self, changes: Mapping[str, Any], source: str = "overrides") -> "Config":
        """:meth:`replace` with the errors attributed to ``source`` (e.g. ``"--set"``)."""
        d = self.to_dict()
        for path, value in changes.items():
            if "." in path:
                section, key = path.split(".", 1)
                if section == "task":
                    raise ConfigError(
                        error_line(source, dotted(section, key), value, "unknown key: task has no sub-keys")
                    )
                # an unknown section or key is reported (with a suggestion) by from_dict
                if not isinstance(d.get(section), dict):
                    d[section] = {}
                d[section][key] = value
            elif path in SECTIONS and isinstance(value, Mapping):
                d[path].update(value)
            elif path in ("task_args", "nonlinearity_args") and isinstance(value, Mapping):
                d[path] = dict(value)
            else:
                d[path] = value
        return type(self).from_dict(d, source=source)

    def to_toml_string(self) -> str:
        """The configuration as TOML text (all fields; seed omitted when None)."""
        lines = [
            "# brian-effplast model configuration (times in time units of tau_ms ms)",
            f"task = {toml_value(self.task)}  # {', '.join(TASKS)} or an import path package.module:Class",
        ]
        if self.task_args:
            lines += ["", "[task_args]  # the task's arguments"]
            lines += [f"{k} = {toml_value(v)}" for k, v in self.task_args.items()]
        for name, sec_cls in SECTIONS.items():
            sec = getattr(self, name)
            lines.append("")
            lines.append(f"[{name}]")
            for f in dataclasses.fields(sec_cls):
                value = getattr(sec, f.name)
                doc = f.metadata.get("doc", "")
                if value is None:
                    lines.append(f"# {f.name} = (unset)  # {doc}")
                    continue
                if kind_of(f) == "float":
                    value = float(value)
                lines.append(f"{f.name} = {toml_value(value)}" + (f"  # {doc}" if doc else ""))
        if self.nonlinearity_args:
            lines += ["", "[nonlinearity_args]  # the arguments of the F-I curve nonlinearity.kind names"]
            lines += [f"{k} = {toml_value(v)}" for k, v in self.nonlinearity_args.items()]
        return "\n".join(lines) + "\n"

    def to_toml(self, path: Union[str, os.PathLike]) -> None:
        """Write :meth:`to_toml_string` to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_toml_string())

    # ---- convenience ----------------------------------------------------

    @property
    def n_out(self) -> int:
        """Decoder outputs of the task (``Task.n_out``: 2 for estimation, 1 for classification)."""
        return self.make_task().n_out

    def lam(self, p: str) -> float:
        """The L2 constant the rule of ``p`` ("W", "C", "b" or "D") uses: ``plasticity.lam_<p>``,
        times ``(circuit.sigma / plasticity.lam_sigma_ref)**2`` for W, C and b when
        ``lam_sigma_ref > 0`` (the paper's ``lambda_W = sigma^2 lambda``).

        Examples
        --------
        >>> cfg = Config.default().replace(**{"circuit.sigma": 0.4, "plasticity.lam_sigma_ref": 0.2})
        >>> round(cfg.lam("W") / cfg.plasticity.lam_W, 12), cfg.lam("D") == cfg.plasticity.lam_D
        (4.0, True)
        """
        if p not in ("W", "C", "b", "D"):
            raise ValueError(f"p = {p!r} is not allowed: choose from W, C, b, D")
        lam, ref = getattr(self.plasticity, f"lam_{p}"), self.plasticity.lam_sigma_ref
        return lam if p == "D" or ref == 0 else lam * (self.circuit.sigma / ref) ** 2

    @property
    def k_bar(self) -> float:
        """Low-pass factor per step of the coactivity averages, dt / tau_bar."""
        return self.circuit.dt / self.plasticity.tau_bar

    def steps(self, duration: float, name: str = "duration", source: str = None) -> int:
        """Number of steps of ``circuit.dt`` in ``duration`` (time units, or a
        Brian2 quantity or string with a time unit: ``0.05*second``, ``"50 ms"``).

        Raises :class:`ConfigError` unless ``duration`` is a finite number >= 0
        and a whole number of steps (relative tolerance ``STEP_TOLERANCE``).
        ``name`` (e.g. ``"run.duration"``) and ``source`` (default: where the
        configuration came from) are used in the message.
        """
        duration = to_time_units(duration, self.circuit.tau_ms)
        source = source or getattr(self, "_source", "<Config>")
        dt = self.circuit.dt
        allowed = f"must be a whole number of steps of circuit.dt = {fmt(dt)}"
        ok, reason = self._check_type("float", duration)
        if not ok or duration < 0:
            raise ConfigError(error_line(source, name, duration, f"{allowed} (a finite number >= 0){reason}"))
        x = float(duration) / dt
        if not math.isfinite(x):  # (dt is checked by validate(); this guards a Config changed in place)
            raise ConfigError(error_line(source, "circuit.dt", dt, f"is too small for {name} = {fmt(duration)}"))
        n = round(x)
        if abs(x - n) > STEP_TOLERANCE * max(1.0, abs(x)):
            raise ConfigError(error_line(source, name, duration, f"{allowed} (it is {x!r} steps)"))
        return int(n)
