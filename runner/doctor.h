/* What the running kernel offers etrace (see doctor.c). */
#ifndef ETRACE_DOCTOR_H
#define ETRACE_DOCTOR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum cap_id {
	CAP_PRIV, CAP_BTF, CAP_RINGBUF, CAP_TASK_STORAGE, CAP_TP_BTF, CAP_TRACEPOINT,
	CAP_UPROBE, CAP_KPROBE, CAP_KPROBE_MULTI, CAP_FENTRY, CAP_CGROUP2, CAP_MAX
};

struct capability {
	const char *name;
	bool ok;
	char detail[160];
};

struct caps {
	struct capability c[CAP_MAX];
};

void caps_detect(struct caps *k);
/* Only what caps_net_backend() looks at, and only until the first backend
 * that works (the note at the end of every run: a few ms, where the whole
 * caps_detect() loads and attaches programs for 50 ms). */
void caps_detect_net(struct caps *k);
/* The first capability etrace run cannot do without, or NULL. */
const struct capability *caps_first_missing_required(const struct caps *k);
/* The network path backend this kernel allows, and why. */
const char *caps_net_backend(const struct caps *k, const char **why);
/* --net-backend: the backend etrace run uses for want (NULL or "auto": what
 * the kernel allows), with why; NULL with a one-line reason in err when
 * want cannot be had here. */
const char *caps_pick_net_backend(const struct caps *k, const char *want, const char **why, char *err,
				  size_t errlen);
/* `etrace doctor`: prints the table; returns the exit code. */
int doctor_main(void);

#endif
