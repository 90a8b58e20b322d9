"""Suppression files in valgrind's format next to LSan's leak: lines, and
--gen-suppressions, whose entries --suppressions reads back."""
import os
import re
import tempfile

import lib
from lib import prog, run


def with_supp(text, args, opts=()):
    with tempfile.NamedTemporaryFile("w", prefix="etrace-supp-", suffix=".supp", delete=False) as f:
        f.write(text)
    try:
        return run(args, etrace_opts=[f"--suppressions={f.name}"] + list(opts)), f.name
    finally:
        os.unlink(f.name)


def leak_functions(r):
    return [f["where"]["function"] for f in r.report["verdict"]["findings"] if f["kind"] == "leak"]


def test_valgrind_entries_suppress_exactly_what_they_match():
    supp = """# heap_leaks stacks: leak_from_network 333, leak_from_cache 222, leak_from_parser 111 bytes
{
   the-cache
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:leak_from_cache
   fun:run_*
}
{
   network-but-only-if-indirect
   Memcheck:Leak
   match-leak-kinds: indirect
   ...
   fun:leak_from_network
}
{
   parser-without-its-caller-in-between
   Memcheck:Leak
   fun:malloc
   fun:leak_from_parser
   fun:main
}
{
   another-kind-read-not-applied
   Memcheck:Cond
   obj:/usr/lib/x86_64-linux-gnu/libz.so.1
}
{
   a-param-entry-with-its-extra-line
   Memcheck:Param
   write(buf)
   fun:write
}
leak:no_function_is_called_this
"""
    r, _ = with_supp(supp, [prog("heap_leaks"), "stacks"], ["--error-exitcode=9"])
    assert r.rc == 9, (r.rc, r.stderr)
    assert leak_functions(r) == ["leak_from_network", "leak_from_parser"], r.report["verdict"]["findings"]
    assert re.search(r"suppressed 222 bytes in 1 block\b", r.text), r.text
    assert r.report["heap"]["settings"]["suppression_rules"] == 6
    # "..." spans frames; an obj: pattern names the module by its file name
    r, _ = with_supp("{\n x\n Memcheck:Leak\n fun:malloc\n ...\n fun:main\n obj:/some/dir/libc.so.*\n}\n",
                     [prog("heap_leaks"), "stacks"], ["--error-exitcode=9"])
    assert r.rc == 0 and leak_functions(r) == [], r.report["verdict"]["findings"]


def test_mangled_cxx_names_and_the_allocating_function():
    entry = "{\n   grow\n   Memcheck:Leak\n   match-leak-kinds: definite\n   fun:%s\n" \
            "   fun:_ZN9inventory4PoolINS_4ItemEE4growEm\n}\n"
    r, _ = with_supp(entry % "_Znam", [prog("cxx_leak"), "leak"], ["--error-exitcode=9"])
    assert r.rc == 0 and leak_functions(r) == [], r.report["verdict"]["findings"]
    # operator new is not operator new[]
    r, _ = with_supp(entry % "_Znwm", [prog("cxx_leak"), "leak"], ["--error-exitcode=9"])
    assert r.rc == 9 and leak_functions(r) == ["inventory::Pool<inventory::Item>::grow(unsigned long)"]


def generated_entries(text):
    sec = text.split("-- suppressions (--gen-suppressions) ")[1].split("\n== end of etrace report")[0] + "\n"
    return re.findall(r"^\{\n.*?^\}\n", sec.split("\n", 1)[1], re.M | re.S)


def test_gen_suppressions_round_trip():
    r = run([prog("heap_leaks"), "stacks"], etrace_opts=["--gen-suppressions"])
    entries = generated_entries(r.text)
    assert len(entries) == 3, r.text
    cache = [e for e in entries if "fun:leak_from_cache" in e]
    assert len(cache) == 1
    assert re.match(r"^\{\n   etrace-leak-heap_leaks-leak_from_cache\n   Memcheck:Leak\n   match-leak-kinds: definite\n"
                    r"   fun:malloc\n   fun:leak_from_cache\n   fun:run_mode\n   fun:main\n", cache[0]), cache[0]
    # the comment before each entry is the verdict's line
    assert re.search(r"^# heap_leaks \(pid \d+\) 222 bytes in 1 block definitely lost, allocated by malloc in "
                     r"leak_from_cache at ", r.text, re.M)
    r2, _ = with_supp(cache[0], [prog("heap_leaks"), "stacks"])
    assert leak_functions(r2) == ["leak_from_network", "leak_from_parser"], r2.report["verdict"]["findings"]
    # C++: valgrind's name for operator new[], demangled frames, obj: for a frame without a name
    r = run([prog("cxx_leak"), "leak"], etrace_opts=["--gen-suppressions"])
    (entry,) = generated_entries(r.text)
    assert "\n   fun:_Znam\n   fun:inventory::Pool<inventory::Item>::grow(unsigned long)\n" in entry, entry
    r2, _ = with_supp(entry, [prog("cxx_leak"), "leak"], ["--error-exitcode=9"])
    assert r2.rc == 0 and leak_functions(r2) == [], r2.report["verdict"]["findings"]
    r = run([prog("demo")], etrace_opts=["--gen-suppressions", "--heap=off"])
    assert "-- suppressions (--gen-suppressions) " in r.text and "no leak listed: nothing to suppress" in r.text


def test_bad_suppression_files_are_one_line_errors():
    for text, line, why in (("{\n x\n Memcheck:Leak\n fun:main\n", 4, "end of file inside an entry"),
                            ("{\n x\n Memcheck:Leak\n}\n", 4, "entry without frames"),
                            ("{\n x\n Memcheck:Leak\n match-leak-kinds: definitely\n fun:f\n}\n", 4,
                             "match-leak-kinds takes definite, indirect, possible, reachable, all or none"),
                            ("{\n x\n Memcheck:Leak\n fun:f\n frame:g\n}\n", 5, "expected fun:, obj:, src: or ..., not 'frame:g'"),
                            ("{\n x\n Memcheck:Leak\n fun:f\n{\n", 5, "'{' inside an entry"),
                            ("{\n x\n Leak\n fun:f\n}\n", 3, "expected Tool:Kind"),
                            ("{\n}\n", 2, "entry without a name"),
                            ("leak:ok\nrace:x\n", 2, "unknown suppression type")):
        r, path = with_supp(text, [prog("demo")])
        assert r.rc == 125, (text, r.rc, r.stderr)
        msg = [x for x in r.stderr.splitlines() if x.startswith("etrace: ")]
        assert len(msg) == 1 and f"{path}:{line}: {why}" in msg[0], (text, r.stderr)
