/*
 * The leak classifier (LeakSanitizer / valgrind "memcheck --leak-check"
 * style): given the live heap blocks of a stopped process, finds which are
 * still reachable from the roots (globals, thread stacks, TLS, registers)
 * and which are lost.
 *
 * Rules
 * -----
 * A "pointer" is any 8-byte word at an 8-aligned address of a scanned region
 * (roots, and the blocks found reachable) whose value v satisfies
 * addr <= v < addr + size for some live block: interior pointers count, a
 * pointer one past the end does not. A block of size 0 is matched by a
 * pointer to its start only. Blocks must not overlap (with overlapping
 * blocks a pointer goes to the one starting last at or before it).
 *
 *  HS_REACHABLE  "still reachable": a pointer to its start lies in a root
 *                region, in a register value, or inside another reachable
 *                or possibly lost block (transitive flood fill).
 *  HS_POSSIBLE   "possibly lost" (valgrind's class): reached in that flood
 *                fill only through pointers into its middle, never one to
 *                its start; its contents are scanned like a reachable
 *                block's (as valgrind does).
 *  HS_INDIRECT   "indirectly lost": not reachable, but pointed to by
 *                another unreachable block.
 *  HS_DEFINITE   "definitely lost": not reachable, and either
 *                - pointed to by no other unreachable block (a pointer from
 *                  a block to itself does not count), or
 *                - the lowest-address member of a cycle of unreachable
 *                  blocks that no other unreachable block outside the cycle
 *                  points to (a leaked ring A->B->C->A whose head pointer
 *                  was lost: the lowest of A, B, C is DEFINITE, the others
 *                  INDIRECT, so a leaked cycle is never hidden).
 *                Formally: in the graph of unreachable blocks, every
 *                source strongly-connected component contributes exactly
 *                one DEFINITE block (its only block, or for a cycle its
 *                lowest-address block); all other unreachable blocks are
 *                INDIRECT.
 *
 * Each INDIRECT block is counted under exactly one DEFINITE block that
 * (transitively) points to it, so the per-block indirect totals add up to
 * the total of INDIRECT blocks (valgrind's "(X direct, Y indirect)"). When
 * several lost blocks share indirect blocks, which one gets them depends on
 * the address order (the lowest-address DEFINITE block reaching them,
 * unless a later DEFINITE block reaches that block itself).
 *
 * Roots are given as regions. The bytes of live blocks are never scanned
 * as roots even when a root region contains them (a heap arena or [heap]
 * holding the TLS): a block's words are scanned only if the block itself is
 * reachable.
 *
 * Cost: about 30 bytes of memory per block (plus 32 per block while
 * sorting, when the blocks are not given in address order) and 4 MiB of
 * read cache; each root byte and each block byte is read once.
 *
 * Limitations (64-bit targets only; the first two err towards
 * "reachable", the others can report a leak that is not one):
 *  - conservative: any word that happens to look like a pointer keeps a
 *    block alive (stale stack slots above sp, integers);
 *  - with glibc malloc, main_arena (in libc's .data, a root) points to the
 *    header of the top chunk and of binned free chunks, 16 bytes before
 *    their user address, which lies inside the previous block when its
 *    size is 1..8 modulo 16. A value exactly at that position is taken as
 *    the allocator's and ignored; a program's own pointer to exactly that
 *    interior word of such a block is missed with it;
 *  - "tls" scans the whole mapping holding fsbase minus live blocks: for a
 *    static binary that is [heap], free chunks included;
 *  - registers: only the values the caller gives (plus, in
 *    heapscan_process, the syscall arguments of blocked threads); the
 *    other threads' callee-saved registers are not visible without ptrace;
 *  - the main thread's static TLS is only scanned when fsbase is the main
 *    thread's; other glibc/musl threads keep theirs at the top of their
 *    stack mapping, which their stack region covers;
 *  - every other readable and writable mapping is a root (valgrind's
 *    rule: a program keeps pointers in memory it maps itself, CPython's
 *    object arenas, ld.so's start-up allocations), so stale pointers left
 *    in a custom allocator's free memory keep blocks alive; the allocator's
 *    own memory is not a root when heapscan_process can tell where it is
 *    (glibc's [heap] and arena heaps; for another allocator, each mapping
 *    holding a live block).
 */
#ifndef ETRACE_HEAPSCAN_H
#define ETRACE_HEAPSCAN_H

#include <stddef.h>
#include <stdint.h>

enum hs_state { HS_UNKNOWN = 0, HS_REACHABLE, HS_INDIRECT, HS_DEFINITE, HS_POSSIBLE };

