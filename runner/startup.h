/* Where etrace's own start-up and teardown time goes, for ETRACE_STARTUP=1:
 * wall-clock phases (BPF open, load, attach, cgroup, symbols, detach...)
 * and, per BPF program, what the verifier spent on it (time, instructions
 * processed, states) from the load's statistics log. Printed to stderr at
 * the end of the run; costs nothing when the variable is not set. */
#ifndef ETRACE_STARTUP_H
#define ETRACE_STARTUP_H

#include <stdbool.h>

struct bpf_object;

/* True when ETRACE_STARTUP is set (read once). */
bool startup_on(void);
/* The end of a phase: the time since the previous mark goes to `what`. */
void startup_mark(const char *what);
/* Before bpf_object__load: each program to be loaded logs its statistics. */
void startup_verifier_prepare(struct bpf_object *obj, const char *object_name);
/* After the load: each loaded program's verifier statistics are kept. */
void startup_verifier_collect(struct bpf_object *obj, const char *object_name);
/* Prints the phases and the programs (once; only when startup_on()). */
void startup_report(void);

#endif
