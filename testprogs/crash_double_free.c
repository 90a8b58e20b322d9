/* Frees a block twice: glibc detects it, writes its message with writev
 * and aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void release(char *p)
{
	free(p);
}

int main(void)
{
	char *name = malloc(32);
	strcpy(name, "etrace");
	release(name);
	release(name);
	puts("not reached");
	return 0;
}
