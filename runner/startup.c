/* ETRACE_STARTUP=1: etrace's own start-up and teardown, phase by phase and
 * per BPF program (see startup.h). The verifier's figures come from the
 * statistics it writes at log level 4 ("verification time N usec",
 * "processed N insns ... total_states N peak_states N") and from
 * bpf_prog_info.verified_insns. */
#include "startup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define PHASES_MAX 48
#define PROGS_MAX 96
/* the statistics are a few lines, but the kernel also writes each global
 * function's and some programs' notes: room to spare (untouched pages) */
#define LOG_BYTES (1u << 20)

static struct {
	const char *what;
	double ms, cpu_ms;
} phases[PHASES_MAX];
static int nphases;
static double last_mark, first_mark, last_cpu, cpu_before;

static struct prog_stat {
	char name[40];
	char object[16];
	char *log;
	long usec, insns, states, peak;
	unsigned verified, xlated;
} progs[PROGS_MAX];
static int nprogs;

static double clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* etrace's own CPU time, user and system (the verifier runs in the
 * bpf() call: system time): on a loaded machine the wall time is mostly
 * waiting for a CPU, this is not */
static double cpu_ms(void)
{
	return clock_ms(CLOCK_PROCESS_CPUTIME_ID);
}

bool startup_on(void)
{
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("ETRACE_STARTUP");
		on = v && *v && strcmp(v, "0") != 0;
		if (on) {
			first_mark = last_mark = now_ms();
			cpu_before = last_cpu = cpu_ms();
		}
	}
	return on;
}

void startup_mark(const char *what)
{
	if (!startup_on())
		return;
	double t = now_ms(), c = cpu_ms();
	if (nphases < PHASES_MAX) {
		phases[nphases].what = what;
		phases[nphases].ms = t - last_mark;
		phases[nphases].cpu_ms = c - last_cpu;
		nphases++;
	}
	last_mark = t;
	last_cpu = c;
}

static struct prog_stat *slot_for(const char *object, const char *name)
{
	for (int i = 0; i < nprogs; i++)
		if (strcmp(progs[i].object, object) == 0 && strcmp(progs[i].name, name) == 0)
			return &progs[i];
	if (nprogs == PROGS_MAX)
		return NULL;
	struct prog_stat *s = &progs[nprogs++];
	memset(s, 0, sizeof(*s));
	snprintf(s->object, sizeof(s->object), "%s", object);
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

void startup_verifier_prepare(struct bpf_object *obj, const char *object_name)
{
	if (!startup_on())
		return;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		struct prog_stat *s = slot_for(object_name, bpf_program__name(p));
		if (!s)
			continue;
		if (!s->log && !(s->log = calloc(1, LOG_BYTES)))
			continue;
		bpf_program__set_log_buf(p, s->log, LOG_BYTES);
		bpf_program__set_log_level(p, 4);
	}
}

static long number_after(const char *log, const char *key)
{
	const char *at = strstr(log, key);
	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

void startup_verifier_collect(struct bpf_object *obj, const char *object_name)
{
	if (!startup_on())
		return;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		int fd = bpf_program__fd(p);
		if (fd < 0)
			continue;
		struct prog_stat *s = slot_for(object_name, bpf_program__name(p));
		if (!s || !s->log)
			continue;
		s->usec = number_after(s->log, "verification time ");
		s->insns = number_after(s->log, "processed ");
		s->states = number_after(s->log, "total_states ");
		s->peak = number_after(s->log, "peak_states ");
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			s->verified = info.verified_insns;
			s->xlated = info.xlated_prog_len / 8;
		}
	}
}

static int by_time(const void *a, const void *b)
{
	const struct prog_stat *x = a, *y = b;
	return (y->usec > x->usec) - (y->usec < x->usec);
}

void startup_report(void)
{
	static bool done;
	if (!startup_on() || done)
		return;
	done = true;
	fprintf(stderr, "etrace: start-up and teardown (ETRACE_STARTUP), ms:\n  %8s %8s\n", "wall", "cpu");
	double sum = 0, cpu = 0, fin = 0, fin_cpu = 0;
	bool finishing = false;
	for (int i = 0; i < nphases; i++) {
		fprintf(stderr, "  %8.1f %8.1f  %s\n", phases[i].ms, phases[i].cpu_ms, phases[i].what);
		sum += phases[i].ms;
		cpu += phases[i].cpu_ms;
		if (finishing) {
			fin += phases[i].ms;
			fin_cpu += phases[i].cpu_ms;
		}
		finishing = finishing || strcmp(phases[i].what, "the target's run, until its exit was seen") == 0;
	}
	if (finishing)
		fprintf(stderr, "  %8.1f %8.1f  of which the finish, from the target's exit to the report (before etrace's own exit)\n",
			fin, fin_cpu);
	fprintf(stderr, "  %8.1f %8.1f  in all (etrace's process: %.1f ms of CPU since it started, %.1f before the first "
		"phase: its exec, dynamic linking, options)\n", sum, cpu, cpu_ms(), cpu_before);
	qsort(progs, (size_t)nprogs, sizeof(progs[0]), by_time);
	long usec = 0, insns = 0;
	int loaded = 0;
	fprintf(stderr, "etrace: the verifier, per program loaded:\n  %-8s %-26s %9s %9s %8s %6s %6s\n", "object",
		"program", "verify_us", "processed", "verified", "states", "insns");
	for (int i = 0; i < nprogs; i++) {
		const struct prog_stat *s = &progs[i];
		if (!s->verified && s->usec < 0)
			continue;
		fprintf(stderr, "  %-8s %-26s %9ld %9ld %8u %6ld %6u\n", s->object, s->name, s->usec, s->insns,
			s->verified, s->states, s->xlated);
		usec += s->usec > 0 ? s->usec : 0;
		insns += s->insns > 0 ? s->insns : 0;
		loaded++;
	}
	fprintf(stderr, "  %d programs: %.1f ms verifying, %ld instructions processed\n", loaded, usec / 1e3, insns);
}
