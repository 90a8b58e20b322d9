/* Starting the target: resolve the program, fork a child that holds before
 * exec until every probe is attached, then release it. */
#ifndef ETRACE_LAUNCH_H
#define ETRACE_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <sys/types.h>
#include "cgroup.h"

struct target {
	pid_t pid;
	const char *path; /* what it execs */
	int pidfd;
	int release_fd;  /* write end: one byte releases the child */
	int error_fd;    /* read end: errno of a failed exec, or EOF on success */
};

struct run_user {
	bool set;        /* switch user in the child */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* How etrace found its signals at start: the target gets them back. */
struct launch_signals {
	sigset_t mask;                 /* the mask etrace was started with */
	bool changed[NSIG];            /* dispositions etrace changed for itself */
	struct sigaction orig[NSIG];   /* ... and what they were */
};

/* etrace started with fd 0, 1 or 2 closed: /dev/null takes its place, so no
 * file etrace opens (--events, a report) lands there and gets the program's
 * output or etrace's messages; close-on-exec, so the target still gets it
 * closed. Call first. */
void launch_guard_std_fds(void);

/* Finds prog as execvp would. Returns 0 with the path in out, or the exit
 * code a shell would give (127 not found, 126 not executable) with a message. */
int launch_resolve(const char *prog, char *out, size_t len, char *err, size_t errlen);
/* Who the target runs as: --user, else SUDO_UID/SUDO_GID under sudo, else etrace's user. */
int launch_pick_user(const char *spec, struct run_user *u, char *err, size_t errlen);
/* Forks the held child. Returns 0, or -1 with a message. */
int launch_start(struct target *t, const char *path, char *const argv[], const struct run_user *u,
		 const struct et_cgroup *cg, const struct launch_signals *sigs, char *err, size_t errlen);
/* The environment the child execs with (NULL: etrace's own). Set before
 * launch_start; the caller keeps it alive until launch_release. */
void launch_set_env(char **envp);
/* Releases the child into execve. Returns 0 when the exec happened, or the
 * shell-style exit code (126/127) with a message when it failed. */
int launch_release(struct target *t, char *err, size_t errlen);
/* Kills and reaps a child that was never released (etrace failed to start). */
void launch_abort(struct target *t);

#endif
