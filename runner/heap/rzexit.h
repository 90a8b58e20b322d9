/* The redzones of the blocks still live when a preloaded process exits
 * (#11): the library checks a redzone when its block is freed or
 * reallocated, and keeps nothing per block, so a block never freed is
 * checked here, from etrace, while the process waits for its leak scan. */
#ifndef ETRACE_RZEXIT_H
#define ETRACE_RZEXIT_H

#include <stddef.h>
#include <stdint.h>

struct hs_block;

struct rz_exit_finding {
	uint64_t addr;       /* the block */
	uint64_t first;      /* the first changed byte, bytes past its end */
	uint32_t count;      /* bytes changed */
};

/* Reads the redzones of blocks b[0..n) in process pid (its memory through
 * /proc/PID/mem: the caller may read it). Returns how many findings it put
 * in out (at most max). A block's slack is judged only when its tag says
 * the block is the size etrace recorded (a block whose memory is no longer
 * the one recorded is not read as changed); a write that reached the tag
 * is left to the block's free, long-form slacks (aligned blocks) too. */
size_t rz_exit_check(int pid, const struct hs_block *b, size_t n, struct rz_exit_finding *out, size_t max);

#endif
