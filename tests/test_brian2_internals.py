"""The Brian2 internals of brian_effplast.circuit.brian2_internals: present in the
installed Brian2, and a loud failure or a warned fallback when they change."""

import types

import pytest

from brian_effplast.circuit import brian2_internals as bi

TEMPLATE_LOOP = """
    while(clock && running)
    {
        for(size_t i=0; i<objs.size(); i++) { }
        current = std::clock();
        elapsed_realtime = (double)(current - start)/({{openmp_pragma('get_wtime')}}CLOCKS_PER_SEC);
    }
    Network::_globally_running = false;
"""


def test_the_installed_brian2_has_every_internal_name():
    assert bi.check()


def test_clock_read_is_moved_after_the_loop():
    new, what = bi.clock_read_moved(TEMPLATE_LOOP)
    assert what == "moved"
    loop = new[new.index("while"):new.index("Network::_globally_running")]
    assert "std::clock" not in loop and new.count("std::clock()") == 1


def test_a_brian2_without_the_per_step_read_is_left_alone():
    text = TEMPLATE_LOOP.replace("        current = std::clock();\n", "").replace(
        "        elapsed_realtime = (double)(current - start)/({{openmp_pragma('get_wtime')}}CLOCKS_PER_SEC);\n", "")
    assert bi.clock_read_moved(text) == (text, "absent")


def test_a_changed_template_warns_that_the_step_is_slower():
    changed = TEMPLATE_LOOP.replace("current = std::clock();", "current = std::clock(); // timing")

    class Device:  # the device API brian2_internals relies on
        def generate_network_source(self, writer, compiler):
            writer.write("network.*", types.SimpleNamespace(cpp_file=changed, h_file=""))

    written = {}
    device = Device()
    bi.move_clock_read_out_of_loop(device)
    writer = types.SimpleNamespace(write=lambda name, contents: written.update({name: contents.cpp_file}))
    with pytest.warns(RuntimeWarning, match="1 us slower"):
        device.generate_network_source(writer, "gcc")
    assert written["network.*"] == changed  # unchanged, still correct


def _makefile_template():
    import os
    import brian2
    return open(os.path.join(os.path.dirname(brian2.__file__), "devices", "cpp_standalone", "templates",
                             "makefile")).read()


def test_the_makefile_template_takes_the_unoptimised_rule():
    new, applied = bi.setup_code_unoptimised(_makefile_template())
    assert applied and new.endswith(bi.UNOPTIMISED_RULE) and "objects.o main.o run.o: CXXFLAGS += -O0" in new


def test_the_makefile_template_takes_the_precompiled_header(tmp_path):
    """The step files include a header of the standard headers, one per compiler and flags."""
    template = _makefile_template()
    new, applied = bi.std_header_precompiled(template, tmp_path)
    header, = tmp_path.glob("*/std.h")
    assert applied and f"STD_HEADER = {header}\n" in new and new.startswith(template)
    assert header.read_text().splitlines() == [f"#include <{h}>" for h in bi.STD_HEADERS]
    again, _ = bi.std_header_precompiled(template, tmp_path)
    other, _ = bi.std_header_precompiled(template.replace("{{ compiler_flags }}", "-O2"), tmp_path)
    assert again == new and str(header) not in other and len(list(tmp_path.glob("*/std.h"))) == 2
    # make cannot name a file whose path holds a space: no header, Brian2's makefile
    assert bi.std_header_precompiled(template, tmp_path / "a b") == (template, False)


def test_a_changed_makefile_template_warns_and_keeps_brian2s_flags(tmp_path):
    changed = _makefile_template().replace("%.o : %.cpp", "%.o: %.cc")

    class Device:  # the device API brian2_internals relies on: the generator also reads the writer's files
        def generate_makefile(self, writer, compiler, flags, *rest):
            writer.write("makefile", changed.replace("{{source_files}}", " ".join(writer.source_files)))
            writer.write("other", "untouched")

    written = {}
    device = Device()
    bi.compile_faster(device, tmp_path)
    writer = types.SimpleNamespace(write=written.__setitem__, source_files=["objects.cpp"])
    with pytest.warns(RuntimeWarning, match="files are compiled as Brian2 compiles them"):
        device.generate_makefile(writer, "gcc", "-O3", 1, False)
    assert written["makefile"] == changed.replace("{{source_files}}", "objects.cpp") and written["other"] == "untouched"


def test_missing_names_fail_loudly():
    with pytest.raises(bi.Brian2Changed, match="_last_run_time"):
        bi.last_run(object())
    with pytest.raises(bi.Brian2Changed, match="run_args_arrays"):
        bi.run_args_files(object())
    with pytest.raises(bi.Brian2Changed, match="generate_network_source"):
        bi.move_clock_read_out_of_loop(object())
    with pytest.raises(bi.Brian2Changed, match="generate_makefile"):
        bi.compile_faster(object(), "headers")


def test_reseed_code_names_the_generated_generators():
    """The C++ name the reseed uses exists in Brian2's templates."""
    import os
    import brian2
    root = os.path.join(os.path.dirname(brian2.__file__), "devices", "cpp_standalone", "templates")
    text = "".join(open(os.path.join(root, f)).read() for f in os.listdir(root) if f.endswith((".cpp", ".h")))
    assert "_random_generators" in text
    assert bi.RESEED_CODE.format(seed_array="x").startswith("brian::_random_generators[0].seed(")
