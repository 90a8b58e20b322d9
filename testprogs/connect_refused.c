/* Connects to 127.0.0.1:PORT where nothing listens (refused), and over a
 * UNIX socket to a path that does not exist; exits 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 1;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		fprintf(stderr, "connect 127.0.0.1:%d: %s\n", port, strerror(errno));
	close(s);
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	strcpy(un.sun_path, "/nonexistent/etrace.sock");
	if (connect(u, (struct sockaddr *)&un, sizeof(un)) < 0)
		fprintf(stderr, "connect unix: %s\n", strerror(errno));
	close(u);
	return 2;
}
