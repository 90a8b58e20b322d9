/* One parse of the kernel's BTF per etrace process, shared with libbpf.
 *
 * libbpf 1.1 (Debian 12) parses the kernel's BTF (5.4 MB, ~125,000 types)
 * afresh inside every bpf_object__load (CO-RE relocations, the tp_btf
 * attach points) and frees it at the end of the load; it offers no way to
 * hand it an already parsed one (btf_custom_path is a file it parses again,
 * and only for CO-RE). etrace parses it as well, to pick its programs. Each
 * parse was ~15-45 ms here: reading the file through sysfs is ~1,300 read
 * calls of a page each, then the parse touches ~6 MB of fresh memory.
 *
 * libbpf calls btf__load_vmlinux_btf and btf__free through its PLT (they
 * are exported functions of the library), so the definitions below, in the
 * executable, take their place for libbpf too: the first call parses, every
 * later one (etrace's, each object's load) returns the same parsed BTF, and
 * freeing it is a no-op. Were libbpf ever built to bind its own calls
 * locally, it would parse and free its own copy as before: slower, never
 * wrong. libbpf only reads the kernel's BTF (type lookups, CO-RE
 * candidates, module BTFs split on it), so sharing it, also between
 * threads, is safe: the parse is done once under a pthread_once.
 *
 * Where the kernel lets /sys/kernel/btf/vmlinux be mapped (Linux 6.16) it
 * is parsed from the mapping: one mmap instead of the page-sized reads.
 * Elsewhere, or if that fails, libbpf's own loader runs (it also tries the
 * vmlinux files under /boot and /lib/modules).
 *
 * Not on a thread of its own at the run's start, though it would overlap
 * the program's look-up and the object's opening: glibc's first
 * pthread_create installs its handler of signal 33 (SIGSETXID), and the
 * target would no longer inherit it ignored when etrace was started so. */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

static pthread_once_t once = PTHREAD_ONCE_INIT, found = PTHREAD_ONCE_INIT;
static struct btf *shared;
static int shared_err;

static struct btf *(*libbpf_load)(void);
static void (*libbpf_free)(struct btf *);

static void find_libbpf(void)
{
	libbpf_load = (struct btf * (*)(void)) dlsym(RTLD_NEXT, "btf__load_vmlinux_btf");
	libbpf_free = (void (*)(struct btf *))dlsym(RTLD_NEXT, "btf__free");
}

static struct btf *parse_mapped(void)
{
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	struct btf *btf = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			/* btf__new copies it: the mapping can go right after */
			btf = btf__new(m, (__u32)st.st_size);
			if (libbpf_get_error(btf))
				btf = NULL;
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	return btf;
}

static void parse_once(void)
{
	pthread_once(&found, find_libbpf);
	shared = parse_mapped();
	if (!shared && libbpf_load) {
		shared = libbpf_load();
		if (libbpf_get_error(shared))
			shared = NULL;
	}
	if (!shared)
		shared_err = errno ? errno : ESRCH;
}

struct btf *btf__load_vmlinux_btf(void)
{
	pthread_once(&once, parse_once);
	if (!shared)
		errno = shared_err;   /* libbpf 1.x: NULL and errno, no error pointers */
	return shared;
}

void btf__free(struct btf *btf)
{
	if (!btf || btf == shared)
		return;
	pthread_once(&found, find_libbpf);
	if (libbpf_free)
		libbpf_free(btf);
}
