/* The GNU build-id of an ELF file: what identifies the file a recording's
 * addresses belong to, whatever its path is on the machine that replays. */
#ifndef ETRACE_BUILDID_H
#define ETRACE_BUILDID_H

#include <stddef.h>

/* The build-id of the ELF file at path as lowercase hex in out; 0, or -1
 * when the file cannot be read or has no build-id note. */
int elf_build_id(const char *path, char *out, size_t outlen);

#endif
