#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PARENT_DIR "etrace.slice"

static int find_in_mounts(const char *mounts, char *out, size_t len)
{
	FILE *f = fopen(mounts, "re");
	if (!f)
		return -1;
	char dev[256], dir[512], type[64];
	int found = 0;
	while (fscanf(f, "%255s %511s %63s %*s %*d %*d", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(out, len, "%s", dir);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

int cgroup2_find_mount(char *out, size_t len, char *err, size_t errlen)
{
	if (access("/proc/self/mounts", R_OK) < 0) {
		snprintf(err, errlen, "cannot read /proc/self/mounts: %s", strerror(errno));
		return -1;
	}
	if (find_in_mounts("/proc/self/mounts", out, len) == 0)
		return 0;
	/* `ip netns exec` gives its command a mount namespace with a fresh
	 * /sys, which hides /sys/fs/cgroup. cgroups are global: mount the
	 * hierarchy detached (fsmount, attached nowhere, gone with etrace) and
	 * reach it through the fd. Once per process. */
	static int mnt_fd = -1;
	int saved = 0;
	if (mnt_fd < 0) {
		int fs = fsopen("cgroup2", FSOPEN_CLOEXEC);
		if (fs >= 0) {
			if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
				mnt_fd = fsmount(fs, FSMOUNT_CLOEXEC, 0);
			saved = errno;
			close(fs);
		} else {
			saved = errno;
		}
	}
	if (mnt_fd >= 0) {
		snprintf(out, len, "/proc/%d/fd/%d", (int)getpid(), mnt_fd);
		return 0;
	}
	snprintf(err, errlen, "no cgroup2 file system is mounted (mount -t cgroup2 none /sys/fs/cgroup; mounting it detached: %s)",
		 strerror(saved));
	return -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* When process pid started (clock ticks after boot, /proc/PID/stat field
 * 22), 0 if unknown: with the pid it names one process, whatever its comm. */
static unsigned long long proc_starttime(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');   /* the comm may hold spaces and parentheses */
	unsigned long long start = 0;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &start) != 1)
		return 0;
	return start;
}

/* A leaf is stale when the etrace that made it (pid in its name) is gone.
 * Its owner is the process with that pid and the start time that follows
 * (an etrace under valgrind or installed under another name is not called
 * "etrace"), or, for leaves named otherwise, a process called etrace*. */
static int leaf_owner_alive(const char *name)
{
	int pid = 0;
	unsigned long long start = 0;
	if (sscanf(name, "run-%d-%llx", &pid, &start) < 1 || pid <= 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (start && proc_starttime(pid) == start)
		return 1;
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	return strncmp(comm, "etrace", 6) == 0;
}

int cgroup_clean_stale(const char *mount)
{
	char parent[512];
	snprintf(parent, sizeof(parent), "%s/%s", mount, PARENT_DIR);
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "run-", 4) != 0 || leaf_owner_alive(de->d_name))
			continue;
		char leaf[1024];
		snprintf(leaf, sizeof(leaf), "%s/%s", parent, de->d_name);
		/* a non-empty leaf still holds a live target of a killed etrace: leave it */
		if (rmdir(leaf) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int cgroup_create(struct et_cgroup *cg, char *err, size_t errlen)
{
	memset(cg, 0, sizeof(*cg));
	cg->fd = -1;
	if (cgroup2_find_mount(cg->mount, sizeof(cg->mount), err, errlen) < 0)
		return -1;
	cgroup_clean_stale(cg->mount);

	char parent[sizeof(cg->mount) + 32];
	snprintf(parent, sizeof(parent), "%s/%s", cg->mount, PARENT_DIR);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create cgroup %s: %s", parent, strerror(errno));
		return -1;
	}
	/* run-<pid>-<start time>: what cgroup_clean_stale() checks the owner by */
	unsigned long long start = proc_starttime((int)getpid());
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(cg->path, sizeof(cg->path), "%s/run-%d-%llx", parent, (int)getpid(), start + (unsigned)attempt);
		if (mkdir(cg->path, 0755) == 0)
			break;
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create cgroup %s: %s", cg->path, strerror(errno));
			return -1;
		}
	}
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (cg->fd < 0 || fstat(cg->fd, &st) < 0) {
		snprintf(err, errlen, "cannot open cgroup %s: %s", cg->path, strerror(errno));
		rmdir(cg->path);
		return -1;
	}
	cg->id = st.st_ino;
	return 0;
}

int cgroup_enter(const struct et_cgroup *cg)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path);
	return write_file(path, "0");
}

int cgroup_pids(const struct et_cgroup *cg, int *pids, int max)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int n = 0, pid;
	while (n < max && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	return n;
}

void cgroup_kill_all(const struct et_cgroup *cg)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/cgroup.kill", cg->path);
	if (write_file(path, "1") == 0)
		return;
	int pids[1024];
	int n = cgroup_pids(cg, pids, 1024);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
}

/* The cgroup etrace runs in, from /proc/self/cgroup ("0::/path"). */
static int own_cgroup(const struct et_cgroup *cg, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char line[700];
	int ok = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s%s", cg->mount, line + 3);
			ok = 0;
			break;
		}
	}
	fclose(f);
	return ok;
}

int cgroup_release_all(const struct et_cgroup *cg)
{
	char dest[1024], procs[1100];
	if (own_cgroup(cg, dest, sizeof(dest)) < 0)
		return 0;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dest);
	int pids[1024];
	int n = cgroup_pids(cg, pids, 1024), moved = 0;
	for (int i = 0; i < n; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%d", pids[i]);
		if (write_file(procs, buf) == 0)
			moved++;
	}
	return moved;
}

int cgroup_remove(struct et_cgroup *cg)
{
	if (!cg->path[0])
		return 0;
	if (cg->fd >= 0) {
		close(cg->fd);
		cg->fd = -1;
	}
	/* exiting tasks can linger in cgroup.procs for a moment */
	for (int i = 0; i < 200; i++) {
		if (rmdir(cg->path) == 0 || errno == ENOENT) {
			cg->path[0] = '\0';
			return 0;
		}
		if (errno != EBUSY)
			break;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}
