/* Separate debug files for libdwfl: its find_debuginfo callback. */
#ifndef ETRACE_DEBUGFILE_H
#define ETRACE_DEBUGFILE_H

#include <elfutils/libdwfl.h>

/* libdwfl's standard lookup when a debuginfod server is configured
 * (DEBUGINFOD_URLS not empty); otherwise the same local lookup without
 * its last step, which loads the debuginfod client library even with no
 * server to ask: by build-id under /usr/lib/debug/.build-id (libdwfl),
 * then by .gnu_debuglink name (or FILE.debug) beside the file, in its
 * .debug directory and under /usr/lib/debug. Returns an open descriptor
 * and sets *debuginfo_file_name, or -1. */
int sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		       const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		       char **debuginfo_file_name);

#endif
