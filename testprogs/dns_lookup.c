/* Resolves each name with getaddrinfo (AF_UNSPEC: glibc sends the A and
 * AAAA queries together with sendmmsg on a connected UDP socket) and prints
 * "name: addr addr..." or "name: error <gai_strerror>".
 * Usage: dns_lookup NAME... ; a name written +NAME is resolved in a forked
 * child process. Exit status 0 when every name resolved, else 2. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int lookup(const char *name)
{
	struct addrinfo hints, *res, *ai;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;   /* one entry per address */
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		printf("%s: error %s\n", name, gai_strerror(rc));
		fflush(stdout);
		return 1;
	}
	printf("%s:", name);
	for (ai = res; ai; ai = ai->ai_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *a = ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
							  : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		if (inet_ntop(ai->ai_family, a, buf, sizeof(buf)))
			printf(" %s", buf);
	}
	printf("\n");
	fflush(stdout);
	freeaddrinfo(res);
	return 0;
}

int main(int argc, char **argv)
{
	alarm(20);
	int failed = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '+') {
			failed += lookup(argv[i]);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0)
			_exit(lookup(argv[i] + 1));
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	return failed ? 2 : 0;
}
