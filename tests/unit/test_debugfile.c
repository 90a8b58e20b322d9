/* symbolize/debugfile.c: a module without a local debug file is named from
 * its own symbol table, and the debuginfod client library is not loaded for
 * it when no server is configured (libdw 0.188 loads it, with libcurl and
 * ~25 more libraries, for every such search: 14-30 ms of a report). */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <zlib.h>

#include "symbolize/unwind.h"
#include "unit.h"

int main(void)
{
	unsetenv("DEBUGINFOD_URLS");
	/* zlib: linked by etrace, shipped stripped, no -dbg package installed
	 * by tests/install-deps.sh: its symbols come from .dynsym, after the
	 * search for a separate debug file found none */
	Dl_info info;
	struct link_map *lm = NULL;
	void *fn = (void *)crc32;
	CHECK(dladdr1(fn, &info, (void **)&lm, RTLD_DL_LINKMAP) != 0 && lm && info.dli_fname);
	if (!lm || !info.dli_fname)
		return unit_done();
	struct sym_module m = { .path = info.dli_fname, .bias = lm->l_addr };
	struct sym_session *s = sym_open(&m, 1);
	CHECK(s != NULL);
	const char *module = NULL;
	const char *name = sym_function_name(s, (uint64_t)(uintptr_t)fn, 0, &module);
	CHECK_STR(name, "crc32");
	CHECK(module && strncmp(module, "libz.so", 7) == 0);
	struct sym_frame f[4];
	size_t n = sym_address(s, (uint64_t)(uintptr_t)fn + 1, 0, f, 4);
	CHECK(n >= 1 && f[0].function && strcmp(f[0].function, "crc32") == 0 && f[0].file == NULL);
	sym_frames_free(f, n);
	sym_close(s);
	/* RTLD_NOLOAD: only asks whether it is loaded */
	void *client = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD);
	CHECK(client == NULL);
	if (client)
		dlclose(client);
	return unit_done();
}
