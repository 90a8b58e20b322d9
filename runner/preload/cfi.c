/* The per-PC unwind rules of libetrace_heap.so (cfi.h).
 *
 * libgcc finds a PC's FDE (_Unwind_Find_FDE: glibc's lock-free
 * _dl_find_object, signal-safe) and this file runs its call frame
 * instructions up to the PC, keeping only what a walk to the callers needs
 * on x86-64: the CFA (rsp or rbp plus an offset), where the caller's rbp
 * was saved, and that the return address is the word below the CFA. Any
 * other rule (a DWARF expression, a register rule for rbp or the return
 * address, a signal frame, an encoding not seen in GCC's output) makes the
 * PC's rule HR_CFI_SLOW: the stack is then unwound by libgcc as before.
 *
 * The table is insert-only: a slot's pc is claimed once by a
 * compare-and-swap and its rule stored after it, so a reader never mixes
 * one pc with another's rule (it sees the rule or 0, and computes it
 * itself). A full neighbourhood means computing the rule every time.
 *
 * A library unloaded and another loaded at the same addresses must not
 * find the old library's rules: hr_cfi_forget (called after a dlclose that
 * unmapped something, dlclose.c) starts a new generation. The generation
 * is part of each slot's key, so an old rule never matches again, and the
 * table is emptied for room; a rule carries a tag of its key, so a rule
 * stored late by a thread that raced with the emptying is never taken for
 * another pc's. */
#include "cfi.h"
#include "populate.h"

#include <string.h>

#if defined(__x86_64__)

struct dwarf_eh_bases {
	void *tbase, *dbase, *func;
};
/* libgcc_s (GCC_3.0), not in unwind.h */
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

#define RULES (1u << 15)
#define PROBES 8
/* Page-aligned: once a process has more than POPULATE_AT rules, its pcs
 * hashed over all of the table's 128 pages, the whole table is populated
 * in one call (populate.h) instead of a fault a page (gcc, as and cc1
 * faulted in 110-130 pages each). */
static _Alignas(4096) struct {
	uint64_t pc, rule;
} rules[RULES];
#define POPULATE_AT 16
static unsigned inserted;   /* atomic */

enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

