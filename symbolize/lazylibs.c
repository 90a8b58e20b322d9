/* capstone and libpcap, loaded on first use instead of at etrace's start.
 *
 * Most runs need neither (capstone decodes a crash's faulting instruction
 * and places heap uprobes; libpcap compiles --skb-filter), but linked the
 * ordinary way both are mapped and relocated before main: capstone's
 * tables are ~1.7 MB of pointers the loader relocates page by page (a
 * first touch of a page is ~16 us on the VMs here), and libpcap brings
 * libdbus, libsystemd, libgcrypt and four compression libraries with it.
 * Measured here: ~8.7 ms and ~3 ms of every run's start-up.
 *
 * etrace is not linked with them: the functions it calls are defined
 * below with the libraries' own prototypes (from their headers), and each
 * forwards to the library's, which dlopen loads (by the soname the build
 * found, through the system's ordinary library search) the first time one
 * is called. The executable does not export these names, so the libraries'
 * own internal calls still bind to themselves. A library that cannot be
 * loaded makes the first call fail the way the library reports a failure
 * (cs_open: CS_ERR_MEM; pcap_open_dead: NULL), which the callers handle. */
#include <dlfcn.h>
#include <pthread.h>

#include <capstone/capstone.h>
#include <pcap/pcap.h>

#ifndef CAPSTONE_SONAME
#define CAPSTONE_SONAME "libcapstone.so.4"
#endif
#ifndef PCAP_SONAME
#define PCAP_SONAME "libpcap.so.0.8"
#endif

struct lazylib {
	const char *soname;
	pthread_once_t once;
	void *handle;
};

static struct lazylib capstone = { CAPSTONE_SONAME, PTHREAD_ONCE_INIT, NULL };
static struct lazylib pcap = { PCAP_SONAME, PTHREAD_ONCE_INIT, NULL };

static void open_capstone(void)
{
	capstone.handle = dlopen(capstone.soname, RTLD_NOW | RTLD_LOCAL);
}

static void open_pcap(void)
{
	pcap.handle = dlopen(pcap.soname, RTLD_NOW | RTLD_LOCAL);
}

static void *cs_fn(const char *name)
{
	pthread_once(&capstone.once, open_capstone);
	return capstone.handle ? dlsym(capstone.handle, name) : NULL;
}

static void *pcap_fn(const char *name)
{
	pthread_once(&pcap.once, open_pcap);
	return pcap.handle ? dlsym(pcap.handle, name) : NULL;
}

/* ---- capstone: only cs_open and cs_malloc can be the first call ---- */

cs_err cs_open(cs_arch arch, cs_mode mode, csh *handle)
{
	cs_err (*fn)(cs_arch, cs_mode, csh *) = (cs_err(*)(cs_arch, cs_mode, csh *))cs_fn("cs_open");
	return fn ? fn(arch, mode, handle) : CS_ERR_MEM;
}

cs_err cs_option(csh handle, cs_opt_type type, size_t value)
{
	cs_err (*fn)(csh, cs_opt_type, size_t) = (cs_err(*)(csh, cs_opt_type, size_t))cs_fn("cs_option");
	return fn ? fn(handle, type, value) : CS_ERR_MEM;
}

cs_err cs_close(csh *handle)
{
	cs_err (*fn)(csh *) = (cs_err(*)(csh *))cs_fn("cs_close");
	return fn ? fn(handle) : CS_ERR_MEM;
}

size_t cs_disasm(csh handle, const uint8_t *code, size_t code_size, uint64_t address, size_t count, cs_insn **insn)
{
	size_t (*fn)(csh, const uint8_t *, size_t, uint64_t, size_t, cs_insn **) =
		(size_t(*)(csh, const uint8_t *, size_t, uint64_t, size_t, cs_insn **))cs_fn("cs_disasm");
	return fn ? fn(handle, code, code_size, address, count, insn) : 0;
}

void cs_free(cs_insn *insn, size_t count)
{
	void (*fn)(cs_insn *, size_t) = (void (*)(cs_insn *, size_t))cs_fn("cs_free");
	if (fn)
		fn(insn, count);
}

cs_insn *cs_malloc(csh handle)
{
	cs_insn *(*fn)(csh) = (cs_insn * (*)(csh)) cs_fn("cs_malloc");
	return fn ? fn(handle) : NULL;
}

bool cs_disasm_iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address, cs_insn *insn)
{
	bool (*fn)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *) =
		(bool (*)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *))cs_fn("cs_disasm_iter");
	return fn ? fn(handle, code, size, address, insn) : false;
}

bool cs_insn_group(csh handle, const cs_insn *insn, unsigned int group_id)
{
	bool (*fn)(csh, const cs_insn *, unsigned int) =
		(bool (*)(csh, const cs_insn *, unsigned int))cs_fn("cs_insn_group");
	return fn ? fn(handle, insn, group_id) : false;
}

cs_err cs_regs_access(csh handle, const cs_insn *insn, cs_regs regs_read, uint8_t *regs_read_count,
		      cs_regs regs_write, uint8_t *regs_write_count)
{
	cs_err (*fn)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *) =
		(cs_err(*)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *))cs_fn("cs_regs_access");
	return fn ? fn(handle, insn, regs_read, regs_read_count, regs_write, regs_write_count) : CS_ERR_MEM;
}

/* ---- libpcap: only pcap_open_dead can be the first call ---- */

pcap_t *pcap_open_dead(int linktype, int snaplen)
{
	pcap_t *(*fn)(int, int) = (pcap_t * (*)(int, int)) pcap_fn("pcap_open_dead");
	return fn ? fn(linktype, snaplen) : NULL;
}

int pcap_compile(pcap_t *p, struct bpf_program *prog, const char *expr, int optimize, bpf_u_int32 netmask)
{
	int (*fn)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32) =
		(int (*)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32))pcap_fn("pcap_compile");
	return fn ? fn(p, prog, expr, optimize, netmask) : -1;
}

char *pcap_geterr(pcap_t *p)
{
	char *(*fn)(pcap_t *) = (char *(*)(pcap_t *))pcap_fn("pcap_geterr");
	return fn ? fn(p) : (char *)"libpcap could not be loaded";
}

void pcap_freecode(struct bpf_program *prog)
{
	void (*fn)(struct bpf_program *) = (void (*)(struct bpf_program *))pcap_fn("pcap_freecode");
	if (fn)
		fn(prog);
}

void pcap_close(pcap_t *p)
{
	void (*fn)(pcap_t *) = (void (*)(pcap_t *))pcap_fn("pcap_close");
	if (fn)
		fn(p);
}
