/* Connects to 127.0.0.1:PORT, sends "hello", reads the answer, closes.
 * Usage: tcp_client PORT [TIMEOUT_MS]
 * With TIMEOUT_MS the connect is bounded (SO_SNDTIMEO): a SYN that never
 * gets an answer ends it with "connect: timed out" and exit status 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	alarm(20);
	int port = argc > 1 ? atoi(argv[1]) : 1;
	int timeout_ms = argc > 2 ? atoi(argv[2]) : 0;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (timeout_ms > 0) {
		struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
		if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			perror("setsockopt");
			return 1;
		}
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (timeout_ms > 0 && (errno == EINPROGRESS || errno == EAGAIN)) {
			fprintf(stderr, "connect: timed out after %d ms\n", timeout_ms);
			return 2;
		}
		perror("connect");
		return 1;
	}
	char buf[16];
	if (write(s, "hello", 5) != 5)
		return 1;
	ssize_t n = read(s, buf, sizeof(buf));
	printf("got %zd bytes\n", n);
	close(s);
	return 0;
}
