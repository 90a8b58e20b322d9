/* Separate debug files for libdwfl (debugfile.h).
 *
 * Why not dwfl_standard_find_debuginfo alone: when a module's debug file is
 * not on this machine (most of Debian's libraries without their -dbgsym
 * packages, a stripped program), its last step asks the debuginfod client,
 * and libdw (0.188) dlopens libdebuginfod.so.1 for that whether or not a
 * server is configured: with it libcurl, gnutls, krb5, ldap, ~25 libraries
 * and their constructors, 14-30 ms on this VM, paid by the first report
 * that symbolizes such a module (gcc -c's leak report: 15 ms of a 21 ms
 * finish). Without a server the client would answer nothing anyway, so the
 * local steps are done here, in libdwfl's order: its build-id lookup, then
 * the .gnu_debuglink name in the places GDB and libdwfl look. */
#include "symbolize/debugfile.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define GLOBAL_DEBUG_DIR "/usr/lib/debug"

static bool debuginfod_configured(void)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	return urls && *urls;
}

/* The CRC-32 of the whole file, as .gnu_debuglink records it (zlib's). */
static int file_crc(int fd, uint32_t *out)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	off_t at = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		crc = crc32(crc, buf, (uInt)n);
		at += n;
	}
	*out = (uint32_t)crc;
	return 0;
}

/* Whether fd is the debug file of mod: the same build-id when the module
 * has one (a stale debug file of an earlier build has another), else the
 * CRC the debuglink names, else only that it is an ELF file. */
static bool matches(Dwfl_Module *mod, int fd, GElf_Word crc)
{
	const unsigned char *want = NULL;
	GElf_Addr vaddr;
	int want_len = dwfl_module_build_id(mod, &want, &vaddr);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return false;
	bool ok = elf_kind(e) == ELF_K_ELF;
	if (ok && want_len > 0) {
		const void *got = NULL;
		ssize_t got_len = dwelf_elf_gnu_build_id(e, &got);
		ok = got_len == want_len && memcmp(got, want, (size_t)want_len) == 0;
	} else if (ok && crc) {
		uint32_t have;
		ok = file_crc(fd, &have) == 0 && have == crc;
	}
	elf_end(e);
	return ok;
}

/* dir/name (dir may be empty: name alone), if it is a regular file other
 * than the module's own and matches it. */
static int try_path(Dwfl_Module *mod, const struct stat *main_st, const char *dir, const char *sub, const char *name,
		    GElf_Word crc, char **found)
{
	char *path = NULL;
	if (asprintf(&path, "%s%s%s%s%s", dir, *dir ? "/" : "", sub, *sub ? "/" : "", name) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			(st.st_dev == main_st->st_dev && st.st_ino == main_st->st_ino) || !matches(mod, fd, crc))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		free(path);
		return -1;
	}
	*found = path;
	return fd;
}

/* The debuglink name (or FILE.debug, and FILE itself away from its own
 * directory, when there is none) beside the file, in its .debug
 * directory, and under /usr/lib/debug followed by the file's directory
 * and by each shorter tail of it (libdwfl's order). */
static int by_name(Dwfl_Module *mod, const char *file_name, const char *debuglink, GElf_Word crc, char **found)
{
	const char *slash = strrchr(file_name, '/');
	if (!slash)
		return -1;   /* a relative name: libdwfl's reports always give a path */
	char *dir = slash == file_name ? strdup("/") : strndup(file_name, (size_t)(slash - file_name));
	char *invented = NULL;
	if (!dir)
		return -1;
	const char *base = slash + 1;
	if (!debuglink) {
		if (asprintf(&invented, "%s.debug", base) < 0)
			invented = NULL;
		crc = 0;
	}
	const char *name = debuglink ? debuglink : invented;
	struct stat main_st = { 0 };
	if (stat(file_name, &main_st) < 0)
		main_st.st_ino = 0;
	int fd = -1;
	if (name && name[0] == '/') {
		fd = try_path(mod, &main_st, "", "", name, crc, found);
	} else if (name) {
		fd = try_path(mod, &main_st, dir, "", name, crc, found);
		if (fd < 0)
			fd = try_path(mod, &main_st, dir, ".debug", name, crc, found);
		if (fd < 0 && !debuglink)
			fd = try_path(mod, &main_st, dir, ".debug", base, 0, found);
		/* the directory without its leading '/', then its tails, then "" */
		const char *sub = dir[0] == '/' ? dir + 1 : NULL;
		while (fd < 0 && sub) {
			fd = try_path(mod, &main_st, GLOBAL_DEBUG_DIR, sub, name, crc, found);
			if (fd < 0 && !debuglink)
				fd = try_path(mod, &main_st, GLOBAL_DEBUG_DIR, sub, base, 0, found);
			if (!*sub)
				break;
			const char *next = strchr(sub, '/');
			sub = next ? next + 1 : "";
		}
	}
	free(invented);
	free(dir);
	return fd;
}

int sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		       const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		       char **debuginfo_file_name)
{
	if (debuginfod_configured())
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
						    debuglink_crc, debuginfo_file_name);
	/* by build-id first; a file found there that does not match ends
	 * the search, as in libdwfl (errno set) */
	errno = 0;
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					      debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || errno != 0)
		return fd;
	if (file_name) {
		fd = by_name(mod, file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
		if (fd < 0) {
			/* a symlink's debug file may be named for its target */
			char *canon = realpath(file_name, NULL);
			if (canon && strcmp(canon, file_name) != 0)
				fd = by_name(mod, canon, debuglink_file, debuglink_crc, debuginfo_file_name);
			free(canon);
		}
	}
	errno = 0;
	return fd;
}
