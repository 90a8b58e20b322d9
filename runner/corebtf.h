/* A small BTF for libbpf's CO-RE relocations of the core BPF object: the
 * kernel types its relocations can look at, instead of all ~125,000
 * (runner/corebtf.c says why and what is in it). */
#ifndef ETRACE_COREBTF_H
#define ETRACE_COREBTF_H

#include <stddef.h>

struct bpf_object;
struct btf;

/* A memory file for it and its path (for bpf_object_open_opts'
 * btf_custom_path: libbpf reads it at the load), or -1: none
 * (ETRACE_NO_COREBTF=1, or no memfd). */
int corebtf_reserve(char *path, size_t pathlen);

/* Writes into fd the types the CO-RE relocations of obj (opened from the
 * ELF image elf_bytes) can look at, from the kernel's BTF; or, when that
 * fails, the kernel's whole BTF. Returns 0, or -1. */
int corebtf_fill(int fd, struct bpf_object *obj, const void *elf_bytes, size_t elf_size, const struct btf *vmlinux);

/* Compares the instructions of every program loaded in small (relocated
 * against the small BTF) with the same program of whole (against the
 * kernel's). Returns the number compared, or -1 with a message in err. */
int corebtf_check(struct bpf_object *small, struct bpf_object *whole, char *err, size_t errlen);

#endif
