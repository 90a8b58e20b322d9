/* The live block tables of a process's heap (see heap.c's notes on Tables):
 * blocks by the home slot of their 128-byte line, big blocks also by their
 * 64 KiB granules. */
#include <gelf.h>
#include "heap_int.h"

#define GRAN_MAX_PER_BLOCK (1u << 14) /* 1 GiB: a fault further inside is not matched to the block */
#define GRAN_INDEX_MAX (1u << 20)     /* granule entries in all: past it (64 GiB of big blocks, or a
				       * forged recording) a block is not indexed, which only costs
				       * the "inside a block" wording of a fault */

size_t line_home(size_t cap, uint64_t line)
{
	return mix64(line) & (cap - 1);
}

struct heap_block *btab_find(const struct btab *t, uint64_t addr)
{
	if (!t->cap || !addr)
		return NULL;
	for (size_t i = line_home(t->cap, addr >> LINE_SHIFT); t->s[i].addr; i = (i + 1) & (t->cap - 1))
		if (t->s[i].addr == addr)
			return &t->s[i];
	return NULL;
}

static void btab_place(struct btab *t, const struct heap_block *b)
{
	size_t i = line_home(t->cap, b->addr >> LINE_SHIFT);
	while (t->s[i].addr)
		i = (i + 1) & (t->cap - 1);
	t->s[i] = *b;
	t->count++;
}

/* Adds b (its address is not in the table). */
void btab_insert(struct btab *t, const struct heap_block *b)
{
	if ((t->count + 1) * 8 > t->cap * 5) {
		struct heap_block *old = t->s;
		size_t oldcap = t->cap;
		t->cap = oldcap ? oldcap * 2 : 1024;
		t->s = xcalloc(t->cap, sizeof(*t->s));
		t->count = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].addr)
				btab_place(t, &old[i]);
		free(old);
	}
	btab_place(t, b);
}

void btab_remove(struct btab *t, struct heap_block *b)
{
	size_t mask = t->cap - 1, i = (size_t)(b - t->s);
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!t->s[j].addr)
			break;
		if (shift_ok(i, j, line_home(t->cap, t->s[j].addr >> LINE_SHIFT))) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].addr = 0;
	t->count--;
}

void btab_copy(struct btab *to, const struct btab *from)
{
	*to = *from;
	if (from->cap) {
		to->s = xcalloc(from->cap, sizeof(*to->s));
		memcpy(to->s, from->s, from->cap * sizeof(*to->s));
	}
}

size_t gtab_home(size_t cap, uint64_t g1)
{
	return mix64(g1) & (cap - 1);
}

static void gtab_place(struct gtab *t, uint64_t g1, uint64_t addr)
{
	size_t i = gtab_home(t->cap, g1);
	while (t->s[i].g1)
		i = (i + 1) & (t->cap - 1);
	t->s[i] = (struct gent){ g1, addr };
	t->count++;
}

static void gtab_add(struct gtab *t, uint64_t g1, uint64_t addr)
{
	if ((t->count + 1) * 4 > t->cap * 3) {
		struct gent *old = t->s;
		size_t oldcap = t->cap;
		t->cap = oldcap ? oldcap * 2 : 256;
		t->s = xcalloc(t->cap, sizeof(*t->s));
		t->count = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].g1)
				gtab_place(t, old[i].g1, old[i].addr);
		free(old);
	}
	gtab_place(t, g1, addr);
}

static void gtab_del(struct gtab *t, uint64_t g1, uint64_t addr)
{
	if (!t->cap)
		return;
	size_t mask = t->cap - 1, i = gtab_home(t->cap, g1);
	while (t->s[i].g1 && !(t->s[i].g1 == g1 && t->s[i].addr == addr))
		i = (i + 1) & mask;
	if (!t->s[i].g1)
		return;
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!t->s[j].g1)
			break;
		if (shift_ok(i, j, gtab_home(t->cap, t->s[j].g1))) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].g1 = 0;
	t->count--;
}

/* Where "just past the end" of [a, a + size) ends: NEAR_BYTES past it, or
 * NEAR_BYTES into the next page (a block ending a mapping, as glibc's
 * mmapped chunks do, overflows into a fault at the next page). */
uint64_t heap_near_limit(uint64_t a, uint64_t size)
{
	uint64_t end = a + size;
	if (end < a)
		return UINT64_MAX;
	uint64_t page_end = (end + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
	uint64_t limit = (page_end < end ? UINT64_MAX : page_end) + NEAR_BYTES;
	if (limit < end + NEAR_BYTES)
		limit = end + NEAR_BYTES;
	return limit < end ? UINT64_MAX : limit;
}

/* The granules a block is entered in: [addr, heap_near_limit). */
static void granules(uint64_t addr, uint64_t size, uint64_t *first, uint64_t *last)
{
	uint64_t end = heap_near_limit(addr, size) - 1;
	*first = addr >> GRAN_SHIFT;
	*last = end >> GRAN_SHIFT;
	if (*last - *first >= GRAN_MAX_PER_BLOCK)
		*last = *first + GRAN_MAX_PER_BLOCK - 1;
}

void big_add(struct gtab *t, uint64_t addr, uint64_t size)
{
	uint64_t g, last;
	granules(addr, size, &g, &last);
	if (t->count + (last - g + 1) > GRAN_INDEX_MAX)
		return;
	for (; g <= last; g++)
		gtab_add(t, g + 1, addr);
}

void big_del(struct gtab *t, uint64_t addr, uint64_t size)
{
	uint64_t g, last;
	granules(addr, size, &g, &last);
	for (; g <= last; g++)
		gtab_del(t, g + 1, addr);
}
