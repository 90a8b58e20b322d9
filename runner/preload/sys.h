/* The recorder's own system calls, made with a syscall instruction that
 * is followed by a marker (an 8-byte nop, "nopl 0x43525445(%rax,%rax,1)"):
 * the BPF side sees the marker at the user instruction pointer and leaves
 * these calls out of the program's syscall trace (bpf/core/syscalls.h,
 * ET_RECORDER_MARK). Return the kernel's value: -errno on failure. */
#ifndef ETRACE_PRELOAD_SYS_H
#define ETRACE_PRELOAD_SYS_H

#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
static inline long hr_sys(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall\n\t"
			 ".byte 0x0f, 0x1f, 0x84, 0x00, 0x45, 0x54, 0x52, 0x43"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#else
#include <errno.h>
static inline long hr_sys(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long r = syscall(nr, a1, a2, a3, a4, a5, a6);
	return r < 0 ? -errno : r;
}
#endif

#define hr_sys0(nr) hr_sys((nr), 0, 0, 0, 0, 0, 0)
#define hr_sys1(nr, a) hr_sys((nr), (long)(a), 0, 0, 0, 0, 0)
#define hr_sys2(nr, a, b) hr_sys((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define hr_sys3(nr, a, b, c) hr_sys((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define hr_sys6(nr, a, b, c, d, e, f) hr_sys((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

#endif
