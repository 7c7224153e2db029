"""The Brian2 group that runs a task's code every step."""

from brian2 import NeuronGroup, linked_var

from ._groups import attach, attached_clock, drop_idle_state_updater
from .tasks import get_task

__all__ = ["TaskReadout"]


class TaskReadout(NeuronGroup):
    """
    TaskReadout(task, stimulus, **kwds)

    One element per replica holding the readouts ``y_k`` (linked to the
    sums a `Decoder` computes), the reward ``alpha`` and the decoder
    errors ``delta_k``, computed by the task's code once per step. It also
    accumulates ``alpha_acc`` (sum of rewards, for learning curves) and sets
    the learning gate ``learn = plastic*(t >= t_on)`` read by every rule.

    Parameters
    ----------
    task : `Task` or str
    stimulus : `LangevinStimulus`
        Source of ``theta`` (linked, one per replica).
    code : bool
        Run the task's code (default). ``False``: ``alpha`` and ``delta_k``
        are written by something else (a reward computed in Python,
        :func:`~brian_effplast.blocks.rewards.reward_operation`, placed before
        ``reward_code`` in the step); the group still sets the gate and
        accumulates ``alpha_acc``.
    kwds
        Passed to `NeuronGroup`; the group runs on ``stimulus``'s clock
        unless ``clock=`` or ``dt=`` gives another.
    """

    def __init__(self, task, stimulus, code=True, name="readout*", **kwds):
        task = get_task(task)
        lines = ["theta : 1 (linked)", "alpha : 1", "alpha_acc : 1",
                 "plastic : 1 (shared, constant)", "t_on : second (shared, constant)",
                 "learn : 1 (shared)"]
        lines += [f"y_{k} : 1 (linked)" for k in range(task.n_out)]  # to the Decoder's outputs
        lines += [f"delta_{k} : 1" for k in range(task.n_out)]
        namespace = dict(kwds.pop("namespace", {}))
        namespace.update(task.namespace)
        kwds["clock"] = attached_clock(stimulus, kwds, "TaskReadout")
        super().__init__(len(stimulus), "\n".join(lines) + "\n" + task.variables,
                         namespace=namespace, name=name, **kwds)
        attach(self, task=task)
        self.theta = linked_var(stimulus, "theta")
        self.plastic = 1
        code = "learn = plastic*int(t >= t_on)\n" + (task.code if code else "") + "\nalpha_acc += alpha"
        reward_code = self.run_regularly(code, when="groups", order=self.order,
                                         name=self.name + "_reward")
        self.contained_objects.append(reward_code)
        attach(self, reward_code=reward_code)
        drop_idle_state_updater(self)