struct hs_block {
	uint64_t addr, size;       /* in: the live block (requested size is best) */
	uint8_t state;             /* out: enum hs_state */
	/* out, for a DEFINITE block (0 otherwise): the INDIRECT blocks it holds */
	uint64_t indirect_bytes, indirect_blocks;
};

struct hs_region {
	uint64_t start, end;       /* [start, end) */
	const char *what;          /* "stack of 1234", "data of /usr/lib/x86_64-linux-gnu/libc.so.6", ... */
};

struct hs_stats {
	uint64_t bytes_scanned;    /* bytes of roots and blocks read and scanned */
	uint64_t regions;          /* root regions scanned */
	uint64_t unreadable_bytes; /* bytes of roots or blocks that could not be read (skipped) */
	double ms;                 /* wall time */
	/* additions */
	uint64_t root_bytes;       /* part of bytes_scanned that was roots */
	uint64_t reads;            /* calls of the read function */
	uint64_t reachable, indirect, definite;   /* block counts */
	uint64_t possible;
};

/* Reads len bytes at addr of the target into buf: bytes read (may be short:
 * the readable prefix), or < 0 when nothing at addr is readable. */
typedef long (*hs_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Classifies blocks[0..n) (any order; the array is not reordered, only the
 * state and indirect_* fields are written). roots: regions to scan (any
 * order, may overlap). regs: extra candidate pointer values (registers).
 * rd/ctx read the target's memory; unreadable parts are skipped and counted.
 * st may be NULL. Returns 0, or -1 with errno set (ENOMEM; EINVAL when n is
 * 2^32 or more or an argument is NULL).
 */
int heapscan_classify(struct hs_block *blocks, size_t n,
		      const struct hs_region *roots, size_t nroots,
		      const uint64_t *regs, size_t nregs,
		      hs_read_fn rd, void *ctx, struct hs_stats *st);

/*
 * The root regions of a stopped process, from /proc/PID/maps and
 * /proc/PID/task/TID/syscall:
 *  - "data of PATH": writable mappings of an ELF file (.data, .got, .bss);
 *  - "bss of PATH": the unnamed anonymous rw mapping starting exactly where
 *    the module's last mapping ends, cut at the end of the module's last
 *    PT_LOAD (p_vaddr + p_memsz, from the ELF headers in the process) when
 *    those are readable: a library loaded right below an unrelated
 *    anonymous mapping does not turn that mapping into a root;
 *  - "stack of TID": for each thread, the mapping containing its stack
 *    pointer, from sp - 128 (x86-64 red zone) to the mapping's end (for a
 *    glibc thread this includes its TCB and static TLS at the top);
 *  - "[stack]": the whole [stack] mapping when no thread's sp lies in it;
 *    "stack? (sp unknown)": when some thread's sp could not be read, every
 *    anonymous rw mapping right above a PROT_NONE guard (a thread stack);
 *  - "tls": the whole mapping containing fsbase (the exiting thread's
 *    static TLS), unless a thread's sp is in that mapping (then its stack
 *    region already covers the TLS at the top) or a module region already
 *    covers it. fsbase 0: none.
 *  - "anonymous mapping", "mapping of PATH": every other readable and
 *    writable mapping (shared ones too) except [heap], the kernel's
 *    ([vvar]...), mappings taken as thread stacks, and, in
 *    heapscan_process, the allocator's memory found from the blocks:
 *    glibc's arena heaps (64 MiB-aligned, heap_info at their start), and
 *    the whole mapping of any block that is neither in those nor an
 *    mmapped chunk (an allocator whose layout etrace does not know).
 * Returns 0, or -1 with a one-line message in err. *out is one allocation
 * (the array followed by the strings): a single free(*out) releases it.
 */
int heapscan_roots(int pid, uint64_t fsbase, struct hs_region **out, size_t *n,
		   char *err, size_t errlen);

/* A hs_read_fn for a live (stopped) process: ctx points to an int pid.
 * process_vm_readv, falling back to pread of /proc/PID/mem. */
long heapscan_read_process(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Roots + classify for a stopped pid (all its threads stopped). Besides
 * regs, the syscall argument registers of threads blocked in a syscall
 * (from /proc/PID/task/TID/syscall) are used as register values.
 * st->ms is the total time. Returns 0, or -1 with a message in err.
 */
int heapscan_process(int pid, uint64_t fsbase, const uint64_t *regs, size_t nregs,
		     struct hs_block *blocks, size_t n, struct hs_stats *st,
		     char *err, size_t errlen);

const char *hs_state_name(int state);   /* "reachable", "indirect", "definite", "possible", "unknown" */

#endif
