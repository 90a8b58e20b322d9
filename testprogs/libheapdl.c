/* A shared library heap_dlopen loads with dlopen: heapdl_leak allocates 77
 * bytes with malloc and leaks them (the leak's stack starts here). */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void heapdl_leak(void)
{
	char *p = malloc(77); /* @alloc dl */
	memset(p, 'd', 77);
}
