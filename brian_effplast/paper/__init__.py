"""The paper's figures and claims, from runs of its experiments.

::

    experiments  the experiments behind Figs. 1-3 and S1, run at three stages
    figures      make_figures: every panel, figures.json and verdicts.md
    panels       what the panel functions share
    fig1, fig2, fig3  one function per panel
    verdicts     each claim judged by a statistical test across the networks
"""

__all__ = []  # the modules are the API: import from them
