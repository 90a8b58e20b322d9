/* Per-thread call-site memory outside TLS (sites.h). */
#include "sites.h"
#include "sys.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

static pthread_key_t key;
static int have_key;
static struct hr_sites *spare;   /* blocks of threads that ended, under lock */
static int lock;                 /* a spin lock: held for a few stores */
static __thread struct hr_sites *t_mine HR_TLS;
static __thread int t_none HR_TLS;   /* this thread gets no block (ending, or none could be had) */

static void take_lock(void)
{
	while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		hr_sys0(SYS_sched_yield);
}

static void drop_lock(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

/* The thread is ending: its block goes back for the next thread. Its
 * walks from here on (other destructors may allocate) are not remembered:
 * the block may be another thread's already. */
static void thread_ends(void *p)
{
	int was = hr_busy;
	hr_busy = 1;   /* a signal handler's malloc now is not recorded: it would not take the lock */
	t_mine = NULL;
	t_none = 1;
	struct hr_sites *s = p;
	take_lock();
	s->next = spare;
	spare = s;
	drop_lock();
	hr_busy = was;
}

void hr_sites_init(void)
{
	have_key = pthread_key_create(&key, thread_ends) == 0;
}

void hr_sites_new_process(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

struct hr_sites *hr_sites_mine(void)
{
	if (__builtin_expect(t_mine != NULL, 1))
		return t_mine;
	if (t_none || !have_key)
		return NULL;
	t_none = 1;
	take_lock();
	struct hr_sites *s = spare;
	if (s)
		spare = s->next;
	drop_lock();
	if (s) {
		memset(s, 0, sizeof(*s));
	} else {
		long p = hr_sys6(SYS_mmap, 0, sizeof(*s), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p < 0 && p > -4096)
			return NULL;
		s = (struct hr_sites *)p;   /* zeroed */
	}
	/* the first 32 keys of a thread need no allocation in glibc */
	if (pthread_setspecific(key, s) != 0) {
		take_lock();
		s->next = spare;
		spare = s;
		drop_lock();
		return NULL;
	}
	t_mine = s;
	t_none = 0;
	return s;
}
