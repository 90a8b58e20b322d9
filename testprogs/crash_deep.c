/* A crash 100 frames deep: descend() calls itself until depth 100, then
 * writes through a NULL pointer. The benchmark's crash target: how long the
 * report takes after the signal, and whether the frames match gdb's. */
#include <stdio.h>

#define DEPTH 100

__attribute__((noinline)) static int descend(int depth, int *target)
{
	if (depth == DEPTH) {
		*target = depth; /* the fault: frame #0 is descend(100) */
		return 0;
	}
	/* the addition after the call keeps it from being a tail call */
	return descend(depth + 1, target) + 1;
}

int main(void)
{
	int r = descend(1, NULL);
	printf("%d\n", r);
	return 0;
}
