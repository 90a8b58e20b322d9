/* Suppression files: LeakSanitizer's "leak:" lines and valgrind's entries
 * (see supp.h). */
#include "symbolize/fileutil.h"
#include "supp.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../symbolize/unwind.h"
#include "reports/core/strbuf.h"
#include "reports/core/xalloc.h"

#define SUPP_MAX_FRAMES 64     /* frame lines of one entry (valgrind's own limit is 24 by default) */
#define SUPP_MAX_LINE 4096     /* a longer line is an error, not a pattern */
#define SUPP_GEN_FRAMES 24     /* frames --gen-suppressions writes, as valgrind */

enum { F_FUN, F_OBJ, F_SRC, F_ANY };

struct supp_frame {
	int type;
	char *pat;                 /* fun: a demangled name when given mangled; obj: the part after the last '/' */
	int line;                  /* src:FILE:LINE, 0: any */
};

struct supp_entry {
	char *name;
	bool leak;                 /* Memcheck:Leak (others are kept but not applied) */
	unsigned kinds;            /* SUPP_* leak kinds it matches */
	struct supp_frame *frames;
	size_t nframes;
};

struct supp_set {
	char **lsan;
	size_t nlsan;
	/* "heap-buffer-overflow:GLOB", "heap-use-after-free:GLOB": the kind
	 * (SUPP_ERR_*) as the first byte, then the pattern */
	char **errs;
	size_t nerrs;
	struct supp_entry *entries;
	size_t nentries;
};

struct supp_set *supp_set_new(void)
{
	return xcalloc(1, sizeof(struct supp_set));
}

static void entry_free(struct supp_entry *e)
{
	for (size_t i = 0; i < e->nframes; i++)
		free(e->frames[i].pat);
	free(e->frames);
	free(e->name);
	memset(e, 0, sizeof(*e));
}

void supp_set_free(struct supp_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nlsan; i++)
		free(s->lsan[i]);
	free(s->lsan);
	for (size_t i = 0; i < s->nerrs; i++)
		free(s->errs[i]);
	free(s->errs);
	for (size_t i = 0; i < s->nentries; i++)
		entry_free(&s->entries[i]);
	free(s->entries);
	free(s);
}

size_t supp_count(const struct supp_set *s)
{
	return s ? s->nlsan + s->nerrs + s->nentries : 0;
}

size_t supp_not_applied(const struct supp_set *s)
{
	size_t n = 0;
	for (size_t i = 0; s && i < s->nentries; i++)
		n += !s->entries[i].leak;
	return n;
}

/* ---- parsing ------------------------------------------------------------------------- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* valgrind's C++ names are mangled ("_ZN2ns4makeEi"); etrace's frames are
 * demangled: a mangled name without wildcards is demangled once here. */
char *supp_demangle(const char *name);   /* demangle.c */

static char *fun_pattern(const char *pat)
{
	if (strncmp(pat, "_Z", 2) == 0 && !strpbrk(pat, "*?")) {
		char *d = supp_demangle(pat);
		if (d)
			return d;
	}
	return xstrdup(pat);
}

/* "definite,possible" -> bits; false for a word valgrind does not know */
static bool leak_kinds(const char *list, unsigned *out)
{
	*out = 0;
	char *copy = xstrdup(list), *save = NULL;
	bool ok = true;
	for (char *w = strtok_r(copy, ", \t", &save); w && ok; w = strtok_r(NULL, ", \t", &save)) {
		if (strcmp(w, "definite") == 0)
			*out |= SUPP_DEFINITE;
		else if (strcmp(w, "indirect") == 0)
			*out |= SUPP_INDIRECT;
		else if (strcmp(w, "possible") == 0)
			*out |= SUPP_POSSIBLE;
		else if (strcmp(w, "reachable") == 0)
			*out |= SUPP_REACHABLE;
		else if (strcmp(w, "all") == 0)
			*out |= SUPP_DEFINITE | SUPP_INDIRECT | SUPP_POSSIBLE | SUPP_REACHABLE;
		else if (strcmp(w, "none") != 0)
			ok = false;
	}
	free(copy);
	return ok;
}

