/* A TCP server on the loopback (ephemeral port) that forks NCLIENTS client
 * processes and serves them: each client sends "ping", the server answers
 * "pong". Usage: tcp_server [4|6] [NCLIENTS] [reset]
 * With "reset" the server closes each accepted socket with SO_LINGER 0
 * (an RST) instead of answering. Bounded by alarm(). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int family = AF_INET;

static socklen_t loopback(struct sockaddr_storage *ss, unsigned short port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*a);
}

static int client(unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, port);
	int s = socket(family, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&ss, len) < 0) {
		perror("client connect");
		return 1;
	}
	char buf[8];
	if (write(s, "ping", 4) != 4)
		return 1;
	ssize_t n = read(s, buf, sizeof(buf));
	if (n < 0)
		perror("client read");
	else
		printf("client %d got %zd bytes\n", getpid(), n);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == '6')
		family = AF_INET6;
	int nclients = argc > 2 ? atoi(argv[2]) : 3;
	int reset = argc > 3 && strcmp(argv[3], "reset") == 0;
	alarm(20);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, 0);
	int ls = socket(family, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&ss, len) < 0 || listen(ls, 16) < 0) {
		perror("listen");
		return 1;
	}
	len = sizeof(ss);
	getsockname(ls, (struct sockaddr *)&ss, &len);
	unsigned short port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	printf("listening on port %u\n", port);

	for (int i = 0; i < nclients; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(client(port));
	}
	for (int i = 0; i < nclients; i++) {
		int c = accept(ls, NULL, NULL);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		char buf[8];
		ssize_t n = read(c, buf, sizeof(buf));
		if (reset) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else if (n > 0 && write(c, "pong", 4) != 4) {
			perror("write");
		}
		close(c);
	}
	int status, failed = 0;
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	close(ls);
	return failed;
}
