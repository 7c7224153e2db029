import shutil

import pytest

#: The slow tier's files, longest first (summed test time from empty caches on 2 cores: 83 s for
#: the first, 2.5 s for the last, on a machine where the slow tier took 325 s). ``make test-slow``
#: hands out whole files (``--dist loadfile``) to the next free worker in this order, which keeps
#: both cores busy to the end and keeps the tests sharing a module fixture (trained networks, a
#: toy figures run) in one process. A file not listed comes after these. The files added last
#: (rundir safety, examples, dense rule, dynamics only, panels, authors' protocol) are
#: placed by their times on a loaded machine; measure them with --durations=0 on a quiet one.
LONGEST_FIRST = ["test_interrupts.py", "test_figures.py", "test_rundir_safety.py", "test_tutorials.py",
                 "test_wheel.py", "test_oracle_match.py", "test_claims.py", "test_examples.py", "test_spiking.py",
                 "test_model_behaviour.py", "test_cli.py", "test_sweep.py", "test_demo.py", "test_theory.py",
                 "test_reinforce.py", "test_dense_rule.py", "test_symmetric_w.py", "test_standalone_cache.py",
                 "test_dynamics_only.py", "test_rule_notebook.py", "test_building_blocks.py", "test_panels.py",
                 "test_authors_protocol.py", "test_plugin_task.py"]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``standalone`` (or run on the ``cpp_standalone`` or ``cython``
    target, by their parameters) need a C++ compiler: skipped where there is none.
    Every test that compiles belongs to the slow tier: a compilation from an empty
    cache takes tens of seconds, so the quick tier (``-m "not slow"``) compiles
    nothing."""
    for item in items:
        if "standalone" in item.nodeid or "cython" in item.nodeid:
            item.add_marker(pytest.mark.standalone)
        if "standalone" in item.keywords:
            item.add_marker(pytest.mark.slow)
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order kept
    if shutil.which("c++") or shutil.which("g++") or shutil.which("clang++"):
        return
    skip = pytest.mark.skip(reason="no C++ compiler: cpp_standalone tests need one")
    for item in items:
        if "standalone" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _quiet_brian():
    import brian2
    brian2.prefs.reset_to_defaults()
    brian2.BrianLogger.log_level_warn()
    yield
