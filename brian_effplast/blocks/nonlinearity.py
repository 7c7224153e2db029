"""F-I curves (the paper's ``f``): ``f``, ``f^-1``, the integral of ``f^-1`` and ``f'``.

Each curve gives its inverse as a Brian2 expression in ``r`` (used in the
circuit's equations) and NumPy versions of ``f``, ``f^-1`` and
``F(r) = integral_0^r f^-1(x) dx`` (the single-neuron term of the energy,
Eq. 3). The slope ``f'`` (a Brian2 expression in ``x`` and its NumPy
version) is optional: only the REINFORCE rule uses it. So is ``f`` itself as
a Brian2 expression in ``x``: only spiking neurons, whose firing rate is
``f`` of their input, use it. A user's curve subclasses :class:`FICurve` and
passes :func:`check_fi_curve`.
"""

import re

import numpy as np
from scipy.special import spence

__all__ = ["FICurve", "Softplus", "check_fi_curve", "get_fi_curve", "log1p_function", "FI_CURVES"]


class FICurve:
    """An invertible F-I curve.

    Subclasses set :attr:`finv_expr` (a Brian2 expression in ``r`` whose
    constants are in :attr:`namespace`; besides Brian2's functions it may call
    ``fi_log1p``, see :func:`log1p_function`) and implement :meth:`f`,
    :meth:`finv` and :meth:`finv_integral` on NumPy arrays. For the
    REINFORCE rule (``plasticity.rule = "reinforce"``) they also set
    :attr:`fprime_expr` and implement :meth:`fprime`; for spiking neurons
    (``circuit.neuron = "poisson"``, :class:`~brian_effplast.blocks.spiking.PoissonPopulation`)
    they set :attr:`f_expr`.
    """

    #: Brian2 expression for ``f^-1(r)``.
    finv_expr = None
    #: Brian2 expression for the slope ``f'(x)`` (optional: ``None`` when the curve has none).
    fprime_expr = None
    #: Brian2 expression for ``f(x)``, the NumPy :meth:`f` in Brian2's language (optional:
    #: ``None`` when the curve has none; spiking neurons fire at ``f`` of their input).
    f_expr = None
    #: Constants used by :attr:`finv_expr`, :attr:`fprime_expr` and :attr:`f_expr`.
    namespace = {}

    def f(self, x):
        """The rate ``f(x)`` for an input ``x`` (NumPy arrays)."""
        raise NotImplementedError

    def finv(self, r):
        """The inverse ``f^-1(r)``, the NumPy twin of :attr:`finv_expr`."""
        raise NotImplementedError

    def finv_integral(self, r):
        """``F(r) = integral_0^r f^-1(x) dx``."""
        raise NotImplementedError

    def fprime(self, x):
        """``f'(x)`` (needed with :attr:`fprime_expr`)."""
        raise NotImplementedError