/* One frame line of an entry; false when it is not one. */
static bool frame_line(const char *s, struct supp_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (strcmp(s, "...") == 0) {
		f->type = F_ANY;
		return true;
	}
	if (strncmp(s, "fun:", 4) == 0) {
		f->type = F_FUN;
		f->pat = fun_pattern(trim((char *)s + 4));
		return true;
	}
	if (strncmp(s, "obj:", 4) == 0) {
		/* frames know their module's file name, not its directory */
		const char *p = trim((char *)s + 4);
		f->type = F_OBJ;
		f->pat = xstrdup(path_base(p));
		return true;
	}
	if (strncmp(s, "src:", 4) == 0) {
		char *p = xstrdup(trim((char *)s + 4)), *colon = strrchr(p, ':');
		if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
			f->line = atoi(colon + 1);
			*colon = '\0';
		}
		f->type = F_SRC;
		f->pat = p;
		return true;
	}
	return false;
}

struct parser {
	const char *path;
	size_t lineno;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *what, const char *s)
{
	snprintf(p->err, p->errlen, "%s:%zu: %s%s%.60s%s", p->path, p->lineno, what, s ? " '" : "", s ? s : "",
		 s ? "'" : "");
	return -1;
}

/* The lines of one valgrind entry after its "{", up to its "}". */
static int read_entry(struct parser *p, FILE *f, char **line, size_t *cap, struct supp_entry *e)
{
	enum { NAME, KIND, EXTRA, FRAMES } state = NAME;
	while (getline(line, cap, f) >= 0) {
		p->lineno++;
		if (strlen(*line) > SUPP_MAX_LINE)
			return fail(p, "line too long", NULL);
		char *s = trim(*line);
		if (!*s || *s == '#')
			continue;
		if (strcmp(s, "}") == 0) {
			if (state == NAME || state == KIND)
				return fail(p, state == NAME ? "entry without a name" : "entry without a Tool:Kind line", NULL);
			if (!e->nframes)
				return fail(p, "entry without frames (fun:, obj:, src: or ...)", NULL);
			return 0;
		}
		if (strcmp(s, "{") == 0)
			return fail(p, "'{' inside an entry: a '}' is missing", NULL);
		switch (state) {
		case NAME:
			e->name = xstrdup(s);
			state = KIND;
			continue;
		case KIND: {
			const char *colon = strchr(s, ':');
			if (!colon || colon == s || !colon[1])
				return fail(p, "expected Tool:Kind (Memcheck:Leak), not", s);
			/* "Memcheck,Addrcheck:Leak": the tools before the colon */
			char *tools = x_checked(strndup(s, (size_t)(colon - s))), *save = NULL;
			bool memcheck = false;
			for (char *t = strtok_r(tools, ",", &save); t; t = strtok_r(NULL, ",", &save))
				memcheck |= strcmp(trim(t), "Memcheck") == 0;
			free(tools);
			e->leak = memcheck && strcmp(colon + 1, "Leak") == 0;
			e->kinds = SUPP_DEFINITE | SUPP_INDIRECT | SUPP_POSSIBLE | SUPP_REACHABLE;
			state = EXTRA;
			continue;
		}
		case EXTRA:
			state = FRAMES;
			if (strncmp(s, "match-leak-kinds:", 17) == 0) {
				if (!leak_kinds(s + 17, &e->kinds))
					return fail(p, "match-leak-kinds takes definite, indirect, possible, reachable, all or none:", s + 17);
				continue;
			}
			if (strncmp(s, "fun:", 4) && strncmp(s, "obj:", 4) && strncmp(s, "src:", 4) && strcmp(s, "..."))
				continue;   /* a kind's extra line (Memcheck:Param's syscall) */
			/* a frame */
			__attribute__((fallthrough));
		case FRAMES: {
			struct supp_frame fr;
			if (!frame_line(s, &fr))
				return fail(p, "expected fun:, obj:, src: or ..., not", s);
			if (e->nframes == SUPP_MAX_FRAMES) {
				free(fr.pat);
				return fail(p, "more than 64 frames in one entry", NULL);
			}
			e->frames = xrealloc(e->frames, (e->nframes + 1) * sizeof(*e->frames));
			e->frames[e->nframes++] = fr;
			continue;
		}
		}
	}
	return fail(p, "end of file inside an entry: a '}' is missing", NULL);
}

