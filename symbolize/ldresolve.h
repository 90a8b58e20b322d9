/* The shared objects the dynamic loader maps for a program, found by reading
 * the ELF files, as ld.so would search for them: LD_PRELOAD and
 * /etc/ld.so.preload, then each object's DT_NEEDED through DT_RPATH,
 * LD_LIBRARY_PATH, DT_RUNPATH ($ORIGIN, $LIB, $PLATFORM expanded),
 * /etc/ld.so.cache and the default directories. Nothing is ever run (the
 * old way, `ld.so --list`, ran whatever PT_INTERP the program named, as
 * root). Files are opened with the caller's rights. */
#ifndef ETRACE_LDRESOLVE_H
#define ETRACE_LDRESOLVE_H

#include <stddef.h>

struct ldlist {
	char **v;      /* real paths, the program itself first */
	size_t n;
};

/* envp: the environment the program will get (LD_PRELOAD, LD_LIBRARY_PATH).
 * Returns 0, or -1 with a message when exe is not a readable ELF file; a
 * library that cannot be found is left out (the loader would fail on it). */
int ld_resolve(const char *exe, char *const envp[], struct ldlist *out, char *err, size_t errlen);
void ldlist_free(struct ldlist *l);

#endif
