/* Kernel symbols from /proc/kallsyms: see ksyms.h. */
#include "ksyms.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A hash table slot: the name's hash is kept so that a probe rarely has
 * to read the name (a cache miss into the pool) to rule a slot out. */
struct hslot {
	uint32_t idx;         /* 1 + index into v; 0: empty */
	uint32_t hash;
};

/* 16 bytes a symbol: the names are offsets into the pool. */
struct ksym {
	uint64_t addr;
	uint32_t name;        /* pool offset */
	uint16_t mod;         /* 1 + index into mods; 0: the kernel itself */
	char type;
};

struct ksyms {
	struct ksym *v;       /* sorted by address */
	size_t n;
	char *pool;           /* the names, NUL-terminated, and the module names */
	uint32_t *mods;       /* pool offsets of the module names */
	size_t nmods;
	struct hslot *hash;   /* names to addresses, open addressing */
	size_t hmask;
};


static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Which name an address shows when several share it: T, then W, then t,
 * then w; then a name without a leading underscore; then the shorter. */
static int type_rank(char t)
{
	return t == 'T' ? 0 : t == 'W' ? 1 : t == 't' ? 2 : 3;
}

static bool preferred(const struct ksyms *k, const struct ksym *x, const struct ksym *y)
{
	int rx = type_rank(x->type), ry = type_rank(y->type);
	if (rx != ry)
		return rx < ry;
	const char *nx = k->pool + x->name, *ny = k->pool + y->name;
	if ((nx[0] == '_') != (ny[0] == '_'))
		return ny[0] == '_';
	size_t lx = strlen(nx), ly = strlen(ny);
	if (lx != ly)
		return lx < ly;
	return strcmp(nx, ny) < 0;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The kernel's own symbols come in address order, then each module's in
 * its own order: only the part after the sorted prefix is sorted, then
 * merged in (a full qsort took most of the load time). */
static int sort_by_addr(struct ksyms *k)
{
	size_t p = 1;
	while (p < k->n && k->v[p - 1].addr <= k->v[p].addr)
		p++;
	if (p >= k->n)
		return 0;
	size_t nt = k->n - p;
	struct ksym *tail = malloc(nt * sizeof(*tail));
	if (!tail)
		return -1;
	memcpy(tail, k->v + p, nt * sizeof(*tail));
	qsort(tail, nt, sizeof(*tail), addr_cmp);
	/* merge from the back: the free space is at the end of v */
	size_t i = p, j = nt, w = k->n;
	while (j > 0) {
		if (i > 0 && k->v[i - 1].addr > tail[j - 1].addr)
			k->v[--w] = k->v[--i];
		else
			k->v[--w] = tail[--j];
	}
	free(tail);
	return 0;
}

/* Eight bytes at a time (a byte-wise hash was a tenth of the load time). */
static uint32_t name_hash(const char *s)
{
	size_t len = strlen(s);
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;
	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ h >> 29 ^ h >> 47);
}

/* Names to their lowest address: inserted in address order, the first of a
 * name stays. */
static int build_hash(struct ksyms *k)
{
	size_t size = 16;
	while (size < 2 * k->n)
		size *= 2;
	k->hash = calloc(size, sizeof(*k->hash));
	if (!k->hash)
		return -1;
	k->hmask = size - 1;
	/* Each insert is a cache miss into the table (half the load time):
	 * the slots of a batch of names are prefetched before any is used. */
	enum { BATCH = 32 };
	uint32_t hvs[BATCH];
	for (size_t b = 0; b < k->n; b += BATCH) {
		size_t m = k->n - b < BATCH ? k->n - b : BATCH;
		for (size_t i = 0; i < m; i++) {
			hvs[i] = name_hash(k->pool + k->v[b + i].name);
			__builtin_prefetch(&k->hash[hvs[i] & k->hmask], 1);
		}
		for (size_t i = 0; i < m; i++) {
			const char *name = k->pool + k->v[b + i].name;
			size_t h = hvs[i] & k->hmask;
			for (; k->hash[h].idx; h = (h + 1) & k->hmask)
				if (k->hash[h].hash == hvs[i] &&
				    strcmp(k->pool + k->v[k->hash[h].idx - 1].name, name) == 0)
					break;
			if (!k->hash[h].idx)
				k->hash[h] = (struct hslot){ .idx = (uint32_t)(b + i + 1), .hash = hvs[i] };
		}
	}
	return 0;
}

/* The index of a module name in k->mods, added when new. Module symbols
 * come grouped, so the last one found is checked first. */
static int module_index(struct ksyms *k, const char *name, size_t *last)
{
	if (*last && strcmp(k->pool + k->mods[*last - 1], name) == 0)
		return (int)*last;
	for (size_t i = 0; i < k->nmods; i++)
		if (strcmp(k->pool + k->mods[i], name) == 0)
			return (int)(*last = i + 1);
	return 0;
}

