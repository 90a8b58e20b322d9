/* etrace command line: run, doctor, version, help. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "launch.h"
#include "invoker.h"
#include "outname.h"
#include "record.h"
#include "run.h"
#include "reports/core/model.h"
#include "tracer.h"
#include "reports/core/error.h"

static const char usage_text[] =
	"usage: etrace run [options] -- program [args...]\n"
	"       etrace report FILE [-f text|json] [-o OUT] [--html=F] [--perfetto=F]\n"
	"                              the report of a recording\n"
	"       etrace rewind FILE --at TIME|crash [--window DURATION]\n"
	"                              the events of a recording around a moment\n"
	"       etrace doctor          what this kernel offers, which backends are used\n"
	"       etrace version\n"
	"\n"
	"Runs the program, traces it and everything it starts from the kernel (eBPF),\n"
	"and writes one report when it exits. etrace exits with the program's status\n"
	"(128+N when it died of signal N; 127 not found, 126 not executable, 125 when\n"
	"etrace itself failed).\n"
	"\n"
	"options for run:\n"
	"  -o, --output=FILE        write the report to FILE (default: stderr); in the\n"
	"                           names of every output file %p is etrace's pid, %n\n"
	"                           the first number from 1 not taken yet, %q{VAR} the\n"
	"                           variable VAR (as valgrind's --log-file)\n"
	"  -f, --format=text|json   report format (default: text)\n"
	"      --color[=auto|always|never]  colours in the text report: auto (default)\n"
	"                           when it goes to a terminal and NO_COLOR is not set\n"
	"      --json=FILE          also write the JSON report to FILE\n"
	"      --html=FILE          also write the report as one HTML page (verdict,\n"
	"                           timeline, crash, heap, network; no network needed)\n"
	"      --perfetto=FILE      also write a trace for ui.perfetto.dev and\n"
	"                           chrome://tracing (Chrome trace-event JSON)\n"
	"      --events=FILE        write every event as JSON Lines while the program runs\n"
	"      --sarif=FILE         also write the verdict as SARIF 2.1.0 (code scanning)\n"
	"      --junit=FILE         also write JUnit XML: the project's programs as test cases\n"
	"      --github-annotations[=auto|always|never]\n"
	"                           '::error file=...,line=...::' lines on stderr for\n"
	"                           GitHub Actions (auto, the default: GITHUB_ACTIONS=true)\n"
	"      --source-root=DIR    name source files from DIR in SARIF and annotations\n"
	"                           (default: GITHUB_WORKSPACE, else the working directory)\n"
	"      --record=FILE        save every event for etrace report / etrace rewind\n"
	"      --report=WHEN        always (default), failure (only when the exit status\n"
	"                           is not 0), never\n"
	"  -n, --last=N             syscalls kept per thread for the report (default 50)\n"
	"      --syscalls=failing|all|none\n"
	"                           whose syscall sequences the text report shows: the\n"
	"                           processes that failed (default; a lone program's\n"
	"                           always), every process, or none (the JSON has all)\n"
	"  -a, --all                keep every syscall (memory grows with the run)\n"
	"      --max-records=N      records kept in memory in all (default 200000, ~50 MB);\n"
	"                           past it, threads that exited keep only their last 5\n"
	"  -s, --string-limit=N     bytes of data shown per buffer argument (default 32)\n"
	"  -u, --user=USER          run the program as USER (default under sudo: the\n"
	"                           invoking user, from SUDO_UID/SUDO_GID)\n"
	"      --orphans=leave|kill what to do with processes still running when the\n"
	"                           program exits (default: leave them running, untraced)\n"
	"      --buffer-size=BYTES  kernel ring buffer size (default 16M, 32M with\n"
	"                           --heap-backend=uprobe; K, M suffixes)\n"
	"      --sched=on|off       where each thread's time went: CPU, off-CPU by what\n"
	"                           it waited for, run-queue delay, switches, peak RSS,\n"
	"                           bytes read and written (default: off)\n"
	"      --timeout=DURATION   when the program runs longer (2s, 500ms, 5m), show\n"
	"                           where every thread is and what it waits for, then\n"
	"                           SIGTERM the tree, SIGKILL 1 s later; exit 124\n"
	"      --rewind=N|TIME      events shown before a crash: a count (default 50) or\n"
	"                           a time window (5s, 200ms); at most the --last\n"
	"                           syscalls of each thread are available\n"
	"      --trace-func=PATTERN probe the program's own functions whose names match\n"
	"                           the glob: calls (first 4 arguments) and returns\n"
	"                           join the report and the crash rewind; repeatable\n"
	"      --trace-func-force   allow patterns that match more than 1000 functions\n"
	"      --heap=on|off        trace the allocator (malloc, free, new, delete...):\n"
	"                           leaks, double/invalid/mismatched frees, use after\n"
	"                           free at a crash (default: on)\n"
	"      --leaks=full|none    scan each process's memory at exit to classify what\n"
	"                           it did not free (default: full)\n"
	"      --show-reachable     also list the blocks still reachable at exit, grouped\n"
	"                           by allocation stack like leaks\n"
	"      --suppressions=FILE  leaks to hide: LSan's lines 'leak:GLOB' matched against\n"
	"                           the function and module names of the allocation\n"
	"                           stack, and valgrind's { ... Memcheck:Leak ... } entries\n"
	"      --gen-suppressions   print a valgrind-format entry for each leak listed\n"
	"      --error-exitcode=N   exit N when heap errors or leaks were found and the\n"
	"                           program itself exited 0 (as valgrind does); those of\n"
	"                           system programs only with --system-findings\n"
	"      --system-findings    list the heap errors and leaks of system programs\n"
	"                           (executables under /usr but /usr/local, /bin, /sbin,\n"
	"                           /lib*: make, sh, python3...) in the verdict; by\n"
	"                           default they are counted in one line\n"
	"      --heap-freed=N       frees remembered for double free and use after free\n"
	"                           (default 65536)\n"
	"      --heap-backend=auto|preload|uprobe  how allocator calls are recorded:\n"
	"                           preload: a library in LD_PRELOAD records them in the\n"
	"                           process; uprobe: kernel probes (slower); auto: preload\n"
	"                           for dynamically linked programs, uprobes for static\n"
	"                           and setuid ones (default: auto)\n"
	"      --heap-check=off|default|all  memory errors that do not crash (preload\n"
	"                           backend, glibc's allocator): default: redzones past\n"
	"                           each block and a quarantine of freed blocks, checked\n"
	"                           at free, realloc and exit, and one allocation in\n"
	"                           --heap-guard-rate against an inaccessible page; all:\n"
	"                           every allocation (small programs: a page each). A\n"
	"                           guard page turns a silent overflow or use after free\n"
	"                           into a SIGSEGV at the faulting access\n"
	"      --heap-quarantine=BYTES  freed bytes each thread holds back and checks\n"
	"                           (default 256K; all: every free, default: a\n"
	"                           thread's first 4096, then 1 in 64)\n"
	"      --heap-guard-rate=N  one allocation in N gets a guard page (default 20000,\n"
	"                           0: none)\n"
	"      --skb                follow each packet of the program's sockets through\n"
	"                           the kernel: every hook it passed, where it was dropped\n"
	"      --skb-filter=EXPR    only packets a pcap filter accepts ('tcp port 80',\n"
	"                           'host ::1', 'tcp[tcpflags] & tcp-rst != 0'); implies --skb\n"
	"      --skb-stack          a kernel stack at each hook; implies --skb\n"
	"      --skb-funcs=GLOB[,GLOB...]  kernel functions a function backend probes\n"
	"                           (default: every function taking an skb)\n"
	"      --net-backend=auto|tracepoint|kprobe-multi|fentry|kprobe\n"
	"                           how --skb follows packets: tracepoints, or every kernel\n"
	"                           function taking an skb (default: auto, the best this\n"
	"                           kernel allows, as 'etrace doctor' says)\n"
	"  -h, --help               this text\n"
	"\n"
	"examples:\n"
	"  sudo etrace run -- ./test_config          why does this test fail?\n"
	"  sudo etrace run --report=failure --json=etrace.json -- make check\n"
	"                                            a whole suite; the report only on failure\n"
	"  meson test --wrapper='etrace run -o etrace-%p.txt --junit=etrace-%p.xml --'\n"
	"                                            every test under its own etrace\n"
	"  sudo etrace run --sarif=etrace.sarif --junit=etrace.xml -- ctest --test-dir build\n"
	"                                            code scanning and test dashboards in CI\n"
	"  sudo etrace run --error-exitcode=23 --suppressions=etrace.supp -- ./unit_tests\n"
	"                                            fail on leaks, but the known ones\n"
	"  sudo etrace run --gen-suppressions -- ./unit_tests   entries for those known ones\n"
	"  sudo etrace run --record=run.rec -- ./flaky_test; etrace report run.rec\n"
	"  sudo etrace run --skb-filter='tcp port 5432' -- ./db_test   where did my packets go?\n"
	"\n"
	"See etrace(1) and README.md.\n";

/* printf-checked: a %c given a string once printed a pointer's low byte. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	et_error("%s (etrace --help)", msg ? msg : fmt);
	free(msg);
	return ETRACE_EXIT_FAILURE;
}

/* A decimal number with an optional K, M or G suffix. Digits only: strtoull
 * alone takes leading blanks and a sign (' -1' was 2^64-1), and a suffix
 * must not shift the value past 64 bits (17179869185G wrapped to 1G). */
