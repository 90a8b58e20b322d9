/* --trace-func's records (ET_EV_FUNC): the traced functions' calls and
 * returns, counted and kept per thread; funcs_render.c shows them. */
#include <stdlib.h>
#include <string.h>
#include "reports/core/model_int.h"
#include "reports/core/xalloc.h"

/* ---- traced functions (--trace-func) ---------------------------------------- */

size_t model_add_traced_func(struct et_model *m, struct elfsym_func *f)
{
	m->funcs = xrealloc(m->funcs, (m->nfuncs + 1) * sizeof(*m->funcs));
	m->funcs[m->nfuncs] = (struct et_traced_func){ .f = *f };
	memset(f, 0, sizeof(*f));
	return m->nfuncs++;
}

const struct et_func_event *thread_func_event(const struct et_thread *t, size_t i)
{
	if (i >= t->fring_count)
		return NULL;
	return &t->fring[(t->fring_head + i) % t->fring_cap];
}

void model_func_event_text(const struct et_model *m, const struct et_func_event *e, struct strbuf *out)
{
	char buf[1024];
	if (e->func >= m->nfuncs) {
		/* a recording replayed without the function table */
		if (e->kind == ET_FUNC_ENTRY)
			sb_printf(out, "-> function #%u(0x%lx, 0x%lx, 0x%lx, 0x%lx)", e->func, (unsigned long)e->v[0],
				  (unsigned long)e->v[1], (unsigned long)e->v[2], (unsigned long)e->v[3]);
		else
			sb_printf(out, "<- function #%u = 0x%lx", e->func, (unsigned long)e->v[0]);
		return;
	}
	const struct elfsym_func *f = &m->funcs[e->func].f;
	if (e->kind == ET_FUNC_ENTRY)
		elfsym_format_entry(f, e->v, buf, sizeof(buf));
	else
		elfsym_format_return(f, e->v[0], buf, sizeof(buf));
	sb_puts(out, e->kind == ET_FUNC_ENTRY ? "-> " : "<- ");
	sb_escape(out, buf);   /* names from the program's own symbol table */
}

/* The thread's window of function events: as many as --last keeps syscalls. */
static void thread_keep_func(struct et_model *m, struct et_thread *t, const struct et_func_event *e)
{
	if (m->last_n && t->fring_count == m->last_n) {
		t->fring[t->fring_head] = *e;
		t->fring_head = (t->fring_head + 1) % t->fring_cap;
		return;
	}
	if (t->fring_count == t->fring_cap) {
		/* grow; the ring is unwrapped (head == 0) until it reaches last_n */
		size_t cap = t->fring_cap ? t->fring_cap * 2 : 8;
		if (m->last_n && cap > m->last_n)
			cap = m->last_n;
		t->fring = xrealloc(t->fring, cap * sizeof(*t->fring));
		t->fring_cap = cap;
	}
	t->fring[(t->fring_head + t->fring_count) % t->fring_cap] = *e;
	t->fring_count++;
}

/* An entry or return joins the thread's timeline and, as a note, the
 * process's rewind. */
int model_on_func(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_func *e = rec;
	(void)size;
	if (e->kind != ET_FUNC_ENTRY && e->kind != ET_FUNC_RETURN)
		return -1;
	struct et_thread *t = model_thread_for(m, e->h.pid, e->h.tid, e->h.ts);
	struct et_process *p = model_process(m, e->h.pid);
	struct et_func_event fe = { .ts = e->h.ts, .func = e->func, .kind = e->kind };
	struct et_traced_func *f = e->func < m->nfuncs ? &m->funcs[e->func] : NULL;
	if (e->kind == ET_FUNC_ENTRY) {
		memcpy(fe.v, e->args, sizeof(fe.v));
		t->nfunc_calls++;
		if (f)
			f->calls++;
	} else {
		fe.v[0] = e->ret;
		if (f)
			f->returns++;
	}
	thread_keep_func(m, t, &fe);
	struct strbuf sb = STRBUF_INIT;
	model_func_event_text(m, &fe, &sb);
	model_note_kind(p, fe.ts, (int)e->h.tid, sb_detach(&sb), ET_NOTE_FUNC);
	return 0;
}
