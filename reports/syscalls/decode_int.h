/* Shared by the syscall decoder's files (decode.c, decode_names.c,
 * decode_sockaddr.c): the name tables' shape and the helpers one file gives
 * the others. Not for use outside reports/syscalls. */
#ifndef ETRACE_DECODE_INT_H
#define ETRACE_DECODE_INT_H

#include <stddef.h>
#include "decode.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* glibc defines O_LARGEFILE as 0 on 64-bit targets, but the kernel still
 * sees the bit when a 32-bit-style caller passes it. */
#if O_LARGEFILE != 0
#define K_O_LARGEFILE O_LARGEFILE
#elif defined(__x86_64__) || defined(__i386__)
#define K_O_LARGEFILE 0100000
#else
#define K_O_LARGEFILE 0
#endif

/* ------------------------------------------------------------------ */
/* Name tables                                                         */

struct named {
	unsigned long long val;
	const char *name;
};
#define N(x) { (unsigned long long)(x), #x }

void put_flags(struct strbuf *out, unsigned long long v, const struct named *t, size_t n, const char *zero_name);
const char *named_lookup(unsigned long long v, const struct named *t, size_t n);
void put_enum(struct strbuf *out, long long v, const struct named *t, size_t n);
void decode_fd_flags(unsigned long flags, struct strbuf *out);
void decode_mmap_flags(unsigned long long v, struct strbuf *out);
void decode_sock_type(unsigned long long v, struct strbuf *out);
void put_signal(struct strbuf *out, long long sig);
void decode_clone_flags(unsigned long long v, int with_signal, struct strbuf *out);
void decode_sockopt_name(int level, long long v, struct strbuf *out);
void decode_futex_op(unsigned long long v, struct strbuf *out);
const char *errno_desc(int err);
void put_family(struct strbuf *out, unsigned fam);

#endif
