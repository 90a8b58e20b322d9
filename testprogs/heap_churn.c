/* Allocation churn across threads: the heap section's no-false-positive
 * check and the heap benchmark's workload.
 * Usage: heap_churn [N [THREADS]]   (default 10000 and 4)
 * Each of THREADS threads makes N allocation+free pairs: it keeps 32 slots
 * and, for each pair, frees one slot (a free, or a realloc to a new size:
 * one in eight) and fills it again (malloc, or calloc one in eight), sizes
 * from 1 byte to 1 KiB, one in 64 up to 64 KiB, each block touched; at the
 * end every slot is freed. Deterministic (a per-thread LCG), zero leaks,
 * zero errors. Prints "churn N pairs x T threads S s R pairs/s cpu C s
 * rss K KiB" (the threads' wall time only, not start-up; C: the process's
 * CPU time over the same span, steadier than S on a loaded machine; K its
 * peak RSS) and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define SLOTS 32

static long pairs;

static double clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static size_t pick_size(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	unsigned r = *seed >> 8;
	if ((r & 63) == 0)
		return 1 + (r >> 6) % (64 * 1024);
	return 1 + (r >> 6) % 1024;
}

static void *worker(void *arg)
{
	unsigned seed = 1 + (unsigned)(long)arg * 7919u;
	char *slot[SLOTS] = { 0 };
	for (long i = 0; i < pairs; i++) {
		int k = (int)(i % SLOTS);
		size_t size = pick_size(&seed);
		char *p;
		if (slot[k] && (i & 7) == 5) {
			p = realloc(slot[k], size);     /* a free and an allocation */
		} else {
			free(slot[k]);
			p = (i & 7) == 3 ? calloc(1, size) : malloc(size);
		}
		if (!p)
			abort();
		p[0] = (char)i;
		p[size - 1] = (char)i;
		slot[k] = p;
	}
	for (int k = 0; k < SLOTS; k++)
		free(slot[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	pairs = argc > 1 ? atol(argv[1]) : 10000;
	int nthreads = argc > 2 ? atoi(argv[2]) : 4;
	if (pairs < 1 || nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "usage: heap_churn [N [THREADS]]  (N >= 1, 1 <= THREADS <= 64)\n");
		return 2;
	}
	pthread_t th[64];
	double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(long)t) != 0)
			return 1;
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	double dt = now() - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("churn %ld pairs x %d threads %.6f s %.0f pairs/s cpu %.6f s rss %ld KiB\n", pairs, nthreads, dt,
	       pairs * nthreads / (dt > 0 ? dt : 1e-9), cpu, ru.ru_maxrss);
	return 0;
}
