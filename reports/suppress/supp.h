/* Suppression files (--suppressions): the leaks a project knows of and
 * does not want listed. Two formats, in one file or several:
 *
 *   leak:GLOB          LeakSanitizer's: a leak any of whose allocation
 *                      frames has a function or module name matching GLOB
 *   heap-buffer-overflow:GLOB, heap-use-after-free:GLOB   the same for
 *                      the preload's overflow and write-after-free errors
 *                      (#11): any frame of the allocation, free or
 *                      detection stack
 *   {                  valgrind's: a name, "Tool:Kind", an optional
 *      name            "match-leak-kinds: definite,indirect,possible,
 *      Memcheck:Leak   reachable|all" line, then up to 24 frames from the
 *      match-leak-kinds: definite    allocating function outwards:
 *      fun:malloc      fun:GLOB (function), obj:GLOB (module path),
 *      fun:make_*      src:FILE[:LINE], and "..." for any number of frames
 *      ...
 *   }
 *
 * Comments start with '#'. valgrind's other kinds (Memcheck:Cond, Addr8,
 * Param, Free..., other tools') are read and counted, not applied: etrace
 * applies leak suppressions. The parser takes untrusted input (a fuzz
 * target reads it: tests/fuzz/fuzz_suppressions.c). */
#ifndef ETRACE_SUPP_H
#define ETRACE_SUPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sym_frame;
struct strbuf;

/* leak kinds, as valgrind's match-leak-kinds names them */
#define SUPP_DEFINITE 1u
#define SUPP_INDIRECT 2u
#define SUPP_POSSIBLE 4u
#define SUPP_REACHABLE 8u

struct supp_set;

struct supp_set *supp_set_new(void);
void supp_set_free(struct supp_set *s);
/* Adds the rules of a file. Returns 0, or -1 with "PATH:LINE: what is
 * wrong" in err (then nothing of that file is added). */
int supp_read(struct supp_set *s, FILE *f, const char *path, char *err, size_t errlen);
/* Rules read (both formats), and valgrind entries of kinds not applied. */
size_t supp_count(const struct supp_set *s);
size_t supp_not_applied(const struct supp_set *s);

/* An LSan rule matches one of the frames. */
bool supp_match_lsan(const struct supp_set *s, const struct sym_frame *frames, size_t n);
/* An error rule of kind (SUPP_ERR_*) matches one of the frames. */
#define SUPP_ERR_OVERFLOW 1u
#define SUPP_ERR_UAF 2u
bool supp_match_error(const struct supp_set *s, unsigned kind, const struct sym_frame *frames, size_t n);
/* A valgrind Memcheck:Leak entry matches the allocation stack: the
 * allocating function (alloc_fn, "malloc", "operator new[]"...) and then
 * frames[0..n), of a leak of kind (SUPP_DEFINITE...). An obj: pattern is
 * matched by its last path component against the module's file name
 * (frames know no directories): obj:/usr/lib/x86_64-linux-gnu/libc.so.6
 * and obj:*\/libc.so* both name libc.so.6. */
bool supp_match_leak(const struct supp_set *s, const char *alloc_fn, const struct sym_frame *frames, size_t n,
		     unsigned kind);

/* A valgrind-format entry that suppresses this leak, ready to paste:
 * named name, the allocating function then each frame (fun: when it has a
 * function name, else obj:), at most 24. */
void supp_generate_leak(struct strbuf *out, const char *name, const char *alloc_fn, const struct sym_frame *frames,
			size_t n, unsigned kind);

#endif
