/* The target's cgroup v2 leaf: created before the target starts, removed at the end. */
#ifndef ETRACE_CGROUP_H
#define ETRACE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct et_cgroup {
	char mount[256];    /* cgroup2 mount point, from /proc/self/mounts */
	char path[512];     /* the leaf: <mount>/etrace.slice/run-<pid>-<start time, hex> */
	uint64_t id;        /* cgroup id (inode number), as bpf_get_current_cgroup_id() sees it */
	int fd;             /* O_DIRECTORY fd of the leaf */
};

/* Finds the cgroup2 mount. Returns 0, or -1 with a message in err. */
int cgroup2_find_mount(char *out, size_t len, char *err, size_t errlen);
/* Removes leaves left by etrace runs that no longer exist (a SIGKILLed etrace). Returns the count. */
int cgroup_clean_stale(const char *mount);
/* Creates the leaf for this run. Returns 0, or -1 with a message in err. */
int cgroup_create(struct et_cgroup *cg, char *err, size_t errlen);
/* Moves the calling process into the leaf (used by the held child). */
int cgroup_enter(const struct et_cgroup *cg);
/* Pids still in the leaf (up to max). */
int cgroup_pids(const struct et_cgroup *cg, int *pids, int max);
/* Kills everything in the leaf (cgroup.kill, or SIGKILL to each pid). */
void cgroup_kill_all(const struct et_cgroup *cg);
/* Moves remaining processes to the cgroup etrace itself runs in. Returns how many. */
int cgroup_release_all(const struct et_cgroup *cg);
/* Removes the leaf (retrying briefly while exiting tasks leave it). */
int cgroup_remove(struct et_cgroup *cg);

#endif
