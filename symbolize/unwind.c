/*
 * DWARF unwinding of a captured x86_64 user state (registers and a copy of
 * the top of the stack) with libdwfl's unwinder: the session's Dwfl is given
 * a "process" of one thread whose registers are the captured ones and whose
 * memory is the stack copy only. CFI comes from .eh_frame/.debug_frame of the
 * modules; libdwfl itself follows frame pointers where a pc has no CFI.
 *
 * Two additions to libdwfl:
 *  - the pc is in no module but the word at rsp is an address in one (a
 *    call through a bad function pointer): that word is taken as the return
 *    address and unwinding starts from the caller, whose other registers are
 *    intact;
 *  - when DWARF gives up after the first frame, the rbp chain is followed
 *    inside the stack copy.
 */
#include <elfutils/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/sym_internal.h"

#define SYM_PID 1 /* the pid/tid libdwfl is told: any positive number does */
#define SYM_TID 1
#define DEFAULT_MAX_FRAMES 256
#define MAX_INLINE 64
#define X86_64_DWARF_NREGS 17 /* rax..r15 (0-15) and the return address column (16) */

bool sym_stack_read(struct sym_session *s, uint64_t addr, uint64_t *val)
{
	if (s->stack_len >= 8 && addr >= s->stack_addr && addr - s->stack_addr <= s->stack_len - 8) {
		memcpy(val, s->stack + (addr - s->stack_addr), 8);
		return true;
	}
	if (!s->read_failed) {
		s->read_failed = 1;
		s->read_fail_addr = addr;
	}
	return false;
}

/* --- libdwfl thread callbacks: one thread, frozen in the capture --------- */

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (*thread_argp != NULL)
		return 0; /* no more threads */
	*thread_argp = arg;
	return SYM_TID;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (tid != SYM_TID)
		return false;
	*thread_argp = arg;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)dwfl;
	uint64_t v;
	if (!sym_stack_read(arg, addr, &v))
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct sym_session *s = thread_arg;
	if (!dwfl_thread_state_registers(thread, 0, X86_64_DWARF_NREGS, s->init_regs))
		return false;
	dwfl_thread_state_register_pc(thread, s->init_pc);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

