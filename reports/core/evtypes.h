/*
 * The one table of the record types the BPF side sends (bpf/events.h enum
 * et_event_type): from it follow the dispatch of a record to what takes it
 * (model_ingest), the --events line it becomes, which kernel counter counts
 * the records of the type the ring buffer could not take, and the names
 * those losses have in the text and JSON reports. A new record type is one
 * line here and its handlers.
 */
#ifndef ETRACE_EVTYPES_H
#define ETRACE_EVTYPES_H

#include <stddef.h>
#include <stdint.h>
#include "bpf/events.h"
#include "strbuf.h"

struct et_model;
struct et_record;

struct et_record_type {
	uint32_t type;              /* enum et_event_type */
	const char *name;           /* "fork" */
	size_t min_size;            /* smaller records are malformed (0: the handler checks) */
	/* losses: the per-CPU kernel counter (enum et_counter; -1: none) and the
	 * key they are reported under (NULL: never lost). Types that share a
	 * key are adjacent and reported as one sum ("signal"). */
	int lost_counter;
	const char *lost_key;       /* JSON events.lost key: "heap_hold" */
	const char *lost_label;     /* in the text report: "heap hold" */
	/* takes the record into the model: 0, or -1 when it is malformed */
	int (*ingest)(struct et_model *m, const void *rec, size_t size);
	/* its --events line(s), appended to sb (r: the stored syscall, or NULL) */
	void (*event_line)(const struct et_model *m, const struct ev_header *h, const struct et_record *r,
			   double wall, struct strbuf *sb);
};

/* In the order the losses are reported. */
extern const struct et_record_type et_record_types[];
extern const size_t et_n_record_types;

/* The entry of a record type, or NULL for one this etrace does not know. */
const struct et_record_type *record_type(uint32_t type);

/* An ET_EV_HEAP record whose stack is heap_intern's id already (the
 * preload rings: each stack interned once, not once a record), taken as
 * model_ingest would take it with the frames. 0, or -1 when malformed. */
struct ev_heap;
int model_ingest_heap(struct et_model *m, const struct ev_heap *e, uint32_t stack);

/* Every record lost, whatever its type (unknown ones too). */
uint64_t events_lost_total(const struct et_model *m);

/* ", syscall 0, fork 0, ..." in table order: text = 1 for the text report's
 * labels ("syscall 3, heap hold 0"), 0 for JSON members ("\"syscall\":3"). */
void events_lost_list(const struct et_model *m, int text, struct strbuf *out);

#endif
