/* The invoking user and their rights; see invoker.h. */
#include "invoker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct invoker who;
static bool known;

const struct invoker *invoker_get(void)
{
	if (known)
		return &who;
	known = true;
	who.uid = getuid();
	who.gid = getgid();
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	/* SUDO_UID means something only when sudo made us root; plain root
	 * setting it only restricts itself */
	if (getuid() == 0 && su && *su && sg && *sg) {
		char *e1, *e2;
		unsigned long u = strtoul(su, &e1, 10), g = strtoul(sg, &e2, 10);
		if (!*e1 && !*e2 && u != 0) {
			who.sudo = true;
			who.uid = (uid_t)u;
			who.gid = (gid_t)g;
		}
	}
	who.groups[0] = who.gid;
	who.ngroups = 1;
	/* the name and groups matter only to act as the invoker: plain root
	 * spares the user database (glibc's NSS loads libnss_systemd, which
	 * may ask systemd: a few ms of every run's start) */
	if (!who.sudo)
		return &who;
	struct passwd *pw = getpwuid(who.uid);
	const char *name = pw ? pw->pw_name : getenv("SUDO_USER");
	snprintf(who.name, sizeof(who.name), "%s", name ? name : "");
	if (pw) {
		int n = INVOKER_MAX_GROUPS;
		if (getgrouplist(pw->pw_name, who.gid, who.groups, &n) < 0) {
			who.groups[0] = who.gid;
			n = 1;
		}
		who.ngroups = n;
	}
	return &who;
}

/* Raw system calls: glibc's setgroups changes every thread of the process
 * (the set*id broadcast); these change only the calling thread. The kernel
 * drops the file-system capabilities (CAP_DAC_OVERRIDE...) from the thread's
 * effective set while its fsuid is not 0, and gives them back after. */
int invoker_enter(struct invoker_saved *s)
{
	const struct invoker *w = invoker_get();
	memset(s, 0, sizeof(*s));
	if (!w->sudo)
		return 0;
	s->ngroups = getgroups(INVOKER_MAX_GROUPS, s->groups);
	if (s->ngroups < 0)
		return -1;
	s->fsuid = (uid_t)syscall(SYS_setfsuid, -1);
	s->fsgid = (gid_t)syscall(SYS_setfsgid, -1);
	if (syscall(SYS_setgroups, (size_t)w->ngroups, w->groups) < 0)
		return -1;
	syscall(SYS_setfsgid, w->gid);
	syscall(SYS_setfsuid, w->uid);
	/* setfs*id says nothing of failure: look */
	if ((uid_t)syscall(SYS_setfsuid, -1) != w->uid || (gid_t)syscall(SYS_setfsgid, -1) != w->gid) {
		s->switched = true;
		invoker_leave(s);
		errno = EPERM;
		return -1;
	}
	s->switched = true;
	return 0;
}

void invoker_leave(struct invoker_saved *s)
{
	if (!s->switched)
		return;
	int e = errno;
	syscall(SYS_setfsuid, s->fsuid);
	syscall(SYS_setfsgid, s->fsgid);
	syscall(SYS_setgroups, (size_t)s->ngroups, s->groups);
	s->switched = false;
	errno = e;
}

int invoker_open(const char *path, int flags, mode_t mode)
{
	struct invoker_saved s;
	if (invoker_enter(&s) < 0)
		return -1;
	int fd = open(path, flags | O_CLOEXEC, mode);
	invoker_leave(&s);
	return fd;
}

FILE *invoker_fopen(const char *path, const char *mode)
{
	struct invoker_saved s;
	if (invoker_enter(&s) < 0)
		return NULL;
	FILE *f = fopen(path, mode);
	invoker_leave(&s);
	return f;
}

int invoker_drop_all(char *err, size_t errlen)
{
	const struct invoker *w = invoker_get();
	if (!w->sudo)
		return 0;
	if (setgroups((size_t)w->ngroups, w->groups) < 0 || setresgid(w->gid, w->gid, w->gid) < 0 ||
	    setresuid(w->uid, w->uid, w->uid) < 0) {
		snprintf(err, errlen, "cannot become user %u: %s", (unsigned)w->uid, strerror(errno));
		return -1;
	}
	return 0;
}