class Softplus(FICurve):
    """``f(x) = beta*log(1 + exp(a + g*x))``, the reference F-I curve.

    Parameters
    ----------
    a : float
        Offset (dimensionless).
    beta : float
        Output scale, ``> 0``.
    g : float
        Gain, ``> 0``.

    Examples
    --------
    >>> from brian_effplast import Softplus, check_fi_curve
    >>> curve = Softplus(a=0.0, beta=1 / 30, g=30.0)  # the reference parameters
    >>> r = np.array([0.001, 0.1, 10.0])
    >>> np.allclose(curve.f(curve.finv(r)), r)
    True
    >>> curve.finv_expr  # f^-1 in Brian2's equation language, constants in curve.namespace
    '(r/fi_beta + fi_log1p(-exp(-r/fi_beta)) - fi_a)/fi_g'
    >>> float(curve.fprime(0.0))  # f'(x) = beta*g/(1 + exp(-(a + g*x))): beta*g/2 at x = 0
    0.5
    >>> check_fi_curve(curve, r_min=0.001, r_max=100.0)
    True
    """

    def __init__(self, a=0.0, beta=1 / 30, g=30.0):
        for name, value in (("beta", beta), ("g", g)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"Softplus {name} = {value!r} is not allowed: must be a finite number > 0")
        if not np.isfinite(a):
            raise ValueError(f"Softplus a = {a!r} is not allowed: must be a finite number")
        self.a, self.beta, self.g = float(a), float(beta), float(g)
        # log(exp(u) - 1) written as u + log1p(-exp(-u)): finite for large rates.
        self.finv_expr = "(r/fi_beta + fi_log1p(-exp(-r/fi_beta)) - fi_a)/fi_g"
        # beta*g*sigmoid(u), u = a + g*x, as beta*g*exp(min(u, 0))/(1 + exp(-|u|)): no exp of a
        # large positive number, so finite at any input (also under -ffast-math)
        u = "(fi_a + fi_g*x)"
        self.fprime_expr = f"fi_beta*fi_g*exp(0.5*({u} - abs({u})))/(1 + exp(-abs({u})))"
        # beta*log(1 + exp(u)) as beta*(max(u, 0) + log1p(exp(-|u|))): the same, finite at any input
        self.f_expr = f"fi_beta*(clip({u}, 0, inf) + fi_log1p(exp(-abs({u}))))"
        self.namespace = {"fi_a": self.a, "fi_beta": self.beta, "fi_g": self.g}

    def __repr__(self):
        return f"Softplus(a={self.a!r}, beta={self.beta!r}, g={self.g!r})"

    def f(self, x):
        return self.beta * np.logaddexp(0.0, self.a + self.g * np.asarray(x, dtype=float))

    def finv(self, r):
        u = np.asarray(r, dtype=float) / self.beta
        return (u + np.log1p(-np.exp(-u)) - self.a) / self.g

    def fprime(self, x):
        u = self.a + self.g * np.asarray(x, dtype=float)
        return self.beta * self.g * np.exp(np.minimum(u, 0.0)) / (1.0 + np.exp(-np.abs(u)))

    def finv_integral(self, r):
        # integral_0^r log(exp(x/beta) - 1) dx = r^2/(2 beta) + beta*(Li2(exp(-r/beta)) - pi^2/6)
        r = np.asarray(r, dtype=float)
        li2 = spence(1.0 - np.exp(-r / self.beta))
        return (r**2 / (2 * self.beta) + self.beta * (li2 - np.pi**2 / 6) - self.a * r) / self.g


_LOG1P = []


def log1p_function():
    """``log1p`` as a Brian2 `Function` whose numpy-target code is ``numpy.log1p`` itself.

    Brian2's own ``log1p`` runs, on the numpy target, through a wrapper that
    checks units on every call and in doing so formats the whole result
    array into an error message it then discards; in the circuit's step (one
    call per step, in ``f^-1``) that was most of a numpy-target step. C++
    and Cython call the C library's ``log1p``, as Brian2's own does. Made
    once, on first use (importing Brian2 then, not when this module is
    imported).
    """
    if not _LOG1P:
        from brian2 import Function
        f = Function(np.log1p, arg_units=[1], return_unit=1)
        f.implementations.add_implementation("numpy", code=np.log1p)
        for target in ("cpp", "cython"):
            f.implementations.add_implementation(target, code=None, name="log1p")
        _LOG1P.append(f)
    return _LOG1P[0]


