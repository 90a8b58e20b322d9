/* Answers from the machine or from the recording: see hostfacts.h. */
#include "hostfacts.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "strbuf.h"
#include "xalloc.h"
#include "symbolize/buildid.h"

struct fact {
	uint32_t kind;
	int32_t pid;
	char *key;
	char *value;
	size_t len;
};

struct host_facts {
	struct fact *v;
	size_t n, cap;
};

/* ---- the machine ---------------------------------------------------------- */

static char *read_link(const char *path, size_t *len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	*len = (size_t)n;
	return strdup(buf);
}

static char *read_cmdline(int pid, size_t *len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && sb.len < (1u << 20))
		sb_putn(&sb, buf, n);
	fclose(f);
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	*len = sb.len;
	return sb_detach(&sb);
}

/* The executable's absolute path: /proc while the process lives, else the
 * name as exec'd (relative names resolved against etrace's directory). */
static char *exe_path(int pid, const char *filename, int use_proc, size_t *len)
{
	char link[64], buf[PATH_MAX];
	char *out = NULL;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (use_proc && (out = read_link(link, len)) && strstr(out, " (deleted)")) {
		free(out);
		out = NULL;
	}
	if (!out)
		out = strdup(realpath(filename, buf) ? buf : filename);
	*len = strlen(out);
	return out;
}

/* An ELF executable's entry point and interpreter path: u64, then the path. */
static char *elf_head(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	Elf64_Ehdr eh;
	char interp[PATH_MAX] = "";
	char *out = NULL;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto done;
	for (unsigned i = 0; i < eh.e_phnum && i < 256; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) != (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP && ph.p_filesz > 1 && ph.p_filesz < sizeof(interp)) {
			if (pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz)
				interp[ph.p_filesz - 1] = '\0';
			else
				interp[0] = '\0';
		}
	}
	*len = sizeof(uint64_t) + strlen(interp);
	out = xcalloc(1, *len + 1);
	memcpy(out, &eh.e_entry, sizeof(uint64_t));
	memcpy(out + sizeof(uint64_t), interp, strlen(interp));
done:
	close(fd);
	return out;
}

static void *ask_machine(int mode, int kind, int pid, const char *key, size_t *len)
{
	char path[64], id[128];
	int use_proc = mode == HOST_LIVE;
	switch (kind) {
	case FACT_FD_PATH:
		if (!use_proc)
			return NULL;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, key);
		return read_link(path, len);
	case FACT_CMDLINE:
		return use_proc ? read_cmdline(pid, len) : NULL;
	case FACT_EXE:
		return exe_path(pid, key, use_proc, len);
	case FACT_ELF_HEAD:
		return elf_head(key, len);
	case FACT_IS_FILE:
		if (access(key, F_OK) != 0)
			return NULL;
		*len = 0;
		return xcalloc(1, 1);
	case FACT_BUILD_ID:
		if (elf_build_id(key, id, sizeof(id)) < 0)
			return NULL;
		*len = strlen(id);
		return strdup(id);
	}
	return NULL;
}

/* ---- the recording -------------------------------------------------------- */

static void *ask_recording(const struct host_facts *f, int kind, int pid, const char *key, size_t *len)
{
	for (size_t i = 0; f && i < f->n; i++) {
		const struct fact *x = &f->v[i];
		if ((int)x->kind == kind && x->pid == pid && strcmp(x->key, key) == 0) {
			char *v = xcalloc(1, x->len + 1);
			memcpy(v, x->value, x->len);
			*len = x->len;
			return v;
		}
	}
	return NULL;
}

void *host_ask(struct et_model *m, int kind, int pid, const char *key, size_t *len)
{
	size_t n = 0;
	void *v = m->host_mode == HOST_RECORDED ? ask_recording(m->host_facts, kind, pid, key, &n)
						: ask_machine(m->host_mode, kind, pid, key, &n);
	if (v && m->host_mode == HOST_LIVE && m->fact_sink)
		m->fact_sink(m->fact_sink_ctx, kind, pid, key, v, n);
	if (len)
		*len = n;
	return v;
}

struct host_facts *host_facts_new(void)
{
	return xcalloc(1, sizeof(struct host_facts));
}

void host_facts_clear(struct host_facts *f)
{
	for (size_t i = 0; f && i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
	}
	if (f)
		f->n = 0;
}

void host_facts_free(struct host_facts *f)
{
	host_facts_clear(f);
	if (f)
		free(f->v);
	free(f);
}

int host_facts_add(struct host_facts *f, const void *frame, size_t len)
{
	struct fact_head h;
	if (len < sizeof(h))
		return -1;
	memcpy(&h, frame, sizeof(h));
	if (h.kind == 0 || h.kind >= FACT_KIND_MAX || h.keylen > len - sizeof(h) ||
	    h.vallen != len - sizeof(h) - h.keylen)
		return -1;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	const char *p = (const char *)frame + sizeof(h);
	struct fact *x = &f->v[f->n++];
	x->kind = h.kind;
	x->pid = h.pid;
	x->key = strndup(p, h.keylen);
	x->value = xcalloc(1, h.vallen + 1);
	memcpy(x->value, p + h.keylen, h.vallen);
	x->len = h.vallen;
	return 0;
}
