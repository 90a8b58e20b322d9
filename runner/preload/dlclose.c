/* libetrace_heap.so: the program's dlclose, watched for what it unmaps.
 *
 * The unwind rules cfi.c keeps are per address. After a library is
 * unloaded, another one may be mapped at the same addresses (the kernel
 * hands out the hole again): its frames would be walked with the old
 * library's rules, and the stacks would be wrong past them. After each
 * dlclose that really unmapped an object (the loader's count of unloads,
 * dl_iterate_phdr's dlpi_subs, moved) every rule is forgotten.
 *
 * Only dlclose is interposed, not dlopen: glibc's dlopen searches with its
 * caller's DT_RUNPATH (it looks at its return address), which a wrapper
 * would change. dlclose has no such dependence. Unloads the C library
 * makes for itself (NSS or iconv modules, through its internal dlclose)
 * are not seen: rare, and their addresses rarely get another library. */
#include "cfi.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

typedef int (*fn_dlclose)(void *);

static fn_dlclose real_dlclose;   /* atomic */
static unsigned long long seen_subs;  /* atomic: the loader's unloads when last looked */

static int read_subs(struct dl_phdr_info *info, size_t size, void *arg)
{
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs))
		*(unsigned long long *)arg = info->dlpi_subs;
	return 1;   /* the counters are the same in every entry: one is enough */
}

EXPORT int dlclose(void *handle)
{
	fn_dlclose f = __atomic_load_n(&real_dlclose, __ATOMIC_ACQUIRE);
	if (!f) {
		f = (fn_dlclose)dlsym(RTLD_NEXT, "dlclose");
		if (!f)
			return -1;
		__atomic_store_n(&real_dlclose, f, __ATOMIC_RELEASE);
	}
	int rc = f(handle);
	int saved = errno;
	unsigned long long subs = 0;
	dl_iterate_phdr(read_subs, &subs);
	unsigned long long was = __atomic_load_n(&seen_subs, __ATOMIC_ACQUIRE);
	if (subs != was && __atomic_compare_exchange_n(&seen_subs, &was, subs, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		hr_cfi_forget();
	errno = saved;
	return rc;
}
