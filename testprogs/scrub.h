/* Shared by the heap test programs. scrub() zeroes the scratch registers,
 * then 64 KiB of the dead stack below the caller, without calling anything
 * (a first call through the PLT would run the dynamic linker's resolver
 * below the zeroed area and spill the old register values there): no stale
 * copy of a leaked pointer survives for a leak scan to find. */
#ifndef TESTPROGS_SCRUB_H
#define TESTPROGS_SCRUB_H

/* a program on small thread stacks scrubs less (defined before this) */
#ifndef SCRUB_BYTES
#define SCRUB_BYTES 65536
#endif

__attribute__((noinline)) static void scrub(void)
{
#if defined(__x86_64__)
	__asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
			 "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
			 "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d"
			 : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
#endif
	volatile char junk[SCRUB_BYTES];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = 0;
}

#endif
