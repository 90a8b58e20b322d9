/* The one use of libiberty's demangler in the suppression reader, apart
 * from supp.c: libiberty.h declares xmalloc and friends, which
 * reports/core/xalloc.h defines differently. */
#include <stddef.h>

#include <libiberty/demangle.h>

char *supp_demangle(const char *name);

char *supp_demangle(const char *name)
{
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
}
