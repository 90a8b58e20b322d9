/* Crashes inside the C library: "strlen" passes NULL to strlen, "memcpy"
 * copies to an unmapped address. */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static size_t name_length(const char *name)
{
	return strlen(name);
}

__attribute__((noinline)) static void copy_out(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "strlen";
	char buf[256] = "data";
	if (strcmp(mode, "memcpy") == 0)
		copy_out((void *)16, buf, sizeof(buf));
	else
		printf("%zu\n", name_length(NULL));
	return 0;
}
