/* Catches its own SIGSEGV, recovers with siglongjmp, and exits 0: etrace
 * must not claim a crash. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static sigjmp_buf back;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(back, 1);
}

int main(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(back, 1) == 0) {
		volatile int *p = NULL;
		*p = 1;
	}
	printf("recovered\n");
	return 0;
}
