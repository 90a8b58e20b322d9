/* A test that passes (tests/test_ci.py: meson, CTest and pytest runs). */
#include <stdio.h>

int main(void)
{
	puts("pass: 2 checks ok");
	return 0;
}