struct rd {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t uleb(struct rd *r)
{
	uint64_t v = 0;
	for (unsigned sh = 0; r->p < r->end; sh += 7) {
		uint8_t b = *r->p++;
		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

static int64_t sleb(struct rd *r)
{
	int64_t v = 0;
	unsigned sh = 0;
	while (r->p < r->end) {
		uint8_t b = *r->p++;
		if (sh < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << sh);
		sh += 7;
		if (!(b & 0x80)) {
			if (sh < 64 && (b & 0x40))
				v |= -(int64_t)((uint64_t)1 << sh);
			return v;
		}
	}
	r->bad = 1;
	return 0;
}

static uint64_t take(struct rd *r, unsigned n)
{
	uint64_t v = 0;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, n);
	r->p += n;
	return v;
}

/* Skips a pointer of encoding enc (DW_EH_PE_*): its value is not needed
 * (the FDE's start comes from _Unwind_Find_FDE). */
static void skip_enc(struct rd *r, uint8_t enc)
{
	if (enc == 0xff)      /* omit */
		return;
	switch (enc & 0x0f) {
	case 0x00: case 0x04: case 0x0c: take(r, 8); break;
	case 0x02: case 0x0a: take(r, 2); break;
	case 0x03: case 0x0b: take(r, 4); break;
	case 0x01: uleb(r); break;
	case 0x09: sleb(r); break;
	default: r->bad = 1;
	}
}

/* One entry's bounds: [start of its body, end). 0: malformed. */
static int entry(const uint8_t *at, struct rd *r)
{
	uint32_t len;
	memcpy(&len, at, 4);
	if (len == 0 || len == 0xffffffffu)   /* a terminator, or the 64-bit format GCC never emits */
		return 0;
	r->p = at + 4;
	r->end = at + 4 + len;
	r->bad = 0;
	return 1;
}

struct how {
	int cfa_reg;
	int64_t cfa_off;
	int rbp;              /* 0 same value, 1 saved at CFA + rbp_off, 2 anything else */
	int64_t rbp_off;
	int ra;               /* 1 at CFA + ra_off, 3 undefined, 2 anything else */
	int64_t ra_off;
};

struct cie {
	uint64_t caf;
	int64_t daf;
	uint8_t fde_enc;
	int z, signal;
	struct rd ins;
};

static int read_cie(const uint8_t *at, struct cie *c)
{
	struct rd r;
	if (!entry(at, &r) || take(&r, 4) != 0)
		return 0;
	uint8_t version = (uint8_t)take(&r, 1);
	const char *aug = (const char *)r.p;
	size_t alen = strnlen(aug, (size_t)(r.end - r.p));
	if (alen == (size_t)(r.end - r.p) || (version != 1 && version != 3 && version != 4))
		return 0;
	r.p += alen + 1;
	if (strstr(aug, "eh"))
		return 0;
	if (version == 4)
		take(&r, 2);          /* address and segment selector sizes */
	c->caf = uleb(&r);
	c->daf = sleb(&r);
	uint64_t ra_reg = version == 1 ? take(&r, 1) : uleb(&r);
	c->fde_enc = 0;
	c->z = aug[0] == 'z';
	c->signal = 0;
	if (ra_reg != REG_RA)
		return 0;
	if (c->z) {
		uint64_t n = uleb(&r);
		if (r.bad || n > (uint64_t)(r.end - r.p))
			return 0;
		struct rd a = { r.p, r.p + n, 0 };
		for (const char *k = aug + 1; *k && !a.bad; k++) {
			if (*k == 'R')
				c->fde_enc = (uint8_t)take(&a, 1);
			else if (*k == 'P')
				skip_enc(&a, (uint8_t)take(&a, 1));
			else if (*k == 'L')
				take(&a, 1);
			else if (*k == 'S')
				c->signal = 1;
			else if (*k != 'B' && *k != 'G')
				break;    /* unknown: the rest is skipped by length */
		}
		r.p += n;
	}
	c->ins = r;
	return !r.bad;
}

/* reg gets a rule the walk does not follow (a register, an expression) */
static void unfollowed(struct how *h, uint64_t reg)
{
	if (reg == REG_RBP)
		h->rbp = 2;
	else if (reg == REG_RA)
		h->ra = 2;
}

/* Runs the instructions of r while loc <= pc. 0: a rule this walk does
 * not follow. init: the CIE's rules (DW_CFA_restore), NULL in the CIE. */
static int run(struct rd *r, const struct cie *c, uint64_t loc, uint64_t pc, struct how *h, const struct how *init)
{
	struct how saved[4];
	int depth = 0;
	while (r->p < r->end && !r->bad) {
		uint8_t op = *r->p++;
		uint64_t reg = 0, adv = 0;
		int64_t off = 0;
		switch (op >> 6) {
		case 1:
			adv = (op & 0x3f) * c->caf;
			goto advance;
		case 2:
			reg = op & 0x3f;
			off = (int64_t)uleb(r) * c->daf;
			goto offset;
		case 3:
			reg = op & 0x3f;
			goto restore;
		}
		switch (op) {
		case 0x00:   /* nop */
			continue;
		case 0x02: adv = take(r, 1) * c->caf; goto advance;
		case 0x03: adv = take(r, 2) * c->caf; goto advance;
		case 0x04: adv = take(r, 4) * c->caf; goto advance;
		case 0x05:   /* offset_extended */
			reg = uleb(r);
			off = (int64_t)uleb(r) * c->daf;
			goto offset;
		case 0x11:   /* offset_extended_sf */
			reg = uleb(r);
			off = sleb(r) * c->daf;
			goto offset;
		case 0x2f:   /* GNU_negative_offset_extended */
			reg = uleb(r);
			off = -(int64_t)uleb(r) * c->daf;
			goto offset;
		case 0x06:   /* restore_extended */
			reg = uleb(r);
			goto restore;
		case 0x07:   /* undefined */
		case 0x08:   /* same_value */
			reg = uleb(r);
			if (reg == REG_RBP)
				h->rbp = op == 0x08 ? 0 : 2;
			else if (reg == REG_RA)
				h->ra = op == 0x07 ? 3 : 2;
			continue;
		case 0x09:   /* register */
			reg = uleb(r);
			uleb(r);
			unfollowed(h, reg);
			continue;
		case 0x0a:   /* remember_state */
			if (depth == 4)
				return 0;
			saved[depth++] = *h;
			continue;
		case 0x0b:   /* restore_state: the CFA too, as libgcc does (GCC's
				epilogues in mid-function rely on it) */
			if (!depth)
				return 0;
			*h = saved[--depth];
			continue;
		case 0x0c:   /* def_cfa */
			h->cfa_reg = (int)uleb(r);
			h->cfa_off = (int64_t)uleb(r);
			continue;
		case 0x12:   /* def_cfa_sf */
			h->cfa_reg = (int)uleb(r);
			h->cfa_off = sleb(r) * c->daf;
			continue;
		case 0x0d:   /* def_cfa_register */
			h->cfa_reg = (int)uleb(r);
			continue;
		case 0x0e:   /* def_cfa_offset */
			h->cfa_off = (int64_t)uleb(r);
			continue;
		case 0x13:   /* def_cfa_offset_sf */
			h->cfa_off = sleb(r) * c->daf;
			continue;
		case 0x10:   /* expression */
		case 0x16:   /* val_expression */
			reg = uleb(r);
			{
				uint64_t n = uleb(r);
				if (n > (uint64_t)(r->end - r->p))
					return 0;
				r->p += n;
			}
			unfollowed(h, reg);
			continue;
		case 0x14:   /* val_offset */
		case 0x15:   /* val_offset_sf */
			reg = uleb(r);
			if (op == 0x14)
				uleb(r);
			else
				sleb(r);
			unfollowed(h, reg);
			continue;
		case 0x2e:   /* GNU_args_size */
			uleb(r);
			continue;
		default:     /* set_loc, def_cfa_expression, anything newer */
			return 0;
		}
	advance:
		if (!init)
			return 0;    /* the CIE does not advance */
		loc += adv;
		if (loc > pc)
			return 1;
		continue;
	offset:
		if (reg == REG_RBP)
			h->rbp = 1, h->rbp_off = off;
		else if (reg == REG_RA)
			h->ra = 1, h->ra_off = off;
		continue;
	restore:
		if (!init)
			return 0;
		if (reg == REG_RBP)
			h->rbp = init->rbp, h->rbp_off = init->rbp_off;
		else if (reg == REG_RA)
			h->ra = init->ra, h->ra_off = init->ra_off;
		continue;
	}
	return !r->bad;
}

static uint64_t compute(uint64_t pc)
{
	struct dwarf_eh_bases b;
	const uint8_t *fde = _Unwind_Find_FDE((void *)(uintptr_t)pc, &b);
	if (!fde)
		return HR_CFI_VALID | HR_CFI_END;
	struct rd r;
	if (!entry(fde, &r))
		return HR_CFI_VALID | HR_CFI_SLOW;
	int32_t cie_off;
	memcpy(&cie_off, r.p, 4);
	r.p += 4;
	struct cie c;
	if (!read_cie(r.p - 4 - cie_off, &c) || c.signal)
		return HR_CFI_VALID | HR_CFI_SLOW;
	skip_enc(&r, c.fde_enc);           /* pc_begin: b.func */
	skip_enc(&r, c.fde_enc & 0x0f);    /* pc_range */
	if (c.z) {
		uint64_t n = uleb(&r);
		if (r.bad || n > (uint64_t)(r.end - r.p))
			return HR_CFI_VALID | HR_CFI_SLOW;
		r.p += n;
	}
	struct how h = { .cfa_reg = -1, .ra = 2 }, init;
	struct rd ci = c.ins;
	if (!run(&ci, &c, 0, 0, &h, NULL))
		return HR_CFI_VALID | HR_CFI_SLOW;
	init = h;
	if (!run(&r, &c, (uint64_t)(uintptr_t)b.func, pc, &h, &init))
		return HR_CFI_VALID | HR_CFI_SLOW;
	if (h.ra == 3)
		return HR_CFI_VALID | HR_CFI_END;
	if (h.ra != 1 || h.ra_off != -8 || (h.cfa_reg != REG_RSP && h.cfa_reg != REG_RBP) || h.rbp == 2 ||
	    h.cfa_off < 8 || h.cfa_off > INT32_MAX || (h.rbp == 1 && (h.rbp_off < INT16_MIN || h.rbp_off > INT16_MAX)))
		return HR_CFI_VALID | HR_CFI_SLOW;
	uint64_t rule = HR_CFI_VALID | HR_CFI_STEP | (uint32_t)(int32_t)h.cfa_off;
	if (h.cfa_reg == REG_RBP)
		rule |= HR_CFI_CFA_RBP;
	if (h.rbp == 1)
		rule |= HR_CFI_RBP_SAVED | (uint64_t)(uint16_t)(int16_t)h.rbp_off << 32;
	return rule;
}

uint64_t hr_cfi_generation;   /* bumped by hr_cfi_forget; atomic */

/* The tag of a slot's key kept in its rule (bits 48-57 of a rule are
 * otherwise unused). */
#define TAG_SHIFT 48
#define TAG_MASK (0x3ffull << TAG_SHIFT)

static uint64_t tag_of(uint64_t key)
{
	return ((key * 0xff51afd7ed558ccdull) >> 54) << TAG_SHIFT;
}

uint64_t hr_cfi_rule(uint64_t pc)
{
	/* x86-64 user addresses are below 2^47: the generation goes above */
	uint64_t key = pc ^ (__atomic_load_n(&hr_cfi_generation, __ATOMIC_ACQUIRE) << 47);
	uint64_t k = key * 0x9e3779b97f4a7c15ull, tag = tag_of(key);
	for (unsigned i = 0; i < PROBES; i++) {
		unsigned at = (unsigned)(k >> 49) + i;
		at &= RULES - 1;
		uint64_t cur = __atomic_load_n(&rules[at].pc, __ATOMIC_ACQUIRE);
		if (cur == key) {
			uint64_t r = __atomic_load_n(&rules[at].rule, __ATOMIC_ACQUIRE);
			return r && (r & TAG_MASK) == tag ? r & ~TAG_MASK : compute(pc);
		}
		if (cur)
			continue;
		uint64_t r = compute(pc);
		uint64_t zero = 0;
		if (__atomic_compare_exchange_n(&rules[at].pc, &zero, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&rules[at].rule, r | tag, __ATOMIC_RELEASE);
			if (__atomic_add_fetch(&inserted, 1, __ATOMIC_RELAXED) == POPULATE_AT)
				hr_populate(rules, sizeof(rules));
		}
		return r;
	}
	return compute(pc);
}

void hr_cfi_forget(void)
{
	__atomic_fetch_add(&hr_cfi_generation, 1, __ATOMIC_ACQ_REL);
	for (unsigned i = 0; i < RULES; i++)
		__atomic_store_n(&rules[i].pc, 0, __ATOMIC_RELEASE);
}

#else

uint64_t hr_cfi_generation;

uint64_t hr_cfi_rule(uint64_t pc)
{
	(void)pc;
	return HR_CFI_VALID | HR_CFI_SLOW;
}

void hr_cfi_forget(void)
{
}

#endif