int supp_read(struct supp_set *s, FILE *f, const char *path, char *err, size_t errlen)
{
	struct parser p = { path, 0, err, errlen };
	struct supp_set add = { 0 };
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		p.lineno++;
		if (strlen(line) > SUPP_MAX_LINE) {
			rc = fail(&p, "line too long", NULL);
			break;
		}
		char *t = trim(line);
		if (!*t || *t == '#')
			continue;
		if (strcmp(t, "{") == 0) {
			struct supp_entry e = { 0 };
			rc = read_entry(&p, f, &line, &cap, &e);
			if (rc == 0) {
				add.entries = xrealloc(add.entries, (add.nentries + 1) * sizeof(*add.entries));
				add.entries[add.nentries++] = e;
			} else {
				entry_free(&e);
			}
			continue;
		}
		char *colon = strchr(t, ':');
		if (!colon) {
			rc = fail(&p, "expected leak:PATTERN or a valgrind entry ('{'), not", t);
			break;
		}
		*colon = '\0';
		char *type = trim(t), *pat = trim(colon + 1);
		unsigned ek = strcmp(type, "heap-buffer-overflow") == 0 ? SUPP_ERR_OVERFLOW
			      : strcmp(type, "heap-use-after-free") == 0 ? SUPP_ERR_UAF : 0;
		if (strcmp(type, "leak") != 0 && !ek) {
			snprintf(err, errlen,
				 "%s:%zu: unknown suppression type '%.40s' (leak:, heap-buffer-overflow: and heap-use-after-free: "
				 "PATTERN lines and valgrind's { ... } entries are supported)",
				 path, p.lineno, type);
			rc = -1;
			break;
		}
		if (!*pat) {
			snprintf(err, errlen, "%s:%zu: empty pattern after '%.40s:'", path, p.lineno, type);
			rc = -1;
			break;
		}
		if (ek) {
			char *r = xmalloc(strlen(pat) + 2);
			r[0] = (char)ek;
			strcpy(r + 1, pat);
			add.errs = xrealloc(add.errs, (add.nerrs + 1) * sizeof(*add.errs));
			add.errs[add.nerrs++] = r;
			continue;
		}
		add.lsan = xrealloc(add.lsan, (add.nlsan + 1) * sizeof(*add.lsan));
		add.lsan[add.nlsan++] = xstrdup(pat);
	}
	free(line);
	if (rc == 0 && ferror(f))
		rc = fail(&p, "read error", NULL);
	if (rc == 0) {
		/* (memcpy from NULL is undefined even for 0 bytes) */
		if (add.nlsan) {
			s->lsan = xrealloc(s->lsan, (s->nlsan + add.nlsan) * sizeof(*s->lsan));
			memcpy(s->lsan + s->nlsan, add.lsan, add.nlsan * sizeof(*add.lsan));
			s->nlsan += add.nlsan;
		}
		if (add.nerrs) {
			s->errs = xrealloc(s->errs, (s->nerrs + add.nerrs) * sizeof(*s->errs));
			memcpy(s->errs + s->nerrs, add.errs, add.nerrs * sizeof(*add.errs));
			s->nerrs += add.nerrs;
		}
		free(add.errs);
		if (add.nentries) {
			s->entries = xrealloc(s->entries, (s->nentries + add.nentries) * sizeof(*s->entries));
			memcpy(s->entries + s->nentries, add.entries, add.nentries * sizeof(*add.entries));
			s->nentries += add.nentries;
		}
		free(add.lsan);
		free(add.entries);
	} else {
		for (size_t i = 0; i < add.nlsan; i++)
			free(add.lsan[i]);
		free(add.lsan);
		for (size_t i = 0; i < add.nerrs; i++)
			free(add.errs[i]);
		free(add.errs);
		for (size_t i = 0; i < add.nentries; i++)
			entry_free(&add.entries[i]);
		free(add.entries);
	}
	return rc;
}

