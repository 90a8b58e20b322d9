/* Sends COUNT datagrams of SIZE bytes to an echo server on HOST:PORT and
 * reads each echo back (at most 2 s per datagram), then prints how many
 * came back. MODE says which calls carry them:
 *   sendto  unconnected socket, sendto() and recvfrom() (default)
 *   msg     unconnected socket, sendmsg() and recvmsg() (two iovecs each)
 *   mmsg    connected socket, all COUNT at once with sendmmsg(), then recvmmsg()
 * Usage: udp_client HOST PORT COUNT SIZE [MODE]   (HOST: 127.0.0.1 or ::1)
 * Exit status 0 when every echo came back, 2 otherwise. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXN 64

int main(int argc, char **argv)
{
	alarm(20);
	if (argc < 5) {
		fprintf(stderr, "usage: udp_client HOST PORT COUNT SIZE [sendto|msg|mmsg]\n");
		return 1;
	}
	const char *host = argv[1];
	int port = atoi(argv[2]), count = atoi(argv[3]), size = atoi(argv[4]);
	const char *mode = argc > 5 ? argv[5] : "sendto";
	if (count < 1 || count > MAXN || size < 1 || size > 4096)
		return 1;
	struct sockaddr_storage ss;
	socklen_t slen;
	memset(&ss, 0, sizeof(ss));
	int v6 = strchr(host, ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		slen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, host, &a->sin_addr);
		slen = sizeof(*a);
	}
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static char out[MAXN][4096], in[MAXN][4096];
	for (int i = 0; i < count; i++)
		for (int k = 0; k < size; k++)
			out[i][k] = (char)('a' + (i + k) % 26);
	int back = 0;
	if (strcmp(mode, "mmsg") == 0) {
		if (connect(s, (struct sockaddr *)&ss, slen) < 0) {
			perror("connect");
			return 1;
		}
		struct mmsghdr msgs[MAXN];
		struct iovec iov[MAXN];
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < count; i++) {
			iov[i].iov_base = out[i];
			iov[i].iov_len = (size_t)size;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(s, msgs, (unsigned)count, 0) != count) {
			perror("sendmmsg");
			return 1;
		}
		while (back < count) {
			for (int i = 0; i < count; i++) {
				iov[i].iov_base = in[i];
				iov[i].iov_len = sizeof(in[i]);
			}
			struct timespec ts = { .tv_sec = 2 };
			int n = recvmmsg(s, msgs, (unsigned)(count - back), MSG_WAITFORONE, &ts);
			if (n <= 0)
				break;
			back += n;
		}
	} else {
		for (int i = 0; i < count; i++) {
			ssize_t n;
			if (strcmp(mode, "msg") == 0) {
				int half = size / 2;
				struct iovec iov[2] = { { out[i], (size_t)half }, { out[i] + half, (size_t)(size - half) } };
				struct msghdr mh = { .msg_name = &ss, .msg_namelen = slen, .msg_iov = iov, .msg_iovlen = 2 };
				if (sendmsg(s, &mh, 0) != size) {
					perror("sendmsg");
					return 1;
				}
				struct sockaddr_storage from;
				struct iovec riov[2] = { { in[i], 10 }, { in[i] + 10, sizeof(in[i]) - 10 } };
				struct msghdr rh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = riov, .msg_iovlen = 2 };
				n = recvmsg(s, &rh, 0);
			} else {
				if (sendto(s, out[i], (size_t)size, 0, (struct sockaddr *)&ss, slen) != size) {
					perror("sendto");
					return 1;
				}
				struct sockaddr_storage from;
				socklen_t flen = sizeof(from);
				n = recvfrom(s, in[i], sizeof(in[i]), 0, (struct sockaddr *)&from, &flen);
			}
			if (n == size)
				back++;
		}
	}
	close(s);
	printf("%d of %d echoed\n", back, count);
	return back == count ? 0 : 2;
}
