/* Runs the hang snapshot's iterators (bpf/hang.bpf.c). */
#include "hangsnap.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hang.skel.h"
#include "bpf/events.h"
#include "reports/core/error.h"

/* Reads an iterator to its end and passes each whole record on. The
 * kernel's seq_file may split a record between reads: they are joined
 * first. Returns the records passed, or -1. */
static int read_iter(struct bpf_program *prog, uint32_t want_type, hangsnap_sink sink, void *ctx, char *err,
		     size_t errlen)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	if (!link) {
		snprintf(err, errlen, "cannot attach the %s iterator: %s", bpf_program__name(prog), strerror(errno));
		return -1;
	}
	int fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		snprintf(err, errlen, "cannot start the %s iterator: %s", bpf_program__name(prog), strerror(errno));
		bpf_link__destroy(link);
		return -1;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int n = 0;
	for (;;) {
		if (!buf)
			break;
		if (cap - len < 65536) {
			char *nb = cap < ((size_t)256 << 20) ? realloc(buf, cap * 2) : NULL;
			if (!nb)
				break; /* a tree this large: the threads read so far */
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	size_t off = 0;
	while (buf && off + sizeof(struct ev_header) <= len) {
		const struct ev_header *h = (const struct ev_header *)(buf + off);
		if (h->size < sizeof(*h) || h->size > len - off)
			break;
		sink(ctx, h, h->size);
		if (h->type == want_type)
			n++;
		off += h->size;
	}
	free(buf);
	close(fd);
	bpf_link__destroy(link);
	return n;
}

struct hangsnap {
	int tasks_fd;
	uint32_t nr_futex;
	pthread_t loader;
	bool loading;             /* the loader thread runs or ran: join it */
	bool loaded;
	struct hang_bpf *skel;
	char err[160];
};

struct hangsnap *hangsnap_new(int tasks_fd, uint32_t nr_futex)
{
	struct hangsnap *hs = calloc(1, sizeof(*hs));
	if (hs) {
		hs->tasks_fd = tasks_fd;
		hs->nr_futex = nr_futex;
	}
	return hs;
}

static void load(struct hangsnap *hs)
{
	hs->skel = hang_bpf__open();
	if (!hs->skel) {
		snprintf(hs->err, sizeof(hs->err), "cannot open the snapshot's BPF object: %s", strerror(errno));
		return;
	}
	hs->skel->rodata->nr_futex = hs->nr_futex;
	if (bpf_map__reuse_fd(hs->skel->maps.tasks, hs->tasks_fd) < 0) {
		snprintf(hs->err, sizeof(hs->err), "cannot share the task map with the snapshot: %s", strerror(errno));
		return;
	}
	if (hang_bpf__load(hs->skel) < 0) {
		snprintf(hs->err, sizeof(hs->err), "this kernel refused the snapshot's task iterator (%s)", strerror(errno));
		return;
	}
	hs->loaded = true;
}

static void *loader(void *arg)
{
	load(arg);
	return NULL;
}

void hangsnap_prepare(struct hangsnap *hs)
{
	if (hs && !hs->loading && !hs->loaded && pthread_create(&hs->loader, NULL, loader, hs) == 0)
		hs->loading = true;
}

static void wait_loaded(struct hangsnap *hs)
{
	if (hs->loading) {
		pthread_join(hs->loader, NULL);
		hs->loading = false;
	} else if (!hs->loaded && !hs->err[0]) {
		load(hs);
	}
}

int hangsnap_take(struct hangsnap *hs, hangsnap_sink sink, void *ctx, char *err, size_t errlen)
{
	if (!hs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	wait_loaded(hs);
	if (!hs->loaded) {
		snprintf(err, errlen, "%s", hs->err);
		return -1;
	}
	int rc = read_iter(hs->skel->progs.et_snap_task, ET_EV_SNAP_THREAD, sink, ctx, err, errlen);
	if (rc >= 0) {
		char ferr[160];
		/* the pipes and sockets are a bonus: the threads stand without them */
		if (read_iter(hs->skel->progs.et_snap_file, ET_EV_SNAP_FILE, sink, ctx, ferr, sizeof(ferr)) < 0 &&
		    getenv("ETRACE_DEBUG"))
			et_warning("%s", ferr);
	}
	return rc;
}

void hangsnap_free(struct hangsnap *hs)
{
	if (!hs)
		return;
	if (hs->loading)
		pthread_join(hs->loader, NULL);
	hang_bpf__destroy(hs->skel);
	free(hs);
}
