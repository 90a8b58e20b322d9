/*
 * The shared memory between libetrace_heap.so (inside each traced process)
 * and etrace: one memfd per process image, made and sealed by the library,
 * handed to etrace over the run's socket (SCM_RIGHTS). Its layout:
 *
 *     struct hr_header | records[nrecords] | stacks[nstacks] | index[2 * nstacks]
 *
 * Records are fixed-size, written by any thread of the process: a thread
 * reserves the next slot by a compare-and-swap on head (a process with
 * one thread by a plain store; only while the ring has room: a full ring
 * waits for etrace, bounded, and counts what it could not write), fills
 * it, then publishes it by storing seq = slot + 1.
 * etrace reads slots in order from tail and advances tail.
 *
 * Stacks are interned: a record carries a stack id (1-based index into
 * stacks[], 0 = none). Entries are handed out in order (stacks_used), so
 * that a process touches only the pages its stacks need; one is published
 * by storing ready after its frames, then its id goes into index[], an
 * open-addressed hash of the frames (the library's lookup; etrace reads
 * stacks[] by id only).
 *
 * For etrace everything here is untrusted input: the process can write
 * any byte at any time. etrace checks every size, index and count, and
 * never follows a pointer found here.
 */
#ifndef ETRACE_HEAPRING_H
#define ETRACE_HEAPRING_H

#include <stdint.h>

#define HR_MAGIC 0x65746872u     /* "rhte" */
#define HR_VERSION 2
#define HR_FRAMES 16             /* return addresses kept per stack (= ET_HEAP_FRAMES) */
#define HR_RECORDS_DEFAULT (1u << 16)
#define HR_STACKS (1u << 16)
#define HR_ENV_SOCK "ETRACE_HEAP_SOCK"      /* the run's socket path */
#define HR_ENV_RECORDS "ETRACE_HEAP_RECORDS" /* ring size in records (a power of two) */

/* Messages on the socket, library -> etrace, each a struct hr_msg. */
enum hr_msg_type {
	HR_MSG_RING = 1,        /* the ring's memfd rides along (SCM_RIGHTS) */
	HR_MSG_EXIT = 2,        /* the process is exiting: scan it, then answer one byte */
	HR_MSG_WAKE = 3,        /* a quarter of the ring waits: drain it now (etrace otherwise
				   looks every 10 ms) */
};

struct hr_msg {
	uint32_t type;
	uint32_t version;
	uint64_t ts;            /* CLOCK_MONOTONIC ns */
	uint64_t fsbase;        /* HR_MSG_EXIT: the exiting thread's thread pointer */
	uint64_t regs[8];       /* HR_MSG_EXIT: rbx rbp r12 r13 r14 r15 rsp rip of the exiting thread */
};

/* Record operations: the values of enum et_heap_op (bpf/events.h), and: */
#define HR_OP_FORK 100          /* the process is about to fork (pthread_atfork prepare): the
				   records before it are the ones the child inherits */

struct hr_record {
	uint32_t seq;           /* low 32 bits of slot + 1 once the record is complete */
	uint8_t op;             /* enum et_heap_op */
	uint8_t pad[3];
	uint32_t tid;
	uint32_t stack;         /* stack id, 0: none */
	uint64_t ptr;           /* the block returned or freed */
	uint64_t size;          /* bytes asked for */
	uint64_t arg;           /* realloc: the old pointer; aligned: the alignment; free: the caller's sp */
	uint64_t tsc;           /* time: the time stamp counter, or CLOCK_MONOTONIC ns (HR_F_MONO) */
};

struct hr_stack {
	uint64_t hash;          /* 0: free slot */
	uint32_t ready;         /* frames written */
	uint32_t nframes;
	uint64_t frames[HR_FRAMES];
};

#define HR_F_MONO 1u            /* record times are CLOCK_MONOTONIC ns, not TSC */

struct hr_header {
	uint32_t magic, version;
	uint32_t record_size, stack_size;
	uint64_t nrecords;      /* a power of two */
	uint64_t nstacks;       /* a power of two */
	uint32_t flags;
	uint32_t pad0;
	uint64_t pad1[11];
	/* producers (own cache line) */
	uint64_t head;          /* slots reserved */
	uint64_t pad2[7];
	/* the consumer (own cache line) */
	uint64_t tail;          /* slots consumed */
	uint64_t pad3[7];
	/* counters the producers add to */
	uint64_t full_waits;    /* times a thread waited for room */
	uint64_t full_wait_ns;
	uint64_t lost;          /* records not written: the ring stayed full past the bound */
	uint64_t stacks_full;   /* stacks not interned: the table was full */
	uint64_t unrecorded;    /* calls made before the ring existed or inside the library */
	uint64_t stacks_used;   /* entries of stacks[] handed out (may pass nstacks: then full) */
	uint64_t pad4[2];
};

static inline uint64_t hr_map_size(uint64_t nrecords, uint64_t nstacks)
{
	return sizeof(struct hr_header) + nrecords * sizeof(struct hr_record) + nstacks * sizeof(struct hr_stack) +
	       2 * nstacks * sizeof(uint32_t);
}

#endif