static int find_x86_64_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)name;
	(void)start;
	Dwarf_Addr bias;
	GElf_Ehdr ehdr;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	if (elf && gelf_getclass(elf) == ELFCLASS64 && gelf_getehdr(elf, &ehdr) && ehdr.e_machine == EM_X86_64) {
		*(Elf **)arg = elf;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

/* dwfl_attach_state needs an Elf only to choose the architecture backend:
 * a module's, or a bare x86_64 ELF header when there is none (no modules,
 * none could be opened). Done once per session. */
static int attach(struct sym_session *s)
{
	if (s->attach_state)
		return s->attach_state;
	Elf *elf = NULL;
	dwfl_getmodules(s->dwfl, find_x86_64_elf, &elf, 0);
	if (elf == NULL) {
		Elf64_Ehdr *eh = &s->arch_ehdr;
		memset(eh, 0, sizeof(*eh));
		memcpy(eh->e_ident, ELFMAG, SELFMAG);
		eh->e_ident[EI_CLASS] = ELFCLASS64;
		eh->e_ident[EI_DATA] = ELFDATA2LSB;
		eh->e_ident[EI_VERSION] = EV_CURRENT;
		eh->e_type = ET_EXEC;
		eh->e_machine = EM_X86_64;
		eh->e_version = EV_CURRENT;
		eh->e_ehsize = sizeof(*eh);
		s->arch_elf = elf_memory((char *)eh, sizeof(*eh));
		elf = s->arch_elf;
	}
	dwfl_errno();
	if (elf == NULL || !dwfl_attach_state(s->dwfl, elf, SYM_PID, &thread_callbacks, s)) {
		const char *m = dwfl_errmsg(dwfl_errno());
		s->attach_state = -1;
		sym_append_error(&s->attach_error, "cannot start the unwinder: %s", m ? m : "unknown error");
		return -1;
	}
	s->attach_state = 1;
	return 1;
}

/* --- frame collection ---------------------------------------------------- */

static int push_raw(struct sym_session *s, uint64_t pc, int is_return)
{
	if (s->nraw == s->rawcap) {
		size_t cap = s->rawcap ? s->rawcap * 2 : 64;
		struct sym_rawframe *r = realloc(s->raw, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		s->raw = r;
		s->rawcap = cap;
	}
	s->raw[s->nraw].pc = pc;
	s->raw[s->nraw].is_return = is_return;
	s->nraw++;
	return 0;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct sym_session *s = arg;
	if (s->nraw >= s->maxraw) {
		s->hit_limit = 1;
		return DWARF_CB_ABORT;
	}
	/* Reads from here on belong to unwinding the next frame: asking for
	 * isactivation makes libdwfl unwind it now. */
	s->read_failed = 0;
	Dwarf_Addr pc;
	bool activation = false;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
#if _ELFUTILS_PREREQ(0, 188)
	/* Same pc and same stack pointer as the frame before: CFI that does not
	 * make progress would otherwise repeat until the frame limit. */
	Dwarf_Word sp;
	if (dwfl_frame_reg(state, 7, &sp) == 0) {
		if (s->have_last && pc == s->last_pc && sp == s->last_sp) {
			s->looped = 1;
			return DWARF_CB_ABORT;
		}
		s->have_last = 1;
		s->last_pc = pc;
		s->last_sp = sp;
	}
#endif
	int is_return = !activation;
	if (s->report_first_as_return && s->pass_frames == 0) {
		pc += 1; /* pass 2 starts inside the call instruction; report its return address */
		is_return = 1;
	}
	s->pass_frames++;
	if (push_raw(s, pc, is_return) != 0)
		return DWARF_CB_ABORT;
	return DWARF_CB_OK;
}

/* "c (test_unwind+0x1234)", "libfoo.so+0x99" or "0x1234": for messages. */
static void describe(struct sym_session *s, uint64_t pc, int is_return, char *buf, size_t len)
{
	struct sym_frame f[MAX_INLINE];
	size_t n = sym_address(s, pc, is_return, f, MAX_INLINE);
	struct sym_frame *o = n ? &f[n - 1] : NULL;
	if (o && o->function && o->module)
		snprintf(buf, len, "%s (%s+0x%llx)", o->function, o->module, (unsigned long long)o->module_offset);
	else if (o && o->module)
		snprintf(buf, len, "%s+0x%llx", o->module, (unsigned long long)o->module_offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)pc);
	sym_frames_free(f, n);
}

struct pass_result {
	char *error;
	int truncated;
	int outermost; /* reached a frame whose caller is undefined (_start, clone) */
};

static void run_pass(struct sym_session *s, struct pass_result *res)
{
	s->read_failed = 0;
	s->looped = 0;
	s->have_last = 0;
	s->pass_frames = 0;
	dwfl_errno();
	int r = dwfl_getthread_frames(s->dwfl, SYM_TID, frame_cb, s);
	int dwerr = dwfl_errno();

	if (s->hit_limit) {
		res->truncated = 1;
		return;
	}
	if (r == 0 && !s->read_failed) {
		res->outermost = 1;
		return;
	}
	char here[256] = "the first frame";
	if (s->nraw > 0)
		describe(s, s->raw[s->nraw - 1].pc, s->raw[s->nraw - 1].is_return, here, sizeof(here));
	if (s->looped) {
		sym_append_error(&res->error, "unwinding does not progress at %s", here);
		return;
	}
	if (s->read_failed) {
		uint64_t end = s->stack_addr + s->stack_len;
		if (s->stack_len == 0) {
			res->truncated = 1;
			sym_append_error(&res->error, "no stack copy: only the first frame");
		} else if (s->read_fail_addr >= end && s->read_fail_addr - end < (1u << 20)) {
			res->truncated = 1;
			sym_append_error(&res->error,
					 "stack copy too short: unwinding past %s needs 0x%llx, the copy ends at 0x%llx",
					 here, (unsigned long long)s->read_fail_addr, (unsigned long long)end);
		} else {
			sym_append_error(&res->error,
					 "unwinding past %s needs 0x%llx, outside the stack copy [0x%llx, 0x%llx)",
					 here, (unsigned long long)s->read_fail_addr, (unsigned long long)s->stack_addr,
					 (unsigned long long)end);
		}
		return;
	}
	const char *m = dwerr ? dwfl_errmsg(dwerr) : NULL;
	if (s->nraw > 0 && sym_module_name_at(s, s->raw[s->nraw - 1].pc - s->raw[s->nraw - 1].is_return) == NULL)
		sym_append_error(&res->error, "no module at %s and no frame pointer chain", here);
	else
		sym_append_error(&res->error, "cannot unwind past %s: %s", here, m ? m : "no unwind information");
}

/* rbp chain inside the stack copy: [rbp] = caller's rbp, [rbp+8] = return
 * address. Stops at a zero return address, a chain that does not go up the
 * stack, or (when modules are known) a return address outside them. */
static size_t frame_pointer_walk(struct sym_session *s, const struct sym_regs *regs, int *truncated)
{
	uint64_t fp = regs->rbp, sp = regs->rsp;
	size_t added = 0;
	for (;;) {
		uint64_t next, ret;
		if (fp < sp || (fp & 7) != 0)
			break;
		if (!sym_stack_read(s, fp, &next) || !sym_stack_read(s, fp + 8, &ret) || ret == 0)
			break;
		if ((s->nmodules > 0 || s->nunopened > 0) && sym_module_name_at(s, ret - 1) == NULL)
			break;
		if (s->nraw >= s->maxraw) {
			*truncated = 1;
			break;
		}
		if (push_raw(s, ret, 1) != 0)
			break;
		added++;
		if (next <= fp)
			break;
		sp = fp + 16;
		fp = next;
	}
	return added;
}

static void set_initial(struct sym_session *s, const struct sym_regs *r)
{
	Dwarf_Word *w = s->init_regs;
	w[0] = r->rax;
	w[1] = r->rdx;
	w[2] = r->rcx;
	w[3] = r->rbx;
	w[4] = r->rsi;
	w[5] = r->rdi;
	w[6] = r->rbp;
	w[7] = r->rsp;
	w[8] = r->r8;
	w[9] = r->r9;
	w[10] = r->r10;
	w[11] = r->r11;
	w[12] = r->r12;
	w[13] = r->r13;
	w[14] = r->r14;
	w[15] = r->r15;
	w[16] = r->rip;
	s->init_pc = r->rip;
}

/* Symbolizes the raw frames into out, inline chains expanded, at most max entries. */
static int emit_frames(struct sym_session *s, size_t max, struct sym_backtrace *out)
{
	struct sym_frame tmp[MAX_INLINE];
	size_t cap = 0;
	for (size_t i = 0; i < s->nraw; i++) {
		size_t n = sym_address(s, s->raw[i].pc, s->raw[i].is_return, tmp, MAX_INLINE);
		for (size_t j = 0; j < n; j++) {
			if (out->nframes >= max) {
				sym_frames_free(tmp + j, n - j);
				out->truncated = 1;
				return 0;
			}
			if (out->nframes == cap) {
				size_t ncap = cap ? cap * 2 : 32;
				struct sym_frame *f = realloc(out->frames, ncap * sizeof(*f));
				if (f == NULL) {
					sym_frames_free(tmp + j, n - j);
					return -1;
				}
				out->frames = f;
				cap = ncap;
			}
			out->frames[out->nframes++] = tmp[j];
		}
	}
	return 0;
}

int sym_unwind(struct sym_session *s, const struct sym_regs *regs, const void *stack, size_t stack_len,
	       uint64_t stack_addr, size_t max_frames, struct sym_backtrace *out)
{
	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (s == NULL || regs == NULL)
		return -1;
	if (max_frames == 0)
		max_frames = DEFAULT_MAX_FRAMES;
	if (stack == NULL || stack_addr + stack_len < stack_addr)
		stack_len = 0;
	s->stack = stack;
	s->stack_len = stack_len;
	s->stack_addr = stack_addr;
	s->nraw = 0;
	s->maxraw = max_frames;
	s->hit_limit = 0;
	s->report_first_as_return = 0;
	set_initial(s, regs);

	struct pass_result res = {0};
	int attached = attach(s) == 1;
	uint64_t ret;
	if (attached && sym_module_name_at(s, regs->rip) == NULL && sym_stack_read(s, regs->rsp, &ret) && ret > 1 &&
	    dwfl_addrmodule(s->dwfl, ret - 1) != NULL) {
		/* A call through a bad pointer (pc in no module, often 0): the
		 * word at rsp is the return address into the caller, whose other
		 * registers are intact. Tried before libdwfl, whose frame-pointer
		 * fallback would skip that caller. */
		if (push_raw(s, regs->rip, 0) != 0)
			goto oom;
		s->init_regs[7] = regs->rsp + 8;
		s->init_regs[16] = ret - 1;
		s->init_pc = ret - 1;
		s->report_first_as_return = 1;
		run_pass(s, &res);
		s->report_first_as_return = 0;
		if (s->nraw == 1) {
			/* nothing from there: unwind from the registers as they are */
			free(res.error);
			memset(&res, 0, sizeof(res));
			s->nraw = 0;
			s->hit_limit = 0;
			set_initial(s, regs);
		}
	}
	if (s->nraw == 0) {
		if (attached)
			run_pass(s, &res);
		else
			res.error = strdup(s->attach_error ? s->attach_error : "cannot start the unwinder");
	}
	if (s->nraw == 0 && push_raw(s, regs->rip, 0) != 0)
		goto oom;

	if (s->nraw == 1 && !res.outermost && !s->hit_limit) {
		/* DWARF gave up at once: follow the rbp chain. */
		int fp_truncated = 0;
		size_t added = frame_pointer_walk(s, regs, &fp_truncated);
		if (added > 0) {
			res.truncated |= fp_truncated;
			sym_append_error(&res.error, "%zu caller%s found by following frame pointers", added,
					 added == 1 ? "" : "s");
		}
	}

	out->truncated = res.truncated;
	out->error = res.error;
	res.error = NULL;
	if (emit_frames(s, max_frames, out) != 0)
		goto oom;
	s->stack = NULL;
	s->stack_len = 0;
	return 0;
oom:
	free(res.error);
	sym_backtrace_free(out);
	s->stack = NULL;
	s->stack_len = 0;
	return -1;
}

void sym_backtrace_free(struct sym_backtrace *bt)
{
	if (bt == NULL)
		return;
	sym_frames_free(bt->frames, bt->nframes);
	free(bt->frames);
	free(bt->error);
	memset(bt, 0, sizeof(*bt));
}
