/* Data symbols: see datasym.h. */
#include "symbolize/fileutil.h"
#include "datasym.h"

#include <stdlib.h>
#include <string.h>

#include "sym_internal.h"

int sym_data_at(struct sym_session *s, uint64_t addr, struct sym_data *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	if (!mod)
		return -1;
	Dwarf_Addr start = 0;
	const char *mname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	if (mname) {
		out->module = strdup(path_base(mname));
	}
	out->module_offset = addr - start;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	/* only a variable that contains the address: a function's or a
	 * neighbour's name would be a false one */
	if (name && (GELF_ST_TYPE(sym.st_info) == STT_OBJECT || GELF_ST_TYPE(sym.st_info) == STT_TLS) &&
	    off < sym.st_size) {
		out->name = sym_demangle(name);
		out->offset = off;
		out->size = sym.st_size;
	}
	return 0;
}

void sym_data_free(struct sym_data *d)
{
	free(d->name);
	free(d->module);
	memset(d, 0, sizeof(*d));
}
