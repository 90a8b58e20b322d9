"""The CI formats: --sarif (validated against the SARIF 2.1.0 JSON schema
with python3-jsonschema), --junit (parsed strictly, its structure checked),
GitHub Actions annotations (escaped as the runner unescapes); and the
documented recipes with the real tools from Debian's packages: meson
--wrapper, CTest (the whole run and each test's command), pytest."""
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import lib
from lib import prog, run

# tests/install-deps.sh puts it there (npm: @microsoft/jest-sarif)
SARIF_SCHEMA = "/usr/local/share/etrace-tests/sarif-2.1.0-rtm.5.json"
SUITE = os.path.join(lib.PROGS, "suite")
CIPROJ = os.path.join(lib.ROOT, "testprogs", "ciproj")
FAIL_MSG = 'fail.c: check failed: parse_answer("41") == 42, got 41'


def validator():
    import jsonschema
    with open(SARIF_SCHEMA) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_valid_sarif(doc):
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [(list(e.path), e.message) for e in errors[:5]]


def run_ci(args, opts=(), env=None):
    """etrace run with --sarif and --junit next to the reports; returns the
    result, the SARIF document and the parsed JUnit tree."""
    with tempfile.TemporaryDirectory(prefix="etrace-ci-") as d:
        sp, jp = os.path.join(d, "r.sarif"), os.path.join(d, "r.xml")
        r = run(args, etrace_opts=[f"--sarif={sp}", f"--junit={jp}", f"--source-root={lib.ROOT}"] + list(opts),
                env=env)
        with open(sp) as f:
            sarif = json.load(f)
        return r, sarif, junit_tree(jp)


