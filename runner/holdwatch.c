/* A process that resumes the processes etrace holds when etrace dies
 * without resuming them itself (SIGKILL, a crash), on kernels where the BPF
 * side cannot: releasing a stopped process from etrace's own exit
 * tracepoint needs the bpf_send_signal_task kfunc (Linux 6.13), so on
 * Debian 12's 6.1 and 6.12 a held process would stay stopped for good.
 *
 * The watcher is forked right after the BPF maps exist. It keeps only the
 * map of held pids and the read end of a pipe whose write end only etrace
 * has: end of file there means etrace is gone (by then its exit tracepoint
 * has set holds_off, so no new stop can start). A clean end writes a byte
 * first and the watcher leaves without touching anything. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "holdwatch.h"

/* pid is still a process of etrace pid owner's run: its cgroup is one of
 * owner's leaves (etrace.slice/run-<owner>-<n>), so a pid reused since it
 * was held is never signalled. */
static int in_run_of(pid_t pid, pid_t owner)
{
	char path[64], line[4096], want[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof(want), "/etrace.slice/run-%d-", (int)owner);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int yes = 0;
	while (!yes && fgets(line, sizeof(line), f))
		yes = strstr(line, want) != NULL;
	fclose(f);
	return yes;
}

static void sweep(int map_fd, pid_t owner)
{
	__u32 key, next;
	int n = 0;
	/* each key is deleted before the next lookup, so NULL finds the first left */
	while (bpf_map_get_next_key(map_fd, NULL, &next) == 0 && n++ < 65536) {
		key = next;
		if (in_run_of((pid_t)key, owner))
			kill((pid_t)key, SIGCONT);
		bpf_map_delete_elem(map_fd, &key);
	}
}

static void watch(int map_fd, int rd, pid_t owner)
{
	/* out of etrace's session: a Ctrl-C or a signal to etrace's process
	 * group must not end the watcher before it has done its job */
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "etrace-holdwatch", 0, 0, 0);
	/* nothing else of etrace's stays open here: its BPF links, ring buffer
	 * and output files must close when etrace does */
	/* out of the way first: the pipe's read end is often fd 3 itself (a
	 * run started with only 0-2 open), and dup2(map_fd, 3) would close it */
	int mfd = fcntl(map_fd, F_DUPFD, 10), rfd = fcntl(rd, F_DUPFD, 10);
	if (mfd < 0 || rfd < 0 || dup2(mfd, 3) < 0 || dup2(rfd, 4) < 0)
		_exit(1);
	if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
		for (int fd = 5; fd < 4096; fd++)
			close(fd);
	for (int fd = 0; fd < 3; fd++)
		close(fd);
	char c;
	ssize_t r;
	do
		r = read(4, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		sweep(3, owner);
	_exit(0);
}

int holdwatch_start(struct holdwatch *w, int held_map_fd)
{
	int p[2];
	w->fd = -1;
	w->pid = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t owner = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		watch(held_map_fd, p[0], owner);
	}
	close(p[0]);
	w->fd = p[1];
	w->pid = pid;
	return 0;
}

void holdwatch_end(struct holdwatch *w)
{
	if (w->fd < 0)
		return;
	ssize_t r;
	do
		r = write(w->fd, "q", 1);
	while (r < 0 && errno == EINTR);
	close(w->fd);
	w->fd = -1;
	/* the watcher left etrace's session but is still its child: reap it */
	if (w->pid > 0)
		while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
	w->pid = -1;
}
