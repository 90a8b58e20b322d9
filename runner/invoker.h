/* Who asked for this run, and opening files with their rights.
 *
 * Under sudo (real uid 0 and SUDO_UID naming another user) etrace runs with
 * root's rights but must never give the invoking user more than they have:
 * files they name are opened, and files the traced program names are read,
 * with the invoker's rights (fsuid, fsgid and groups of the calling thread),
 * and the outputs they ask for are created owned by them. Run as plain root
 * (no SUDO_UID), the invoker is root and nothing changes. */
#ifndef ETRACE_INVOKER_H
#define ETRACE_INVOKER_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define INVOKER_MAX_GROUPS 256

struct invoker {
	bool sudo;        /* an unprivileged user through sudo: act with their rights */
	uid_t uid;
	gid_t gid;
	char name[64];
	gid_t groups[INVOKER_MAX_GROUPS];
	int ngroups;
};

/* The invoker, worked out once from the real uid and SUDO_UID/SUDO_GID. */
const struct invoker *invoker_get(void);

/* The calling thread's file-system identity, saved by invoker_enter. */
struct invoker_saved {
	bool switched;
	uid_t fsuid;
	gid_t fsgid;
	gid_t groups[INVOKER_MAX_GROUPS];
	int ngroups;
};

/* From enter to leave, the calling thread opens files as the invoker (other
 * threads keep their rights). Nothing happens when the invoker is root.
 * Returns 0, or -1 with errno (the thread is then unchanged). */
int invoker_enter(struct invoker_saved *s);
void invoker_leave(struct invoker_saved *s);

/* open(2) and fopen(3) with the invoker's rights; a file created is theirs. */
int invoker_open(const char *path, int flags, mode_t mode);
FILE *invoker_fopen(const char *path, const char *mode);

/* For commands that need no privilege at all (etrace report, rewind): become
 * the invoker for good. Returns 0, or -1 with a message. */
int invoker_drop_all(char *err, size_t errlen);

#endif
