/* A small process tree: fork+exec of /bin/echo, a vfork+exec of /bin/true,
 * and a plain forked child that exits with 7. The parent exits 0 when the
 * children did what was expected. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t a = fork();
	if (a == 0) {
		execl("/bin/echo", "echo", "hello from child", (char *)NULL);
		_exit(127);
	}
	pid_t b = vfork();
	if (b == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	int sa, sb, sc;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	waitpid(c, &sc, 0);
	printf("children: %d %d %d\n", WEXITSTATUS(sa), WEXITSTATUS(sb), WEXITSTATUS(sc));
	return (WEXITSTATUS(sa) == 0 && WEXITSTATUS(sb) == 0 && WEXITSTATUS(sc) == 7) ? 0 : 1;
}
