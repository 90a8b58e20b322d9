/* Resumes the processes etrace holds if etrace dies without resuming them,
 * on kernels whose BPF side cannot (no bpf_send_signal_task). */
#ifndef ETRACE_HOLDWATCH_H
#define ETRACE_HOLDWATCH_H

#include <sys/types.h>

struct holdwatch {
	int fd;     /* write end of the pipe the watcher reads; -1: none */
	pid_t pid;  /* the watcher */
};

/* Forks the watcher of held_map_fd (the BPF map of held pids, its keys are
 * tgids). 0, or -1 with errno. */
int holdwatch_start(struct holdwatch *w, int held_map_fd);
/* etrace resumed everything itself: the watcher leaves untouched. */
void holdwatch_end(struct holdwatch *w);

#endif
