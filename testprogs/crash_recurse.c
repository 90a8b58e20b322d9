/* Unbounded recursion: the stack overflows (SIGSEGV on the guard page). */
#include <stdio.h>

#pragma GCC diagnostic ignored "-Winfinite-recursion"

__attribute__((noinline)) static int dive(int depth)
{
	volatile char pad[64];
	pad[0] = (char)depth;
	return dive(depth + 1) + pad[0];
}

int main(void)
{
	return dive(0);
}
