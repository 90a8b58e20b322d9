/* --sched=on's programs (bpf/sched.bpf.c): what each syscall waits for, in;
 * the contended futex words, out (the time section of reports/hang). */
#include "runner/tracer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "sched.skel.h"
#include "runner/concern.h"
#include "runner/kernelfit.h"
#include "reports/syscalls/syscall_table.h"

/* What a thread sleeping in each syscall waits for (bpf/timeacct.h). */
static int fill_wait_classes(struct tracer *t)
{
	static const struct {
		int reason;
		const char *names;
	} classes[] = {
		{ ET_OFF_LOCK, "futex futex_waitv" },
		{ ET_OFF_IO, "read write pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2 sendfile splice tee "
			     "vmsplice fsync fdatasync sync_file_range syncfs sync recvfrom recvmsg recvmmsg sendto sendmsg "
			     "sendmmsg accept accept4 connect open openat openat2 io_uring_enter io_getevents "
			     "io_pgetevents flock fcntl msync" },
		{ ET_OFF_POLL, "poll ppoll select pselect6 epoll_wait epoll_pwait epoll_pwait2" },
		{ ET_OFF_SLEEP, "nanosleep clock_nanosleep pause rt_sigsuspend rt_sigtimedwait" },
		{ ET_OFF_CHILD, "wait4 waitid" },
	};
	int fd = bpf_map__fd(t->sched->maps.wait_class);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%s", classes[i].names);
		for (char *save, *n = strtok_r(buf, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
			int nr = syscall_nr(n);
			if (nr < 0 || nr >= ET_MAX_SYSCALLS)
				continue;
			__u32 key = (__u32)nr;
			__u8 v = (__u8)(classes[i].reason + 1);
			if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) < 0)
				return -errno;
		}
	}
	return 0;
}

/* The contended futex words (bpf/timeacct.h), as records: the model and a
 * recording see them. */
void tr_futexes_collect(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.futex_waits);
	struct et_futex_key k, next;
	void *prev = NULL;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct ev_futexstat e;
		memset(&e, 0, sizeof(e));
		if (bpf_map_lookup_elem(fd, &next, &e.st) == 0) {
			e.h.type = ET_EV_FUTEXSTAT;
			e.h.size = sizeof(e);
			e.h.ts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			e.h.pid = next.pid;
			e.h.tid = e.st.max_tid;
			e.addr = next.addr;
			tr_on_record(t, &e, sizeof(e));
		}
		k = next;
		prev = &k;
	}
}

/* --sched=on's programs (bpf/sched.bpf.c) and what each syscall waits for. */
int tr_sched_open(struct tracer *t, char *err, size_t errlen)
{
	t->sched = sched_bpf__open();
	if (!t->sched) {
		snprintf(err, errlen, "cannot open the --sched BPF object: %s", strerror(errno));
		return -1;
	}
	t->sched->rodata->shared_cfg = t->shared;
	if (kernelfit_tracepoints(t->sched->obj, kernelfit_vmlinux(), t->m, err, errlen) < 0 ||
	    concern_load(t->sched->obj, &t->skel->obj, 1, "sched", err, errlen) < 0)
		return -1;
	int rc = fill_wait_classes(t);
	if (rc) {
		snprintf(err, errlen, "cannot fill the wait classes' map: %s", strerror(-rc));
		return -1;
	}
	rc = sched_bpf__attach(t->sched);
	if (rc) {
		snprintf(err, errlen, "cannot attach the --sched tracepoints: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
