"""Synapse rules stepped without index arrays when the synapses are all to all in blocks.

Brian2 steps a synaptic rule over the synapses in their order, reading each
synapse's presynaptic and postsynaptic index (and any other per-synapse
index, such as the replica a plastic synapse reads its reward from) from
arrays. For the paper's layout, all to all within each of ``blocks`` equal
blocks (synapse order: block, presynaptic, postsynaptic unit; see
:func:`~brian_effplast.blocks.plasticity.replica_pairs`), those indices
follow from the synapse's position. On ``cpp_standalone``
:class:`SynapseRule` then computes them from three nested loops (template
``templates/dense_synapses.cpp``): the postsynaptic variables and the
weights are contiguous in the innermost loop, so the compiler vectorises it,
and the index arrays are not read at all. The statements, their order, and
the order in which a postsynaptic current adds up its synapses are Brian2's
own: the results are those of the generic loop (to rounding: the
vectorised loop may contract multiply-adds differently).

Copies of one network (the test protocols run a network's trials side by
side, each block a copy with the same weights) can share their weights: with
:attr:`SynapseRule.shared` set, a rule that only reads its synapses (a current
``I_post += w*r_pre``) reads every group of ``shared`` consecutive blocks
from the group's first block. The result is the same; the loop reads one
copy of the weights per group rather than one per block, which keeps them
in the cache (2000 copies of 40 x 40 weights are 26 MB, 20 of them 0.26 MB).

On the runtime targets, and for any other connection pattern, the rule is
Brian2's own ``run_regularly``.
"""

import re

from brian2 import CodeRunner
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.devices.device import get_device

__all__ = ["SynapseRule", "DenseCodeObject"]


class DenseCodeObject(CPPStandaloneCodeObject):
    """`CPPStandaloneCodeObject` whose templates include ``dense_synapses`` (this package's)."""

    templater = CPPStandaloneCodeObject.templater.derive("brian_effplast.blocks")


class SynapseRule(CodeRunner):
    """
    SynapseRule(synapses, code, **kwds)

    The per-step rule of ``synapses`` (what ``synapses.run_regularly(code, ...)``
    makes), generated without index arrays on ``cpp_standalone`` once
    :attr:`layout` is set.

    Attributes
    ----------
    layout : tuple of int or None
        ``(blocks, n_pre, n_post)``: the synapses are all to all within each
        of ``blocks`` blocks of ``n_pre`` presynaptic and ``n_post``
        postsynaptic units, in the order block, presynaptic, postsynaptic
        unit, and nothing else. ``None`` (default): any pattern.
    indices : dict
        Per-synapse integer variables (beside the synaptic indices) that
        hold the block of the synapse, e.g. ``{"replica_syn"}``: computed, not read.
    shared : int
        Every group of ``shared`` consecutive blocks has the same synaptic
        values: the dense loop reads them from the group's first block
        (default 1: every block its own; the generic loop reads each synapse's
        own, which is the same). Only for a rule that writes no synaptic
        variable; the number of blocks must be a multiple of it.
    """

    def __init__(self, synapses, code, indices=(), **kwds):
        super().__init__(synapses, "stateupdate", code=code, **kwds)
        self.layout = None
        self.indices = set(indices)
        self._shared = 1

    @property
    def shared(self):
        return self._shared

    @shared.setter
    def shared(self, value):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{self.name}: shared = {value!r} is not allowed: must be an integer >= 1")
        if value > 1:
            synaptic = {name for name, var in self.group.variables.items()
                        if getattr(getattr(var, "owner", None), "name", None) == self.group.name}
            written = {m.group(1) for m in re.finditer(r"^\s*(\w+)\s*[-+*/]?=", self.abstract_code, re.M)}
            if written & synaptic:
                raise ValueError(f"{self.name}: shared = {value} is not allowed for a rule that writes the "
                                 f"synaptic variables {sorted(written & synaptic)}: its blocks would differ")
        self._shared = int(value)

    def before_run(self, run_namespace):
        dense = self.layout is not None and isinstance(get_device(), CPPStandaloneDevice)
        self.template = "dense_synapses" if dense else "stateupdate"
        self.codeobj_class = DenseCodeObject if dense else None
        self.template_kwds = None
        if dense:
            blocks, n_pre, n_post = self.layout
            if blocks % self.shared:
                raise ValueError(f"{self.name}: shared = {self.shared} is not allowed: it must divide the "
                                 f"{blocks} blocks")
            computed = {"_presynaptic_idx": "_q*_n_pre + _j", "_postsynaptic_idx": "_q*_n_post + _i"}
            computed.update({name: "_q" for name in self.indices})
            self.template_kwds = dict(blocks=blocks, n_pre=n_pre, n_post=n_post, shared=self.shared,
                                      computed=computed)
        super().before_run(run_namespace)
