/* The frame-pointer walk of libetrace_heap.so (stackwalk.h).
 *
 * Bounds. A frame is read only when it lies wholly inside the calling
 * thread's stack, between the hook's own frame and the stack's top; every
 * comparison is written so that it cannot wrap (cc1, built without frame
 * pointers, leaves rbp = -8: "f + 16 <= top" wrapped to true and the read
 * faulted). The stack is known per thread and cached in TLS:
 *  - the initial thread: the kernel's [stack] mapping, its top read from
 *    /proc/self/maps at start; it grows down on demand, so everything
 *    between the current sp and the top is mapped. It is trusted for sp
 *    within 128 MiB of the top: the kernel keeps at least that gap
 *    between the stack's top and the mmap area.
 *  - other threads: pthread_getattr_np (the thread's stack block, also a
 *    stack the program gave with pthread_attr_setstack), asked once per
 *    thread, outside the hot path.
 * An sp outside the thread's stack (a signal stack, a coroutine, a raw
 * clone() thread running on a stack glibc does not know) gets the caller
 * only. */
#include "stackwalk.h"
#include "sys.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAIN_STACK_SPAN (128ull << 20)

static uintptr_t main_top;          /* the initial thread's [stack] top */
static pthread_t main_thread;       /* the initial thread's descriptor */

/* this thread's stack, [t_lo, t_hi); t_known: asked already (0 none found) */
static __thread uintptr_t t_lo HR_TLS, t_hi HR_TLS;
static __thread int t_known HR_TLS;

void hr_stack_init(void)
{
	static char buf[65536];
	main_thread = pthread_self();
	int fd = (int)hr_sys3(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	size_t n = 0;
	long r;
	while (n < sizeof(buf) - 1 && (r = hr_sys3(SYS_read, fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	hr_sys1(SYS_close, fd);
	buf[n] = 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strstr(line, "[stack]")) {
			char *dash;
			uintptr_t lo = (uintptr_t)strtoull(line, &dash, 16);
			uintptr_t hi = *dash == '-' ? (uintptr_t)strtoull(dash + 1, NULL, 16) : 0;
			if (lo < hi && hi > MAIN_STACK_SPAN)
				main_top = hi;
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
}

void hr_stack_forget(void)
{
	t_known = 0;
}

static void learn_stack(void)
{
	t_known = 1;
	t_lo = t_hi = 0;
	if (pthread_equal(pthread_self(), main_thread)) {
		if (main_top) {
			t_lo = main_top - MAIN_STACK_SPAN;
			t_hi = main_top;
		}
		return;
	}
	pthread_attr_t a;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	void *addr;
	size_t size;
	if (pthread_attr_getstack(&a, &addr, &size) == 0 && addr && size && (uintptr_t)addr + size > (uintptr_t)addr) {
		t_lo = (uintptr_t)addr;
		t_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&a);
}

uint32_t hr_walk(uint64_t *out, uint32_t max, void *ra, void *fp)
{
	uint32_t n = 0;
	out[n++] = (uint64_t)(uintptr_t)ra;
	if (!t_known)
		learn_stack();
	uintptr_t f = (uintptr_t)fp, lo = t_lo, hi = t_hi;
	/* a frame is two words, both below hi: f <= hi - 16, written without
	 * an addition that could wrap */
	if (hi - lo < 16 || f < lo || f > hi - 16 || (f & 7))
		return n;
	/* fp is the hook's own frame: [fp] is its caller's frame pointer */
	uintptr_t below = f;
	f = *(const uintptr_t *)f;
	while (n < max && f > below && f <= hi - 16 && !(f & 7)) {
		uintptr_t r = ((const uintptr_t *)f)[1];
		if (r < 4096)
			break;
		out[n++] = r;
		below = f;
		f = ((const uintptr_t *)f)[0];
	}
	return n;
}