/* ---- matching ------------------------------------------------------------------------ */

/* LSan's rule: fnmatch against a frame's function (also without its
 * "(args)") or its module's name. */
static bool lsan_rule_matches(const char *rule, const struct sym_frame *f)
{
	if (f->module && fnmatch(rule, f->module, 0) == 0)
		return true;
	if (!f->function)
		return false;
	if (fnmatch(rule, f->function, 0) == 0)
		return true;
	const char *paren = strchr(f->function, '(');
	if (paren && paren > f->function) {
		char buf[512];
		size_t n = (size_t)(paren - f->function);
		if (n < sizeof(buf)) {
			memcpy(buf, f->function, n);
			buf[n] = '\0';
			return fnmatch(rule, buf, 0) == 0;
		}
	}
	return false;
}

bool supp_match_lsan(const struct supp_set *s, const struct sym_frame *frames, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		for (size_t r = 0; r < s->nlsan; r++)
			if (lsan_rule_matches(s->lsan[r], &frames[i]))
				return true;
	return false;
}

bool supp_match_error(const struct supp_set *s, unsigned kind, const struct sym_frame *frames, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		for (size_t r = 0; r < s->nerrs; r++)
			if ((unsigned char)s->errs[r][0] == kind && lsan_rule_matches(s->errs[r] + 1, &frames[i]))
				return true;
	return false;
}

/* valgrind's wildcards: '*' any run of characters, '?' one; nothing else
 * is special ("operator[]" is literal). Iterative, with one backtrack
 * point, so no pattern costs more than length(pat) * length(s). */
