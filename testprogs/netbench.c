/* Loopback TCP benchmark: forks a client that talks to this process, the
 * server, on 127.0.0.1 (ephemeral port).
 * Usage: netbench bulk BYTES [pin|split]   the client sends BYTES in 64 KiB
 *                                          writes, the server reads and counts
 *                                          them; prints MB/s
 *        netbench rr N [pin|split]         N round trips of a 64-byte message
 *                                          (client writes, server echoes);
 *                                          prints round trips/s
 * Left alone, the scheduler sometimes runs both on one CPU and sometimes not,
 * and a round trip costs 5x more across CPUs in a VM: the rate of a run
 * swings with it. "pin" runs both on the CPU the server started on; "split"
 * runs the server there and the client on another CPU.
 * The rate line goes to stdout ("bulk BYTES bytes SECS s RATE MB/s",
 * "rr N round trips SECS s RATE/s"). Exits 0 when every byte and every round
 * trip arrived. Bounded by alarm(). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define MSG 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* reads exactly len bytes; 0 on success, -1 on error or early EOF */
static int read_full(int s, char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = read(s, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int s, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(s, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void nodelay(int s)
{
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int client(unsigned short port, int bulk, long long count)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("client connect");
		return 1;
	}
	if (bulk) {
		static char buf[CHUNK];
		memset(buf, 'x', sizeof(buf));
		for (long long left = count; left > 0; left -= CHUNK) {
			size_t len = left < CHUNK ? (size_t)left : CHUNK;
			if (write_full(s, buf, len) < 0) {
				perror("client write");
				return 1;
			}
		}
		shutdown(s, SHUT_WR);
		/* the server's 8-byte count says everything arrived */
		long long got = -1;
		if (read_full(s, (char *)&got, sizeof(got)) < 0 || got != count) {
			fprintf(stderr, "client: server counted %lld of %lld bytes\n", got, count);
			return 1;
		}
		close(s);
		return 0;
	}
	nodelay(s);
	char msg[MSG], back[MSG];
	memset(msg, 'r', sizeof(msg));
	double t0 = now();
	for (long long i = 0; i < count; i++) {
		memcpy(msg, &i, sizeof(i));
		if (write_full(s, msg, MSG) < 0 || read_full(s, back, MSG) < 0) {
			perror("client round trip");
			return 1;
		}
		if (memcmp(msg, back, MSG) != 0) {
			fprintf(stderr, "client: round trip %lld came back different\n", i);
			return 1;
		}
	}
	double dt = now() - t0;
	printf("rr %lld round trips %.3f s %.0f/s\n", count, dt, count / (dt > 0 ? dt : 1e-9));
	close(s);
	return 0;
}

static int serve(int c, int bulk)
{
	if (bulk) {
		static char buf[CHUNK];
		long long total = 0;
		double t0 = now();
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0)
			total += n;
		double dt = now() - t0;
		if (n < 0) {
			perror("server read");
			return 1;
		}
		if (write_full(c, (char *)&total, sizeof(total)) < 0)
			return 1;
		printf("bulk %lld bytes %.3f s %.1f MB/s\n", total, dt,
		       total / 1e6 / (dt > 0 ? dt : 1e-9));
		return 0;
	}
	nodelay(c);
	char buf[MSG];
	while (read_full(c, buf, MSG) == 0)
		if (write_full(c, buf, MSG) < 0) {
			perror("server write");
			return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	int pin = argc == 4 && strcmp(argv[3], "pin") == 0;
	int split = argc == 4 && strcmp(argv[3], "split") == 0;
	if (argc < 3 || argc > 4 || (argc == 4 && !pin && !split) ||
	    (strcmp(argv[1], "bulk") != 0 && strcmp(argv[1], "rr") != 0)) {
		fprintf(stderr, "usage: netbench bulk BYTES [pin|split] | netbench rr N [pin|split]\n");
		return 2;
	}
	int bulk = strcmp(argv[1], "bulk") == 0;
	long long count = atoll(argv[2]);
	if (count <= 0) {
		fprintf(stderr, "netbench: count must be positive\n");
		return 2;
	}
	int server_cpu = sched_getcpu(), client_cpu = server_cpu;
	if (split) {
		cpu_set_t allowed;
		if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
			for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
				if (cpu != server_cpu && CPU_ISSET(cpu, &allowed)) {
					client_cpu = cpu;
					break;
				}
		if (client_cpu == server_cpu) {
			fprintf(stderr, "netbench: split needs two CPUs\n");
			return 1;
		}
	}
	if (pin || split) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(server_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			perror("sched_setaffinity");
	}
	alarm(300);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, len) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &len) < 0) {
		perror("listen");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(ls);
		if (split) { /* with pin the client inherits the server's CPU */
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(client_cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set) < 0)
				perror("sched_setaffinity");
		}
		_exit(client(ntohs(a.sin_port), bulk, count));
	}
	int c = accept(ls, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	close(ls);
	int failed = serve(c, bulk);
	close(c);
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		failed = 1;
	return failed;
}
