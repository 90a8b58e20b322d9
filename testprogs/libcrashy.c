/* A shared library loaded with dlopen by crash_dlopen; it crashes. */
__attribute__((noinline)) int crashy_parse(const char *s)
{
	return s[3] + 1; /* called with NULL */
}