def junit_tree(path):
    """Parsed by expat (malformed XML raises), then the structure CI
    dashboards read: testsuites > testsuite > testcase, counts that add up."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    suites = list(root)
    assert suites and all(s.tag == "testsuite" for s in suites), [s.tag for s in suites]
    total = fails = 0
    for s in suites:
        for a in ("name", "tests", "failures", "errors", "time", "timestamp"):
            assert a in s.attrib, (a, s.attrib)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", s.get("timestamp"))
        cases = [c for c in s if c.tag == "testcase"]
        assert all(c.tag in ("testcase", "properties") for c in s), [c.tag for c in s]
        assert int(s.get("tests")) == len(cases) >= 1
        nf = 0
        for c in cases:
            assert c.get("name") and c.get("classname") and float(c.get("time")) >= 0, c.attrib
            assert all(x.tag in ("failure", "system-out", "system-err") for x in c), [x.tag for x in c]
            f = c.findall("failure")
            assert len(f) <= 1
            if f:
                assert f[0].get("message") and f[0].get("type"), f[0].attrib
                nf += 1
        assert int(s.get("failures")) == nf, (s.get("failures"), nf)
        float(s.get("time"))
        total += len(cases)
        fails += nf
    assert int(root.get("tests")) == total and int(root.get("failures")) == fails
    return root


def cases(tree):
    return {c.get("classname"): c for c in tree.iter("testcase")}


def results(sarif):
    assert len(sarif["runs"]) == 1
    return sarif["runs"][0]["results"]


def check_results_match_verdict(r, sarif):
    """One result per verdict finding, same kind, same place."""
    findings = r.report["verdict"]["findings"]
    res = results(sarif)
    assert [x["ruleId"] for x in res] == [f["kind"] for f in findings], (res, findings)
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    base = sarif["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base == "file://" + lib.ROOT + "/", base
    for x, f in zip(res, findings):
        assert rules[x["ruleIndex"]]["id"] == x["ruleId"]
        assert x["message"]["text"].startswith(f"{f['program']} (pid {f['pid']}")
        loc = x["locations"][0]["physicalLocation"]
        w = f["where"]
        if w and w["file"] and w["line"]:
            # the program's own source, named from the source root
            assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT", loc
            assert loc["artifactLocation"]["uri"] == "testprogs/" + os.path.basename(w["file"]), loc
            assert loc["region"]["startLine"] == w["line"]
            assert x["locations"][0]["logicalLocations"][0]["name"] == w["function"]
        if "stacks" in x:
            frames = x["stacks"][0]["frames"]
            flow = x["codeFlows"][0]["threadFlows"][0]["locations"]
            assert len(flow) == len(frames) >= 1
            # the flow runs from the outermost call in to the finding
            assert flow[-1]["location"] == frames[0]["location"]
            assert flow[0]["location"] == frames[-1]["location"]
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == r.rc
    assert sarif["runs"][0]["properties"]["summary"] == r.report["verdict"]["summary"]


def test_sarif_validates_against_the_schema_with_one_result_per_finding():
    v = validator()
    # the validator itself rejects what the schema forbids
    assert list(v.iter_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}))
    r, sarif, _ = run_ci([prog("crash_null")])
    assert_valid_sarif(sarif)
    bad = copy.deepcopy(sarif)
    bad["runs"][0]["results"][0]["level"] = "fatal"
    assert list(v.iter_errors(bad))
    bad = copy.deepcopy(sarif)
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(v.iter_errors(bad))

    trees = {}
    for args, kinds in (([prog("crash_null")], ["crash"]),
                        ([prog("heap_leaks"), "stacks"], ["leak", "leak", "leak"]),
                        ([prog("heap_errors"), "double_free"], None),
                        ([prog("connect_refused")], None)):
        r, sarif, trees[os.path.basename(args[0])] = run_ci(args)
        assert_valid_sarif(sarif)
        check_results_match_verdict(r, sarif)
        assert results(sarif), r.text
        if kinds:
            assert [x["ruleId"] for x in results(sarif)] == kinds
        if args[0] == prog("crash_null"):
            crash_sarif = sarif
    # the JUnit case of each fails with the first finding
    f = cases(trees["heap_leaks"])["heap_leaks"].find("failure")
    assert f.get("type") == "leak" and "definitely lost" in f.get("message"), f.attrib
    assert f.text.count("leak: heap_leaks (pid ") == 3, f.text
    f = cases(trees["crash_null"])["crash_null"].find("failure")
    assert f.get("type") == "crash" and "SIGSEGV" in f.get("message")
    f = cases(trees["heap_errors"])["heap_errors"].find("failure")
    assert f.get("type") in ("heap_error", "crash"), f.attrib

    crash = results(crash_sarif)[0]
    assert crash["level"] == "error" and crash["locations"][0]["physicalLocation"]["region"]["startLine"] == 14
    frames = crash["stacks"][0]["frames"]
    assert [f["location"]["logicalLocations"][0]["name"] for f in frames[:2]] == ["read_verbose", "load_settings"]
    assert frames[0]["module"] == "crash_null"
    assert frames[0]["location"]["physicalLocation"]["address"]["name"] == "crash_null"
    # a frame in the C library has no file under the root: an absolute URI or none
    for f in frames:
        a = f["location"]["physicalLocation"].get("artifactLocation")
        assert a is None or a.get("uriBaseId") == "SRCROOT" or a["uri"].startswith("file:///"), a


def test_sarif_and_junit_of_a_failing_suite_name_the_failing_test():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUDO_", "GITHUB_")) and k != "SUITE_FAIL"}
    env["SUITE_FAIL"] = "1"
    r, sarif, tree = run_ci(["make", "-C", SUITE, "--no-print-directory", "check"], env=env)
    assert r.rc == 2, (r.rc, r.stderr)
    assert_valid_sarif(sarif)
    check_results_match_verdict(r, sarif)
    res = results(sarif)
    assert [x["ruleId"] for x in res] == ["failed"]
    assert res[0]["message"]["text"].endswith('exited with 3: "version check: expected 0.2.6, got 0.2.5"')
    assert res[0]["locations"][0]["physicalLocation"]["artifactLocation"] == \
        {"uri": "build/testprogs/suite/test-version", "uriBaseId": "SRCROOT"}
    assert res[0]["properties"]["onChain"] is True
    # JUnit: the suite's two tests, not make, sh, grep or test
    c = cases(tree)
    assert sorted(c) == ["test-parse", "test-version"], sorted(c)
    assert c["test-parse"].find("failure") is None
    f = c["test-version"].find("failure")
    assert f.get("type") == "failed" and "version check: expected 0.2.6, got 0.2.5" in f.get("message")
    assert c["test-version"].find("system-err").text == "version check: expected 0.2.6, got 0.2.5\n"
    assert c["test-parse"].find("system-out").text == "parse 12 34\n"
    # passing: the same two cases, no failure, no result
    del env["SUITE_FAIL"]
    r, sarif, tree = run_ci(["make", "-C", SUITE, "--no-print-directory", "check"], env=env)
    assert r.rc == 0 and results(sarif) == []
    assert_valid_sarif(sarif)
    assert sorted(cases(tree)) == ["test-parse", "test-version"]
    assert not list(tree.iter("failure"))


def test_junit_of_system_programs_only():
    # nothing of the project: the command is the one test case
    r, _, tree = run_ci(["/bin/sh", "-c", "exit 0"], opts=["--heap=off"])
    assert [x.get("classname") for x in tree.iter("testcase")] == ["sh"], ET.tostring(tree)
    assert not list(tree.iter("failure"))
    r, _, tree = run_ci(["/bin/sh", "-c", "echo 'x <&> \"y\"' >&2; exit 5"], opts=["--heap=off"])
    f = list(tree.iter("failure"))
    assert len(f) == 1 and 'exited with 5: "x <&> "y""' in f[0].get("message"), f[0].attrib


def annotation_lines(stderr):
    return [x for x in stderr.splitlines() if x.startswith("::")]


def test_github_annotations_are_escaped_and_only_when_asked():
    d = tempfile.mkdtemp(prefix=f"etrace-ci-{os.getpid()}-")
    try:
        # a source directory whose name needs escaping in a property
        src = os.path.join(d, "src,x:y")
        os.makedirs(src)
        shutil.copy(os.path.join(lib.ROOT, "testprogs", "crash_null.c"), os.path.join(src, "crash.c"))
        exe = os.path.join(d, "crash")
        subprocess.run(["cc", "-O0", "-g", "-o", exe, "crash.c"], cwd=src, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUDO_", "GITHUB_"))}
        env.update(GITHUB_ACTIONS="true", GITHUB_WORKSPACE=d)
        r = run([exe], env=env)
        lines = annotation_lines(r.stderr)
        assert len(lines) == 1, r.stderr
        assert re.match(r'^::error file=src%2Cx%3Ay/crash\.c,line=14,title=etrace%3A crash in crash::crash \(pid \d+\) '
                        r'SIGSEGV \(SEGV_MAPERR\) at address 0x0 in read_verbose at \S*crash\.c:14: "about to crash"$',
                        lines[0]), lines[0]
        r = run([exe], etrace_opts=["--github-annotations=never", "--heap=off"], env=env)
        assert annotation_lines(r.stderr) == []
        del env["GITHUB_ACTIONS"]
        r = run([exe], etrace_opts=["--heap=off"], env=env)
        assert annotation_lines(r.stderr) == []
        # a message with the characters the runner unescapes, on two lines
        r = run(["/bin/sh", "-c", "printf 'done: 100%%, no\\n::warning::forged\\n' >&2; exit 4"],
                etrace_opts=["--github-annotations", "--heap=off"], env=env)
        lines = annotation_lines(r.stderr)
        assert r.rc == 4 and len(lines) == 2 and lines[0] == "::warning::forged", r.stderr
        assert re.match(r'^::error title=etrace%3A failed in sh::sh \(pid \d+\) exited with 4: "::warning::forged"'
                        r'%0A  \| done: 100%25, no%0A  \| ::warning::forged$', lines[1]), lines[1]
        r = run([exe], etrace_opts=["--github-annotations=sometimes"])
        assert r.rc == 125 and "--github-annotations takes auto, always or never" in r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- the documented recipes, with the real tools ----------------------------------

def copy_project(d):
    src = os.path.join(d, "src")
    shutil.copytree(CIPROJ, src)
    return src


def check_failing_test_outputs(files, binary):
    """The per-test files of the failing test name it, its message, and fail
    it in JUnit; the passing test's files say it passed."""
    by_test = {}
    for txt in [f for f in files if f.endswith(".txt")]:
        with open(txt) as f:
            t = f.read()
        name = "fail" if "FAILED  fail (pid " in t else "pass"
        by_test[name] = txt[:-4]
    assert sorted(by_test) == ["fail", "pass"], files
    with open(by_test["fail"] + ".txt") as f:
        t = f.read()
    assert f'FAILED  fail (pid ' in t and FAIL_MSG in t.split("-- verdict")[1].split("\n-- ")[0], t[:1500]
    tree = junit_tree(by_test["fail"] + ".xml")
    (case,) = list(tree.iter("testcase"))
    assert case.get("classname") == "fail" and case.get("name") == binary
    assert FAIL_MSG in case.find("failure").get("message")
    with open(by_test["fail"] + ".sarif") as f:
        sarif = json.load(f)
    assert_valid_sarif(sarif)
    (res,) = results(sarif)
    assert res["ruleId"] == "failed" and FAIL_MSG in res["message"]["text"]
    tree = junit_tree(by_test["pass"] + ".xml")
    assert [c.get("classname") for c in tree.iter("testcase")] == ["pass"] and not list(tree.iter("failure"))
    with open(by_test["pass"] + ".sarif") as f:
        sarif = json.load(f)
    assert_valid_sarif(sarif)
    assert results(sarif) == []


