"""The stimulus: a slow Langevin angle on a von Mises prior, and the input layer.

:class:`LangevinStimulus` holds one angle ``theta`` per replica,

    d theta = -kappa*sigma_s**2*sin(theta - mu) dt + sigma_s dB   (time units),

wrapped to ``[-pi, pi)`` after every step. Its stationary law is von Mises
with mean ``mu`` and concentration ``2*kappa`` (the authors' process, see
:func:`~brian_effplast.blocks.prior.stationary_kappa`). :class:`InputPopulation` turns it into the
rectified-cosine rates ``s_k = max(0, cos(theta - theta_k))`` of Eq. 1.
"""

import numpy as np
from brian2 import NeuronGroup, check_units, linked_var, second

from ._groups import ProjectedEuler, attach, attached_clock, drop_idle_state_updater, noise_array
from .prior import preferred_angles

__all__ = ["LangevinStimulus", "InputPopulation"]


class LangevinStimulus(NeuronGroup):
    """
    LangevinStimulus(replicas, mu, kappa, sigma_s, tau, noise=None, **kwds)

    One slowly drifting angle ``theta`` per replica (Euler-Maruyama, then
    wrapped to ``[-pi, pi)`` in the same state update).

    Parameters
    ----------
    replicas : int
        Number of independent angles.
    mu, kappa, sigma_s : float
        Prior mean (radians), drift strength (dimensionless, ``>= 0``) and
        diffusion (per square-root time unit). ``mu``, ``kappa`` and
        ``sigma_s`` are ``(shared, constant)`` variables: change them between
        runs or with ``run_args``.
    tau : `Quantity`
        The time unit (second).
    noise : ndarray, optional
        Standard normal draws of shape ``(steps, replicas)`` to use instead
        of Brian2's ``xi`` (reproducible comparisons across targets).
    kwds
        Passed to `NeuronGroup` (``clock``, ``order``, ``name``...).
    """

    @check_units(tau=second)
    def __init__(self, replicas, mu, kappa, sigma_s, tau, noise=None, name="stimulus*", **kwds):
        if kappa < 0 or not np.isfinite(kappa):
            raise ValueError(f"kappa = {kappa!r} is not allowed: must be a finite number >= 0")
        if sigma_s < 0 or not np.isfinite(sigma_s):
            raise ValueError(f"sigma_s = {sigma_s!r} is not allowed: must be a finite number >= 0")
        namespace = dict(kwds.pop("namespace", {}))
        namespace["tau"] = tau
        if noise is None:
            kick = "sigma_s*xi_s*tau**-0.5"
        else:
            kick = "sigma_s*z_stim(t, i)/sqrt(tau*dt)"
            namespace["z_stim"] = noise_array(noise, replicas, kwds.get("clock"), "stimulus noise",
                                              name=name.rstrip("*") + "_noise" + ("*" if name.endswith("*") else ""))
        eqs = f"""
        dtheta/dt = -kappa*sigma_s**2*sin(theta - mu)/tau + {kick} : 1
        mu : 1 (shared, constant)
        kappa : 1 (shared, constant)
        sigma_s : 1 (shared, constant)
        """
        wrap = ProjectedEuler("theta = theta - 2*pi*floor((theta + pi)/(2*pi))")
        super().__init__(replicas, eqs, method=wrap, namespace=namespace, name=name, **kwds)
        self.mu, self.kappa, self.sigma_s = mu, kappa, sigma_s


class InputPopulation(NeuronGroup):
    """
    InputPopulation(stimulus, N_s, **kwds)

    ``N_s`` input units per replica with rates ``s = max(0, cos(theta - theta_pref))``
    (Eq. 1), computed once per step from the replica's stimulus.

    Parameters
    ----------
    stimulus : `LangevinStimulus`
        Source of ``theta`` (linked).
    N_s : int
        Units per replica, preferred angles tiling ``[-pi, pi)``.
    kwds
        Passed to `NeuronGroup`; the group runs on ``stimulus``'s clock
        unless ``clock=`` or ``dt=`` gives another.
    """

    def __init__(self, stimulus, N_s, name="inputs*", **kwds):
        if int(N_s) != N_s or N_s < 1:
            raise ValueError(f"N_s = {N_s!r} is not allowed: must be an integer >= 1")
        N_s = int(N_s)
        replicas = len(stimulus)
        eqs = """
        s : 1
        theta : 1 (linked)
        theta_pref : 1 (constant)
        replica : integer (constant)
        """
        kwds["clock"] = attached_clock(stimulus, kwds, "InputPopulation")
        super().__init__(replicas * N_s, eqs, name=name, **kwds)
        attach(self, N_s=N_s)
        self.replica = np.repeat(np.arange(replicas), N_s)
        self.theta_pref = np.tile(preferred_angles(N_s), replicas)
        self.theta = linked_var(stimulus, "theta", index="replica")
        rates = self.run_regularly("s = clip(cos(theta - theta_pref), 0, inf)",
                                   when="groups", order=self.order, name=self.name + "_rates")
        self.contained_objects.append(rates)
        attach(self, rates=rates)
        drop_idle_state_updater(self)
