/* A non-blocking connect to 127.0.0.1:PORT, as event loops do it: connect
 * returns EINPROGRESS, poll waits for the socket, and the program learns
 * the outcome with MODE: "sockopt" (getsockopt SO_ERROR, what curl, Go and
 * asyncio do), "read" (a read on the socket fails), "giveup" (poll times
 * out at once and the program closes the socket). POLL_MS (default 2000)
 * bounds the wait. Exits 0 when connected, 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 9;
	const char *mode = argc > 2 ? argv[2] : "sockopt";
	int poll_ms = argc > 3 ? atoi(argv[3]) : 2000;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
		close(s);
		return 0;
	}
	if (errno != EINPROGRESS) {
		perror("connect");
		return 1;
	}
	struct pollfd p = { .fd = s, .events = POLLOUT };
	if (strcmp(mode, "giveup") == 0) {
		poll(&p, 1, 0);
		close(s);
		fprintf(stderr, "gave up\n");
		return 1;
	}
	poll(&p, 1, poll_ms);
	int err = 0;
	if (strcmp(mode, "read") == 0) {
		char c;
		if (read(s, &c, 1) < 0)
			err = errno;
	} else {
		socklen_t len = sizeof(err);
		getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	}
	close(s);
	fprintf(stderr, "connect 127.0.0.1:%d: %s\n", port, err ? strerror(err) : "connected");
	return err ? 1 : 0;
}