def check_fi_curve(curve, r_min=0.001, r_max=100.0, n=2001, rtol=1e-7):
    """Check that ``curve.f`` inverts ``curve.finv`` on ``[r_min, r_max]``.

    Also checks that ``finv_integral`` differentiates to ``finv`` and, when
    the curve has a :attr:`~FICurve.fprime_expr`, that ``fprime`` is the
    derivative of ``f`` at the inputs ``f^-1(r)``; an :attr:`~FICurve.f_expr`
    must be an expression in ``x`` (that it computes ``f`` is checked where
    Brian2 evaluates it, ``tests/test_spiking.py``). Raises ``ValueError``
    naming the worst point otherwise; returns ``True``.
    """
    if not isinstance(curve, FICurve):
        raise TypeError(f"{curve!r} is not an FICurve (needs f, finv, finv_integral, finv_expr)")
    if not isinstance(curve.finv_expr, str) or "r" not in curve.finv_expr:
        raise ValueError(f"{type(curve).__name__}.finv_expr = {curve.finv_expr!r} is not allowed: "
                         "must be a Brian2 expression in r")
    r = np.geomspace(r_min, r_max, n)
    with np.errstate(all="ignore"):
        back = curve.f(curve.finv(r))
    err = np.abs(back - r) / r
    bad = ~np.isfinite(err) | (err > rtol)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{type(curve).__name__}: f(f^-1(r)) = {float(back[k])!r} at r = {float(r[k])!r}: "
                         f"the inverse does not invert f on the allowed rates [{r_min}, {r_max}] "
                         f"(relative error must be <= {rtol})")
    # F' = f^-1, by central differences on the interior
    h = 1e-6 * r[1:-1]
    dF = (curve.finv_integral(r[1:-1] + h) - curve.finv_integral(r[1:-1] - h)) / (2 * h)
    target = curve.finv(r[1:-1])
    derr = np.abs(dF - target) / np.maximum(1.0, np.abs(target))
    if not np.all(derr <= 1e-4):
        k = int(np.argmax(np.where(np.isfinite(derr), derr, np.inf)))
        raise ValueError(f"{type(curve).__name__}: d/dr finv_integral = {float(dF[k])!r} differs from "
                         f"finv = {float(target[k])!r} at r = {float(r[k + 1])!r}")
    if curve.f_expr is not None and (not isinstance(curve.f_expr, str) or not re.search(r"\bx\b", curve.f_expr)):
        raise ValueError(f"{type(curve).__name__}.f_expr = {curve.f_expr!r} is not allowed: "
                         "must be a Brian2 expression in x")
    if curve.fprime_expr is not None:
        if not isinstance(curve.fprime_expr, str) or not re.search(r"\bx\b", curve.fprime_expr):
            raise ValueError(f"{type(curve).__name__}.fprime_expr = {curve.fprime_expr!r} is not allowed: "
                             "must be a Brian2 expression in x")
        # f' = df/dx, by central differences at the inputs of the allowed rates
        x = curve.finv(r)
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        df = (curve.f(x + h) - curve.f(x - h)) / (2 * h)
        with np.errstate(all="ignore"):
            slope = curve.fprime(x)
        serr = np.abs(slope - df) / np.maximum(np.abs(df), 1e-3 * np.max(np.abs(df)))
        if not np.all(serr <= 1e-4):
            k = int(np.argmax(np.where(np.isfinite(serr), serr, np.inf)))
            raise ValueError(f"{type(curve).__name__}: fprime = {float(slope[k])!r} differs from df/dx = "
                             f"{float(df[k])!r} at x = {float(x[k])!r} (r = {float(r[k])!r})")
    return True


#: The F-I curves named by ``nonlinearity.kind`` (besides import paths).
FI_CURVES = {"softplus": Softplus}


def get_fi_curve(kind, params=None, args=None):
    """The F-I curve of a configuration: ``kind`` is a name of :data:`FI_CURVES`
    (built from ``params``, the ``[nonlinearity]`` values it takes) or an
    import path ``"package.module:Class"`` of an :class:`FICurve` subclass
    (built with ``args``, the ``[nonlinearity_args]`` table)."""
    from .tasks import is_import_path, load_object
    if isinstance(kind, str) and kind in FI_CURVES:
        return FI_CURVES[kind](**dict(params or {}))
    if is_import_path(kind):
        cls = load_object(kind, FICurve, "nonlinearity.kind")
        try:
            return cls(**dict(args or {}))
        except TypeError as exc:
            raise ValueError(f"nonlinearity.kind = {kind!r}: cannot build it with the arguments "
                             f"{dict(args or {})!r} ({exc})") from None
    raise ValueError(f"nonlinearity.kind = {kind!r} is not allowed: must be one of {sorted(FI_CURVES)} or an "
                     "import path 'package.module:Class' of an FICurve subclass")