def meson_project(d, extra="", files=()):
    """ciproj (plus extra meson.build lines and (name, text) source files)
    set up and built by meson and ninja in d; returns the build directory."""
    if not shutil.which("meson"):
        raise lib.Skip("meson is not installed (tests/install-deps.sh)")
    src = copy_project(d)
    for name, text in files:
        with open(os.path.join(src, name), "w") as f:
            f.write(text)
    if extra:
        with open(os.path.join(src, "meson.build"), "a") as f:
            f.write(extra)
    b = os.path.join(d, "build")
    subprocess.run(["meson", "setup", b, src], check=True, capture_output=True, timeout=60)
    subprocess.run(["ninja", "-C", b], check=True, capture_output=True, timeout=60)
    return b


def test_meson_test_wrapper_recipe():
    """README: meson test --wrapper='etrace run -o etrace-%p.txt --junit=etrace-%p.xml --sarif=etrace-%p.sarif --'"""
    with tempfile.TemporaryDirectory(prefix="etrace-meson-") as d:
        b = meson_project(d)
        wrapper = f"{lib.ETRACE} run -o etrace-%p.txt --junit=etrace-%p.xml --sarif=etrace-%p.sarif --"
        p = subprocess.run(["meson", "test", "-C", b, "--wrapper", wrapper], capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert re.search(r"failing\s+FAIL", p.stdout) and re.search(r"passing\s+OK", p.stdout), p.stdout
        files = [os.path.join(b, n) for n in os.listdir(b) if n.startswith("etrace-")]
        assert len(files) == 6, files
        check_failing_test_outputs(files, os.path.join(b, "fail"))


def test_a_whole_meson_run_names_the_failed_test():
    """The whole `meson test` under one etrace: meson names a test only in
    the result line it prints when the test has ended; the verdict, the JSON
    finding and the JUnit case carry that name. The passing test is not
    named (its line could be any of meson's children that exited 0)."""
    with tempfile.TemporaryDirectory(prefix="etrace-meson-") as d:
        b = meson_project(d)
        # a shell that wrote to stdout, then exec'd meson: the same process,
        # a new image, looked at again
        r, sarif, tree = run_ci(["sh", "-c", 'echo start; exec meson test -C "$0"', b])
        assert r.rc == 1, (r.rc, r.stderr)
        finding = r.report["verdict"]["findings"][0]
        assert finding["test"] == "failing" and finding["program"] == "fail", finding
        v = r.text.split("-- verdict ")[1].split("\n-- ")[0].splitlines()
        assert v[1] == f'FAILED  test "failing": fail (pid {finding["pid"]}) exited with 1: "{FAIL_MSG}"', v
        assert 'FAILED test "failing": fail (pid ' in r.text.splitlines()[-1], r.text.splitlines()[-1]
        c = cases(tree)
        assert c["fail"].get("name") == "failing" and c["pass"].get("name") == os.path.join(b, "pass"), \
            {k: x.get("name") for k, x in c.items()}
        assert [x["ruleId"] for x in results(sarif)] == ["failed"]
        # no process is named but the failed test's
        assert [p for p in r.report["verdict"]["findings"] if p.get("test")] == [finding], r.report["verdict"]


def test_a_crash_meson_expected_is_no_finding():
    """A should_fail test that aborts (meson: EXPECTEDFAIL) is what its suite
    asked for: counted under the verdict and marked in the crash section,
    never a CRASH line, while the real failure next to it stays the finding."""
    with tempfile.TemporaryDirectory(prefix="etrace-meson-") as d:
        b = meson_project(d, "test('must_abort', executable('aborts', 'aborts.c'), should_fail: true)\n",
                          [("aborts.c", "#include <stdlib.h>\nint main(void) { abort(); }\n")])
        r, sarif, tree = run_ci(["meson", "test", "-C", b])
        assert r.rc == 1, (r.rc, r.stderr)
        findings = r.report["verdict"]["findings"]
        assert [(x["kind"], x["test"]) for x in findings] == [("failed", "failing")], findings
        assert [(x["program"], x["status"]["signal_name"]) for x in r.report["verdict"]["expected_failures"]] == \
            [("aborts", "SIGABRT")], r.report["verdict"]
        v = r.text.split("-- verdict ")[1].split("\n-- ")[0]
        assert "CRASH" not in v and "(1 process failed as its runner expected: must_abort)" in v, v
        crash = r.text.split("-- crash ")[1].split("\n-- ")[0]
        assert 'expected: its runner expected test "must_abort" to fail' in crash, crash
        c = cases(tree)
        assert c["aborts"].find("failure") is None and c["fail"].find("failure") is not None
        assert [x["ruleId"] for x in results(sarif)] == ["failed"]


def test_ctest_recipes():
    """README: the whole ctest run under one etrace (the tests are the JUnit
    cases), and etrace as each test's command (-DETRACE=...)."""
    with tempfile.TemporaryDirectory(prefix="etrace-ctest-") as d:
        src = copy_project(d)
        b = os.path.join(d, "build")
        subprocess.run(["cmake", "-S", src, "-B", b], check=True, capture_output=True, timeout=60)
        subprocess.run(["cmake", "--build", b], check=True, capture_output=True, timeout=60)
        r, sarif, tree = run_ci(["ctest", "--test-dir", b])
        assert r.rc == 8, (r.rc, r.stderr)
        v = r.text.split("-- verdict ")[1].split("\n-- ")[0].splitlines()
        # the test is named as ctest names it (add_test NAME failing), then its binary
        finding = r.report["verdict"]["findings"][0]
        assert finding["test"] == "failing" and finding["program"] == "fail", finding
        assert v[1] == f'FAILED  test "failing": fail (pid {finding["pid"]}) exited with 1: "{FAIL_MSG}"', v
        assert re.search(r"came up: ctest --test-dir \S+ exited 8 <- \S+/fail exited 1$", v[2]), v
        assert 'FAILED test "failing": fail (pid ' in r.text.splitlines()[-1], r.text.splitlines()[-1]
        c = cases(tree)
        assert sorted(c) == ["fail", "pass"] and c["pass"].find("failure") is None
        assert c["fail"].get("name") == "failing" and c["pass"].get("name") == "passing"
        assert FAIL_MSG in c["fail"].find("failure").get("message")
        assert_valid_sarif(sarif)
        assert [x["ruleId"] for x in results(sarif)] == ["failed"]

        subprocess.run(["cmake", "-S", src, "-B", b, f"-DETRACE={lib.ETRACE}"], check=True, capture_output=True,
                       timeout=60)
        p = subprocess.run(["ctest", "--test-dir", b], capture_output=True, text=True, timeout=120)
        assert p.returncode == 8 and "1 tests failed out of 2" in p.stdout, (p.returncode, p.stdout, p.stderr)
        files = [os.path.join(b, n) for n in os.listdir(b) if n.startswith("etrace-")]
        assert len(files) == 6, files
        check_failing_test_outputs(files, os.path.join(b, "fail"))


def test_an_automake_test_driver_names_the_test():
    """automake's parallel harness runs each test as `test-driver --test-name
    NAME --log-file ... -- ./prog`: the verdict and the JUnit case name the
    test by NAME, the process that failed (the driver's child) by its binary.
    The driver here is a stand-in with automake's documented interface."""
    with tempfile.TemporaryDirectory(prefix="etrace-driver-") as d:
        src = copy_project(d)
        exe = os.path.join(d, "fail")
        subprocess.run(["cc", "-g", "-o", exe, os.path.join(src, "fail.c")], check=True, timeout=60)
        driver = os.path.join(d, "test-driver")
        with open(driver, "w") as f:
            f.write('#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --) shift; break;; *) shift;; esac; done\n'
                    '"$@"\nst=$?\necho "FAIL: $st"\nexit $st\n')
        os.chmod(driver, 0o755)
        r, sarif, tree = run_ci(["/bin/sh", driver, "--test-name", "parse-answers.test", "--log-file", "p.log",
                                 "--trs-file", "p.trs", "--", exe])
        assert r.rc == 1, (r.rc, r.stderr)
        (finding,) = [f for f in r.report["verdict"]["findings"] if f["kind"] == "failed"]
        assert finding["test"] == "parse-answers.test" and finding["program"] == "fail", finding
        assert f'FAILED  test "parse-answers.test": fail (pid {finding["pid"]}) exited with 1' in r.text, r.text
        names = [c.get("name") for c in tree.iter("testcase")]
        assert names == ["parse-answers.test"], names


def test_pytest_recipe():
    """README: etrace run --junit=... -- pytest-3 tests/: the programs the
    tests ran are the cases; the failed test is named first (pytest's
    summary), then the program it ran that failed, with its message."""
    with tempfile.TemporaryDirectory(prefix="etrace-pytest-") as d:
        src = copy_project(d)
        b = os.path.join(d, "bin")
        os.makedirs(b)
        for t in ("pass", "fail"):
            subprocess.run(["cc", "-g", "-o", os.path.join(b, t), os.path.join(src, f"{t}.c")], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUDO_", "GITHUB_"))}
        env["CIPROJ_BIN"] = b
        r, sarif, tree = run_ci(["pytest-3", "-q", "-p", "no:cacheprovider", os.path.join(src, "test_ciproj.py")],
                                env=env)
        assert r.rc == 1, (r.rc, r.stderr)
        assert b"1 failed, 1 passed" in r.stdout, r.stdout
        last = r.text.rstrip("\n").splitlines()[-1]
        assert re.match(r"^SUMMARY: etrace: /usr/bin/python3 /usr/bin/pytest-3 .* exited 1; FAILED pytest-3 \(pid \d+\) "
                        r'exited with 1: "FAILED \S*test_ciproj\.py::test_failing', last), last
        v = r.report["verdict"]["findings"]
        assert [(f["kind"], f["program"]) for f in v] == [("failed", "pytest-3"), ("failed", "fail")], v
        assert [t["name"].split("/")[-1] for t in v[0]["failed_tests"]] == ["test_ciproj.py::test_failing"], v[0]
        assert v[1]["last_line"] == FAIL_MSG and not v[1]["on_chain"], v[1]
        assert re.search(r'^FAILED  fail \(pid \d+\) exited with 1: "' + re.escape(FAIL_MSG) + '"$', r.text, re.M), r.text
        c = cases(tree)
        assert sorted(c) == ["fail", "pass"], sorted(c)
        assert FAIL_MSG in c["fail"].find("failure").get("message") and c["pass"].find("failure") is None
        assert_valid_sarif(sarif)
        assert [x["ruleId"] for x in results(sarif)] == ["failed", "failed"]
        assert FAIL_MSG in results(sarif)[1]["message"]["text"]
