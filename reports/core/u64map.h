/* A u64 -> u64 hash map (open addressing, linear probing, key 0 reserved),
 * shared by the heap model and the packet journeys. Static inline: the heap
 * model uses it on every allocation record. */
#ifndef ETRACE_U64MAP_H
#define ETRACE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "xalloc.h"

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* ---- u64 -> u64 map (key 0 is reserved) ------------------------------------------ */

struct u64ent {
	uint64_t k, v;
};

struct u64map {
	struct u64ent *e;
	size_t cap, count;
};

static inline size_t map_home(const struct u64map *m, uint64_t k)
{
	return mix64(k) & (m->cap - 1);
}

static inline bool map_get(const struct u64map *m, uint64_t k, uint64_t *v)
{
	if (!m->cap)
		return false;
	for (size_t i = map_home(m, k); m->e[i].k; i = (i + 1) & (m->cap - 1))
		if (m->e[i].k == k) {
			*v = m->e[i].v;
			return true;
		}
	return false;
}

static inline void map_put(struct u64map *m, uint64_t k, uint64_t v);

static inline void map_grow(struct u64map *m)
{
	struct u64ent *old = m->e;
	size_t oldcap = m->cap;
	m->cap = oldcap ? oldcap * 2 : 64;
	m->e = xcalloc(m->cap, sizeof(*m->e));
	m->count = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].k)
			map_put(m, old[i].k, old[i].v);
	free(old);
}

static inline void map_put(struct u64map *m, uint64_t k, uint64_t v)
{
	if ((m->count + 1) * 4 > m->cap * 3)
		map_grow(m);
	size_t i = map_home(m, k);
	while (m->e[i].k && m->e[i].k != k)
		i = (i + 1) & (m->cap - 1);
	if (!m->e[i].k)
		m->count++;
	m->e[i].k = k;
	m->e[i].v = v;
}

/* true when j's entry (home k) may move back to the hole at i */
static inline bool shift_ok(size_t i, size_t j, size_t k)
{
	return j > i ? (k <= i || k > j) : (k <= i && k > j);
}

/* Empties slot i, moving back the entries after it that may move. */
static inline void map_remove_at(struct u64map *m, size_t i)
{
	size_t mask = m->cap - 1;
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!m->e[j].k)
			break;
		if (shift_ok(i, j, map_home(m, m->e[j].k))) {
			m->e[i] = m->e[j];
			i = j;
		}
	}
	m->e[i].k = 0;
	m->count--;
}

/* Removes k; only when it maps to v unless any_value. */
static inline void map_del_if(struct u64map *m, uint64_t k, uint64_t v, bool any_value)
{
	if (!m->cap)
		return;
	size_t mask = m->cap - 1, i = map_home(m, k);
	while (m->e[i].k && m->e[i].k != k)
		i = (i + 1) & mask;
	if (!m->e[i].k || (!any_value && m->e[i].v != v))
		return;
	map_remove_at(m, i);
}

static inline void map_del(struct u64map *m, uint64_t k)
{
	map_del_if(m, k, 0, true);
}

/* Removes k, giving its value: one search where map_get then map_del made
 * two (the heap model does it on every allocation). false: not there. */
static inline bool map_take(struct u64map *m, uint64_t k, uint64_t *v)
{
	if (!m->count)
		return false;
	size_t mask = m->cap - 1, i = map_home(m, k);
	while (m->e[i].k && m->e[i].k != k)
		i = (i + 1) & mask;
	if (!m->e[i].k)
		return false;
	*v = m->e[i].v;
	map_remove_at(m, i);
	return true;
}

static inline void map_clear(struct u64map *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static inline void map_copy(struct u64map *to, const struct u64map *from)
{
	*to = *from;
	if (from->cap) {
		to->e = xcalloc(from->cap, sizeof(*to->e));
		memcpy(to->e, from->e, from->cap * sizeof(*to->e));
	}
}

#endif