static int parse_size(const char *s, size_t *out)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}

/* --color and --github-annotations: auto, always (also the option alone) or never; -1 for anything else */
static int parse_when(const char *arg)
{
	if (!arg || strcmp(arg, "always") == 0)
		return ET_ANNOTATIONS_ALWAYS;
	if (strcmp(arg, "auto") == 0)
		return ET_ANNOTATIONS_AUTO;
	return strcmp(arg, "never") == 0 ? ET_ANNOTATIONS_NEVER : -1;
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	run_opts_init(&o);
	enum { OPT_MAXREC = 301, OPT_RECORD = 300, OPT_JSON = 256, OPT_EVENTS, OPT_REPORT, OPT_ORPHANS, OPT_BUFFER, OPT_REWIND };
	enum { OPT_TRACE_FUNC = 400, OPT_TRACE_FUNC_FORCE };
	enum { OPT_HEAP = 500, OPT_LEAKS, OPT_SUPPRESSIONS, OPT_ERROR_EXITCODE, OPT_HEAP_FREED, OPT_SHOW_REACHABLE,
	       OPT_SYSTEM_FINDINGS, OPT_SYSCALLS, OPT_HEAP_BACKEND, OPT_HEAP_CHECK, OPT_HEAP_QUARANTINE,
	       OPT_HEAP_GUARD_RATE };
	enum { OPT_HTML = 700, OPT_PERFETTO };
	enum { OPT_NET_BACKEND = 600, OPT_SKB, OPT_SKB_FILTER, OPT_SKB_STACK, OPT_SKB_FUNCS };
	enum { OPT_SARIF = 800, OPT_JUNIT, OPT_GITHUB_ANNOTATIONS, OPT_SOURCE_ROOT, OPT_GEN_SUPPRESSIONS, OPT_COLOR };
	enum { OPT_TIMEOUT = 900, OPT_SCHED };
	const char *trace_funcs[argc > 0 ? argc : 1]; /* --trace-func patterns, at most one per argument */
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "perfetto", required_argument, NULL, OPT_PERFETTO },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "max-records", required_argument, NULL, OPT_MAXREC },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "last", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "string-limit", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "orphans", required_argument, NULL, OPT_ORPHANS },
		{ "buffer-size", required_argument, NULL, OPT_BUFFER },
		{ "rewind", required_argument, NULL, OPT_REWIND },
		{ "trace-func", required_argument, NULL, OPT_TRACE_FUNC },
		{ "trace-func-force", no_argument, NULL, OPT_TRACE_FUNC_FORCE },
		{ "heap", required_argument, NULL, OPT_HEAP },
		{ "leaks", required_argument, NULL, OPT_LEAKS },
		{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
		{ "show-reachable", no_argument, NULL, OPT_SHOW_REACHABLE },
		{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
		{ "heap-freed", required_argument, NULL, OPT_HEAP_FREED },
		{ "system-findings", no_argument, NULL, OPT_SYSTEM_FINDINGS },
		{ "syscalls", required_argument, NULL, OPT_SYSCALLS },
		{ "heap-backend", required_argument, NULL, OPT_HEAP_BACKEND },
		{ "heap-check", required_argument, NULL, OPT_HEAP_CHECK },
		{ "heap-quarantine", required_argument, NULL, OPT_HEAP_QUARANTINE },
		{ "heap-guard-rate", required_argument, NULL, OPT_HEAP_GUARD_RATE },
		{ "net-backend", required_argument, NULL, OPT_NET_BACKEND },
		{ "skb", no_argument, NULL, OPT_SKB },
		{ "skb-filter", required_argument, NULL, OPT_SKB_FILTER },
		{ "skb-stack", no_argument, NULL, OPT_SKB_STACK },
		{ "skb-funcs", required_argument, NULL, OPT_SKB_FUNCS },
		{ "sarif", required_argument, NULL, OPT_SARIF },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "github-annotations", optional_argument, NULL, OPT_GITHUB_ANNOTATIONS },
		{ "source-root", required_argument, NULL, OPT_SOURCE_ROOT },
		{ "gen-suppressions", no_argument, NULL, OPT_GEN_SUPPRESSIONS },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "sched", required_argument, NULL, OPT_SCHED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 0;
	int c;
	size_t v;
	while ((c = getopt_long(argc, argv, "+o:f:n:as:u:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o.format = FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o.format = FORMAT_JSON;
			else
				return usage_error("unknown format '%s': use text or json", optarg);
			break;
		case OPT_JSON:
			o.json_output = optarg;
			break;
		case OPT_HTML:
			o.html_output = optarg;
			break;
		case OPT_PERFETTO:
			o.perfetto_output = optarg;
			break;
		case OPT_EVENTS:
			o.events = optarg;
			break;
		case OPT_RECORD:
			o.record = optarg;
			break;
		case OPT_MAXREC:
			if (parse_size(optarg, &v) < 0 || v < 100)
				return usage_error("--max-records takes a number of at least 100, not '%s'", optarg);
			o.max_records = v;
			break;
		case OPT_REPORT:
			if (strcmp(optarg, "always") == 0)
				o.when = REPORT_ALWAYS;
			else if (strcmp(optarg, "failure") == 0)
				o.when = REPORT_ON_FAILURE;
			else if (strcmp(optarg, "never") == 0)
				o.when = REPORT_NEVER;
			else
				return usage_error("--report takes always, failure or never, not '%s'", optarg);
			break;
		case 'n':
			if (parse_size(optarg, &v) < 0 || v == 0)
				return usage_error("--last takes a positive number, not '%s'", optarg);
			o.last_n = v;
			break;
		case 'a':
			o.last_n = 0;
			break;
		case 's':
			if (parse_size(optarg, &v) < 0 || v > 4096)
				return usage_error("--string-limit takes a number from 0 to 4096, not '%s'", optarg);
			o.str_max = v;
			break;
		case 'u':
			o.user = optarg;
			break;
		case OPT_ORPHANS:
			if (strcmp(optarg, "leave") == 0)
				o.orphans = ORPHANS_LEAVE;
			else if (strcmp(optarg, "kill") == 0)
				o.orphans = ORPHANS_KILL;
			else
				return usage_error("--orphans takes leave or kill, not '%s'", optarg);
			break;
		case OPT_BUFFER:
			if (parse_size(optarg, &v) < 0 || v < 4096 || v > ((size_t)1 << 30))
				return usage_error("--buffer-size takes a size from 4K to 1G, not '%s'", optarg);
			o.buffer_bytes = v;
			break;
		case OPT_HEAP:
			if (strcmp(optarg, "on") == 0)
				o.heap = true;
			else if (strcmp(optarg, "off") == 0)
				o.heap = false;
			else
				return usage_error("--heap takes on or off, not '%s'", optarg);
			break;
		case OPT_HEAP_BACKEND:
			if (strcmp(optarg, "auto") == 0)
				o.heap_backend = HEAP_BACKEND_AUTO;
			else if (strcmp(optarg, "preload") == 0)
				o.heap_backend = HEAP_BACKEND_PRELOAD;
			else if (strcmp(optarg, "uprobe") == 0)
				o.heap_backend = HEAP_BACKEND_UPROBE;
			else
				return usage_error("--heap-backend takes auto, preload or uprobe, not '%s'", optarg);
			break;
		case OPT_HEAP_CHECK:
			if (strcmp(optarg, "off") == 0)
				o.heap_check = HEAP_CHECK_OFF;
			else if (strcmp(optarg, "default") == 0)
				o.heap_check = HEAP_CHECK_DEFAULT;
			else if (strcmp(optarg, "all") == 0)
				o.heap_check = HEAP_CHECK_ALL;
			else
				return usage_error("--heap-check takes off, default or all, not '%s'", optarg);
			break;
		case OPT_HEAP_QUARANTINE:
			if (parse_size(optarg, &v) < 0 || v > ((size_t)1 << 40))
				return usage_error("--heap-quarantine takes a size from 0 to 1T like 1M or 0, not '%s'", optarg);
			o.heap_quarantine = v;
			break;
		case OPT_HEAP_GUARD_RATE:
			if (parse_size(optarg, &v) < 0 || v > 1000000000)
				return usage_error("--heap-guard-rate takes a number from 0 to 1000000000, not '%s'", optarg);
			o.heap_guard_rate = (unsigned)v;
			break;
		case OPT_LEAKS:
			if (strcmp(optarg, "full") == 0)
				o.leaks = true;
			else if (strcmp(optarg, "none") == 0)
				o.leaks = false;
			else
				return usage_error("--leaks takes full or none, not '%s'", optarg);
			break;
		case OPT_SUPPRESSIONS:
			o.suppressions = optarg;
			break;
		case OPT_SHOW_REACHABLE:
			o.show_reachable = true;
			break;
		case OPT_SYSTEM_FINDINGS:
			o.system_findings = true;
			break;
		case OPT_SYSCALLS:
			if (strcmp(optarg, "failing") == 0)
				o.show_syscalls = ET_SHOW_FAILING;
			else if (strcmp(optarg, "all") == 0)
				o.show_syscalls = ET_SHOW_ALL;
			else if (strcmp(optarg, "none") == 0)
				o.show_syscalls = ET_SHOW_NONE;
			else
				return usage_error("--syscalls takes failing, all or none, not '%s'", optarg);
			break;
		case OPT_ERROR_EXITCODE:
			if (parse_size(optarg, &v) < 0 || v < 1 || v > 255)
				return usage_error("--error-exitcode takes a number from 1 to 255, not '%s'", optarg);
			o.error_exitcode = (int)v;
			break;
		case OPT_NET_BACKEND:
			if (strcmp(optarg, "auto") && strcmp(optarg, "tracepoint") && strcmp(optarg, "kprobe-multi") &&
			    strcmp(optarg, "fentry") && strcmp(optarg, "kprobe"))
				return usage_error("--net-backend takes auto, tracepoint, kprobe-multi, fentry or kprobe, not '%s'",
						   optarg);
			o.net_backend = optarg;
			break;
		case OPT_SKB:
			o.skb = true;
			break;
		case OPT_SKB_FILTER:
			o.skb = true;
			o.skb_filter = optarg;
			break;
		case OPT_SKB_STACK:
			o.skb = true;
			o.skb_stack = true;
			break;
		case OPT_SKB_FUNCS:
			if (!optarg[0])
				return usage_error("--skb-funcs takes a glob of kernel function names");
			o.skb_funcs = optarg;
			break;
		case OPT_SCHED:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return usage_error("--sched takes on or off, not '%s'", optarg);
			o.sched = strcmp(optarg, "on") == 0;
			break;
		case OPT_TIMEOUT: {
			/* timeout(1)'s DURATION: a number with an optional unit (s, m, h;
			 * and ms), seconds without one */
			char *end;
			double d = isdigit((unsigned char)optarg[0]) ? strtod(optarg, &end) : (end = optarg, -1);
			double scale = !*end ? 1e9 : strcmp(end, "s") == 0 ? 1e9 : strcmp(end, "ms") == 0 ? 1e6 :
				       strcmp(end, "m") == 0 ? 60e9 : strcmp(end, "h") == 0 ? 3600e9 : 0;
			if (!scale || d * scale < 1e6 || d * scale > 7 * 24 * 3600e9)
				return usage_error("--timeout takes a duration from 1ms to 7 days like 2s, 500ms or 5m, not '%s'",
						   optarg);
			o.timeout_ns = (uint64_t)(d * scale);
			break;
		}
		case OPT_HEAP_FREED:
			if (parse_size(optarg, &v) < 0 || v > 10000000)
				return usage_error("--heap-freed takes a number from 0 to 10000000, not '%s'", optarg);
			o.heap_freed = v;
			break;
		case OPT_REWIND: {
			/* a count of events, or a time window: 5s, 250ms, 800us */
			char *end;
			double d = isdigit((unsigned char)optarg[0]) ? strtod(optarg, &end) : (end = optarg, 0);
			double scale = strcmp(end, "s") == 0 ? 1e9 : strcmp(end, "ms") == 0 ? 1e6 : strcmp(end, "us") == 0 ? 1e3 : 0;
			if (scale && d > 0 && d <= 3600) {
				o.rewind_ns = (uint64_t)(d * scale);
			} else if (parse_size(optarg, &v) == 0 && v > 0 && v <= 100000) {
				o.rewind_n = v;
			} else {
				return usage_error("--rewind takes a number of events (1 to 100000) or a time like 5s or 200ms, not '%s'",
						   optarg);
			}
			break;
		}
		case OPT_TRACE_FUNC:
			if (!optarg[0])
				return usage_error("%s", "--trace-func takes a glob of function names, like 'parse_*'");
			trace_funcs[o.ntrace_funcs++] = optarg;
			o.trace_funcs = trace_funcs;
			break;
		case OPT_TRACE_FUNC_FORCE:
			o.trace_func_force = true;
			break;
		case OPT_SARIF:
			o.sarif = optarg;
			break;
		case OPT_JUNIT:
			o.junit = optarg;
			break;
		case OPT_GITHUB_ANNOTATIONS:
			if ((o.github_annotations = parse_when(optarg)) < 0)
				return usage_error("--github-annotations takes auto, always or never, not '%s'", optarg);
			break;
		case OPT_COLOR:
			if ((o.color = parse_when(optarg)) < 0)
				return usage_error("--color takes auto, always or never, not '%s'", optarg);
			break;
		case OPT_GEN_SUPPRESSIONS:
			o.gen_suppressions = true;
			break;
		case OPT_SOURCE_ROOT:
			if (!optarg[0])
				return usage_error("%s", "--source-root takes a directory");
			o.source_root = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			if (optopt && optopt < 256)
				return usage_error("bad or incomplete option '-%c'", optopt);
			return usage_error("bad or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no program given: etrace run [options] -- program [args...]");
	o.argv = argv + optind;
	/* %p, %n, %q{VAR} in the output names, as valgrind's --log-file */
	const char **names[] = { &o.output, &o.json_output, &o.record, &o.events, &o.html_output, &o.perfetto_output,
				 &o.sarif, &o.junit };
	char *expanded[sizeof(names) / sizeof(names[0])] = { NULL };
	int rc = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && rc == 0; i++) {
		if (!*names[i])
			continue;
		char err[512];
		expanded[i] = outname_expand(*names[i], err, sizeof(err));
		if (!expanded[i])
			rc = usage_error("%s", err);
		else
			*names[i] = expanded[i];
	}
	if (rc == 0)
		rc = run_main(&o);
	for (size_t i = 0; i < sizeof(expanded) / sizeof(expanded[0]); i++)
		free(expanded[i]);
	return rc;
}

int main(int argc, char **argv)
{
	launch_guard_std_fds();
	if (argc < 2) {
		fputs(usage_text, stderr);
		return ETRACE_EXIT_FAILURE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "doctor") == 0)
		return doctor_main();
	if (strcmp(cmd, "report") == 0 || strcmp(cmd, "rewind") == 0) {
		/* reading a recording needs no privilege: under sudo, be the
		 * invoking user for good before opening anything */
		char err[256];
		if (invoker_drop_all(err, sizeof(err)) < 0) {
			et_error("%s", err);
			return ETRACE_EXIT_FAILURE;
		}
		return strcmp(cmd, "report") == 0 ? report_main(argc - 1, argv + 1) : rewind_main(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("etrace %s\n", ETRACE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage_error("unknown command '%s': use run, report, rewind, doctor or version", cmd);
}