static bool glob(const char *pat, size_t pn, const char *s, size_t sn)
{
	size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;
	while (i < sn) {
		if (p < pn && (pat[p] == '?' || pat[p] == s[i])) {
			p++;
			i++;
		} else if (p < pn && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (star != SIZE_MAX) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (p < pn && pat[p] == '*')
		p++;
	return p == pn;
}

static size_t args_at(const char *s)
{
	const char *paren = strchr(s, '(');
	return paren && paren > s ? (size_t)(paren - s) : strlen(s);
}

/* A function pattern against a demangled name: whole, or both without
 * their "(args)" (a mangled pattern names the overload; etrace's
 * allocating function is "operator new", valgrind's "_Znwm"). */
static bool fun_matches(const char *pat, const char *fn)
{
	if (!fn)
		fn = "???";
	size_t pn = strlen(pat), fnn = strlen(fn);
	if (glob(pat, pn, fn, fnn) || glob(pat, pn, fn, args_at(fn)))
		return true;
	return args_at(pat) < pn && glob(pat, args_at(pat), fn, args_at(fn));
}

static bool frame_matches(const struct supp_frame *p, const char *fn, const struct sym_frame *f)
{
	switch (p->type) {
	case F_FUN:
		return fun_matches(p->pat, f ? f->function : fn);
	case F_OBJ:
		return f && f->module && glob(p->pat, strlen(p->pat), f->module, strlen(f->module));
	case F_SRC: {
		if (!f || !f->file || (p->line && p->line != f->line))
			return false;
		const char *base = path_base(f->file);
		size_t pn = strlen(p->pat);
		return glob(p->pat, pn, f->file, strlen(f->file)) || glob(p->pat, pn, base, strlen(base));
	}
	}
	return false;
}

/* frame k of the stack: 0 is the allocating function (a name only) */
static bool stack_frame_matches(const struct supp_frame *p, const char *alloc_fn, const struct sym_frame *frames,
				size_t k)
{
	return k == 0 ? frame_matches(p, alloc_fn, NULL) : frame_matches(p, NULL, &frames[k - 1]);
}

/* The entry's frames against a prefix of the stack, "..." spanning any
 * number of frames: a small table (entries have at most 64 frames). */
static bool entry_matches(const struct supp_entry *e, const char *alloc_fn, const struct sym_frame *frames, size_t n)
{
	size_t depth = n + 1;                   /* the allocating function, then frames */
	/* can[j]: the first i entry frames can match the first j stack frames */
	bool *can = xcalloc(depth + 1, sizeof(*can)), *next = xcalloc(depth + 1, sizeof(*next));
	can[0] = true;
	for (size_t i = 0; i < e->nframes; i++) {
		const struct supp_frame *p = &e->frames[i];
		memset(next, 0, (depth + 1) * sizeof(*next));
		for (size_t j = 0; j <= depth; j++) {
			if (p->type == F_ANY) {
				if (can[j] || (j && next[j - 1]))
					next[j] = true;
			} else if (j && can[j - 1] && stack_frame_matches(p, alloc_fn, frames, j - 1)) {
				next[j] = true;
			}
		}
		bool *t = can;
		can = next;
		next = t;
	}
	bool any = false;
	for (size_t j = 0; j <= depth && !any; j++)
		any = can[j];
	free(can);
	free(next);
	return any;
}

bool supp_match_leak(const struct supp_set *s, const char *alloc_fn, const struct sym_frame *frames, size_t n,
		     unsigned kind)
{
	for (size_t i = 0; s && i < s->nentries; i++) {
		const struct supp_entry *e = &s->entries[i];
		if (e->leak && (e->kinds & kind) && entry_matches(e, alloc_fn, frames, n))
			return true;
	}
	return false;
}

/* ---- --gen-suppressions ---------------------------------------------------------------- */

/* valgrind's own name for etrace's allocating function */
static const char *mangled_alloc(const char *fn)
{
	if (strcmp(fn, "operator new") == 0)
		return "_Znwm";
	if (strcmp(fn, "operator new[]") == 0)
		return "_Znam";
	return fn;
}

/* A name that can stand in a pattern line as itself: printable ASCII, no
 * wildcard (a symbol name is the program's, and this goes to a terminal) */
static bool plain(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c >= 0x7f || *c == '*' || *c == '?')
			return false;
	return *s != '\0';
}

void supp_generate_leak(struct strbuf *out, const char *name, const char *alloc_fn, const struct sym_frame *frames,
			size_t n, unsigned kind)
{
	static const char *const kinds[] = { "definite", "indirect", "possible", "reachable" };
	sb_printf(out, "{\n   %s\n   Memcheck:Leak\n   match-leak-kinds: ", name);
	bool first = true;
	for (int k = 0; k < 4; k++)
		if (kind & (1u << k)) {
			sb_printf(out, "%s%s", first ? "" : ",", kinds[k]);
			first = false;
		}
	if (first)
		sb_puts(out, "all");
	sb_printf(out, "\n   fun:%s\n", mangled_alloc(alloc_fn ? alloc_fn : "malloc"));
	for (size_t i = 0; i < n && i + 1 < SUPP_GEN_FRAMES; i++) {
		const struct sym_frame *f = &frames[i];
		/* a name that cannot be written as a pattern of itself:
		 * "..." stands for the frame */
		if (f->function && plain(f->function))
			sb_printf(out, "   fun:%s\n", f->function);
		else if (f->module && plain(f->module))
			sb_printf(out, "   obj:*/%s\n", f->module);
		else
			sb_puts(out, "   ...\n");
	}
	sb_puts(out, "}\n");
}
