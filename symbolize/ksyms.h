/*
 * Kernel symbols from /proc/kallsyms ("ffffffff81000000 T _stext", module
 * symbols with a "\t[module]" suffix): kernel addresses to "function+off"
 * and function names to addresses. Only text symbols (types t, T, w, W) are
 * kept; the names live in one string pool (kallsyms has >100k lines).
 */
#ifndef ETRACE_KSYMS_H
#define ETRACE_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/* An address further than this past the symbol before it is in no function
 * (a gap, e.g. between the kernel's text and the modules'). */
#define KSYMS_MAX_GAP (1u << 20)

struct ksyms;

/* Returns NULL with one line in err when the file cannot be read, has no
 * text symbol, or shows every address as 0 (kptr_restrict hides them from
 * users without CAP_SYSLOG). */
struct ksyms *ksyms_load(const char *path, char *err, size_t errlen);

/* The symbol containing addr (the last one at or below it; of several at
 * one address the global one, then a name without a leading underscore):
 * its name, the offset of addr into it, and its module or NULL for the
 * kernel itself. NULL when addr is below the first symbol or more than
 * KSYMS_MAX_GAP past the one before it. */
const char *ksyms_lookup(const struct ksyms *k, uint64_t addr, uint64_t *off, const char **module);

/* The address of a function by name, of the lowest-addressed one when the
 * name is not unique (static functions of several files); 0 if none. */
uint64_t ksyms_addr(const struct ksyms *k, const char *name);

size_t ksyms_count(const struct ksyms *k);
void ksyms_free(struct ksyms *k);

#endif
