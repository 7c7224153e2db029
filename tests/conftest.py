import shutil

import pytest


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