struct ksyms *ksyms_load(const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	if (read_whole_file(path, (size_t)8 << 20, &buf, &len) < 0) {
		set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	struct ksyms *k = calloc(1, sizeof(*k));
	if (!k) {
		free(buf);
		set_err(err, errlen, "out of memory reading %s", path);
		return NULL;
	}
	k->pool = buf;
	/* about 45 bytes a line in /proc/kallsyms */
	size_t cap = len / 32 + 16;
	if (len > UINT32_MAX || !(k->v = malloc(cap * sizeof(*k->v))))
		goto oom;

	/* The names are moved down to the front of the same buffer, which
	 * becomes the pool: what is written never passes what was read, since
	 * each name (or module name) is followed by at least one byte read
	 * (its '\n', '\t' or ']') that the NUL replaces. */
	size_t w = 0, modcap = 0, last_mod = 0, parsed = 0;
	bool nonzero = false;
	for (size_t r = 0; r < len;) {
		char *line = buf + r, *nl = memchr(line, '\n', len - r);
		size_t ll = nl ? (size_t)(nl - line) : len - r;
		r += ll + 1;
		/* "ADDR TYPE NAME" and an optional "\t[MODULE]" */
		uint64_t addr = 0;
		size_t i = 0;
		int d;
		for (; i < ll && (d = hexval(line[i])) >= 0; i++)
			addr = addr << 4 | (uint64_t)d;
		if (i == 0 || i > 16 || i + 3 > ll || line[i] != ' ' || line[i + 2] != ' ')
			continue;
		parsed++;
		nonzero |= addr != 0;
		char type = line[i + 1];
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		char *name = line + i + 3, *end = line + ll, *tab = memchr(name, '\t', (size_t)(end - name));
		size_t nlen = (size_t)((tab ? tab : end) - name);
		if (!nlen)
			continue;
		char *mod = NULL;
		size_t mlen = 0;
		if (name + nlen < end && name[nlen] == '\t' && name[nlen + 1] == '[') {
			mod = name + nlen + 2;
			char *close = memchr(mod, ']', (size_t)(end - mod));
			mlen = close ? (size_t)(close - mod) : (size_t)(end - mod);
		}
		if (k->n == cap) {
			struct ksym *nv = realloc(k->v, 2 * cap * sizeof(*nv));
			if (!nv)
				goto oom;
			k->v = nv;
			cap *= 2;
		}
		struct ksym *s = &k->v[k->n++];
		s->addr = addr;
		s->type = type;
		s->mod = 0;
		s->name = (uint32_t)w;
		memmove(buf + w, name, nlen);
		w += nlen;
		buf[w++] = '\0';
		if (mod && mlen) {
			/* the module's name is compared where it is, then kept once */
			char save = mod[mlen];
			mod[mlen] = '\0';
			int m = module_index(k, mod, &last_mod);
			if (!m) {
				if (k->nmods == UINT16_MAX) {
					set_err(err, errlen, "%s: more than %u modules", path, UINT16_MAX);
					ksyms_free(k);
					return NULL;
				}
				if (k->nmods == modcap) {
					modcap = modcap ? modcap * 2 : 16;
					uint32_t *nm = realloc(k->mods, modcap * sizeof(*nm));
					if (!nm)
						goto oom;
					k->mods = nm;
				}
				k->mods[k->nmods++] = (uint32_t)w;
				memmove(buf + w, mod, mlen + 1);
				w += mlen + 1;
				m = (int)(last_mod = k->nmods);
			} else {
				mod[mlen] = save;
			}
			s->mod = (uint16_t)m;
		}
	}
	if (parsed && !nonzero) {
		set_err(err, errlen, "%s: every address is 0 (hidden by kptr_restrict: run as root)", path);
		ksyms_free(k);
		return NULL;
	}
	if (!k->n) {
		set_err(err, errlen, "%s: no kernel text symbols", path);
		ksyms_free(k);
		return NULL;
	}
	/* give back what the pool and the array did not use */
	char *np = realloc(k->pool, w);
	if (np)
		k->pool = np;
	struct ksym *nv = realloc(k->v, k->n * sizeof(*k->v));
	if (nv)
		k->v = nv;
	if (sort_by_addr(k) < 0 || build_hash(k) < 0)
		goto oom;
	return k;
oom:
	set_err(err, errlen, "out of memory reading %s", path);
	ksyms_free(k);
	return NULL;
}

const char *ksyms_lookup(const struct ksyms *k, uint64_t addr, uint64_t *off, const char **module)
{
	if (!k || !k->n || addr < k->v[0].addr)
		return NULL;
	/* the last symbol at or below addr */
	size_t lo = 0, hi = k->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* of several names at that address, the preferred one */
	const struct ksym *s = &k->v[lo];
	for (size_t i = lo; i > 0 && k->v[i - 1].addr == s->addr; i--)
		if (preferred(k, &k->v[i - 1], s))
			s = &k->v[i - 1];
	if (addr - s->addr > KSYMS_MAX_GAP)
		return NULL;
	if (off)
		*off = addr - s->addr;
	if (module)
		*module = s->mod ? k->pool + k->mods[s->mod - 1] : NULL;
	return k->pool + s->name;
}

uint64_t ksyms_addr(const struct ksyms *k, const char *name)
{
	if (!k || !k->hash)
		return 0;
	uint32_t hv = name_hash(name);
	for (size_t h = hv & k->hmask; k->hash[h].idx; h = (h + 1) & k->hmask) {
		const struct ksym *s = &k->v[k->hash[h].idx - 1];
		if (k->hash[h].hash == hv && strcmp(k->pool + s->name, name) == 0)
			return s->addr;
	}
	return 0;
}

size_t ksyms_count(const struct ksyms *k)
{
	return k ? k->n : 0;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->pool);
	free(k->mods);
	free(k->hash);
	free(k);
}
