/* libetrace_heap.so: how to step from a frame to its caller's, per
 * program counter, read once from the unwind tables (.eh_frame) and then
 * kept in a table the process's threads share. A stack walk through
 * frames already seen costs a lookup and two loads a frame instead of
 * libgcc's unwind (which decodes the tables again for every frame of
 * every call). x86-64 only. */
#ifndef ETRACE_PRELOAD_CFI_H
#define ETRACE_PRELOAD_CFI_H

#include <stdint.h>

#include "recorder.h"

/* A rule, packed in one word (0: none yet). */
#define HR_CFI_VALID (1ull << 63)
#define HR_CFI_STEP (1ull << 62)      /* the caller is found as below */
#define HR_CFI_END (1ull << 61)       /* the outermost frame: no caller (return address undefined,
					 or no unwind table: where libgcc's unwind stops too) */
#define HR_CFI_SLOW (1ull << 60)      /* a rule this walk does not follow (a signal frame, a DWARF
					 expression...): the whole stack goes to libgcc */
#define HR_CFI_CFA_RBP (1ull << 59)   /* CFA = rbp + off (else rsp + off) */
#define HR_CFI_RBP_SAVED (1ull << 58) /* the caller's rbp is at CFA + rbp_off */

static inline int32_t hr_cfi_cfa_off(uint64_t r) { return (int32_t)(uint32_t)r; }
static inline int16_t hr_cfi_rbp_off(uint64_t r) { return (int16_t)(uint16_t)(r >> 32); }

/* The rule at pc (a return address minus one: inside the call). */
HR_HIDDEN uint64_t hr_cfi_rule(uint64_t pc);
/* Bumped by hr_cfi_forget (atomic): a rule kept elsewhere (stackwalk.c's
 * per-thread call sites) is good only while this has not moved. */
extern uint64_t hr_cfi_generation HR_HIDDEN;
/* Forgets every rule: a library was unloaded, another may come at its
 * addresses (dlclose.c). */
HR_HIDDEN void hr_cfi_forget(void);

#endif
