import shutil

import pytest


def pytest_collection_modifyitems(config, items):
    """Tests marked ``standalone`` need a C++ compiler: skipped where there is none."""
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
