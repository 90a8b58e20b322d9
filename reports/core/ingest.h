/*
 * The model's own record handlers (reports/core/model.c), reached through the
 * record type table (evtypes.c): processes, threads, syscalls, signals,
 * crashes and traced functions. Each returns 0, or -1 when the record is
 * malformed; the table has checked the header and min_size.
 */
#ifndef ETRACE_INGEST_H
#define ETRACE_INGEST_H

#include <stddef.h>

struct et_model;

int model_on_syscall(struct et_model *m, const void *rec, size_t size);
int model_on_fork(struct et_model *m, const void *rec, size_t size);
int model_on_exec(struct et_model *m, const void *rec, size_t size);
int model_on_exit(struct et_model *m, const void *rec, size_t size);
int model_on_signal(struct et_model *m, const void *rec, size_t size);
int model_on_siggen(struct et_model *m, const void *rec, size_t size);
int model_on_crash(struct et_model *m, const void *rec, size_t size);
int model_on_func(struct et_model *m, const void *rec, size_t size);

#endif
