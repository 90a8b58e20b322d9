/* The model core's own helpers, shared by its files (model.c: lookup, notes,
 * modules, syscall records, decoding; model_procs.c: process and signal
 * records) and the record handlers that live with their analysis
 * (reports/crash/crash_ingest.c, reports/funcs/funcs_model.c). */
#ifndef ETRACE_MODEL_INT_H
#define ETRACE_MODEL_INT_H

#include "ingest.h"
#include "model.h"

struct et_thread *model_add_thread(struct et_model *m, struct et_process *p, int tid, uint64_t ts);
struct et_thread *model_thread_for(struct et_model *m, int pid, int tid, uint64_t ts);
void model_note(struct et_process *p, uint64_t ts, int tid, char *text);
void model_note_kind(struct et_process *p, uint64_t ts, int tid, char *text, int kind);
void model_clear_modules(struct et_process *p);
void model_copy_modules(struct et_process *to, const struct et_process *from);
void model_modules_at_exec(struct et_model *m, struct et_process *p, const struct ev_exec *e);

#endif
