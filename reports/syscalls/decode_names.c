/* Flags, constants, errno and signal names of the syscall decoder: each
 * value as its symbolic name, an unknown rest in hex (see decode.c). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "decode_int.h"

/* Linux numbers its real-time signals from 32; glibc reserves the first
 * few for itself, so they are named relative to the kernel's 32. */
#define K_SIGRTMIN 32
#define K_SIGMAX 64

/* Appends the names of the bits of v found in t ("A|B"), then the bits
 * left over in hex. Entries whose value spans several bits match only when
 * all are set, so list them before their parts. Prints zero_name for 0. */
void put_flags(struct strbuf *out, unsigned long long v, const struct named *t,
		      size_t n, const char *zero_name)
{
	int first = 1;
	if (v == 0) {
		sb_puts(out, zero_name ? zero_name : "0");
		return;
	}
	for (size_t i = 0; i < n && v; i++) {
		if (t[i].val == 0 || (v & t[i].val) != t[i].val)
			continue;
		if (!first)
			sb_putc(out, '|');
		sb_puts(out, t[i].name);
		first = 0;
		v &= ~t[i].val;
	}
	if (v) {
		if (!first)
			sb_putc(out, '|');
		sb_printf(out, "%#llx", v);
	}
}

const char *named_lookup(unsigned long long v, const struct named *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].val == v)
			return t[i].name;
	return NULL;
}

/* Name, or v as a signed decimal. */
void put_enum(struct strbuf *out, long long v, const struct named *t, size_t n)
{
	const char *s = named_lookup((unsigned long long)v, t, n);
	if (s)
		sb_puts(out, s);
	else
		sb_printf(out, "%lld", v);
}

static const struct named open_flag_names[] = {
	N(O_CREAT), N(O_EXCL), N(O_NOCTTY), N(O_TRUNC), N(O_APPEND), N(O_NONBLOCK),
	N(O_SYNC), N(O_DSYNC), N(O_ASYNC), N(O_DIRECT),
	{ K_O_LARGEFILE, "O_LARGEFILE" },
	N(O_TMPFILE), N(O_DIRECTORY), N(O_NOFOLLOW), N(O_NOATIME), N(O_CLOEXEC), N(O_PATH),
};

void decode_open_flags(unsigned long flags, struct strbuf *out)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: sb_puts(out, "O_RDONLY"); break;
	case O_WRONLY: sb_puts(out, "O_WRONLY"); break;
	case O_RDWR: sb_puts(out, "O_RDWR"); break;
	default: sb_puts(out, "O_ACCMODE"); break;
	}
	flags &= ~(unsigned long)O_ACCMODE;
	if (flags) {
		sb_putc(out, '|');
		put_flags(out, flags, open_flag_names, ARRAY_LEN(open_flag_names), NULL);
	}
}

/* O_* flags of calls that take only O_CLOEXEC/O_NONBLOCK-like bits
 * (pipe2, dup3, eventfd2, accept4, ...): no access mode, 0 when empty. */
void decode_fd_flags(unsigned long flags, struct strbuf *out)
{
	put_flags(out, flags, open_flag_names, ARRAY_LEN(open_flag_names), "0");
}

static const struct named map_type_names[] = {
	N(MAP_SHARED), N(MAP_PRIVATE),
#ifdef MAP_SHARED_VALIDATE
	N(MAP_SHARED_VALIDATE),
#endif
};

static const struct named map_flag_names[] = {
	N(MAP_FIXED), N(MAP_ANONYMOUS),
#ifdef MAP_32BIT
	N(MAP_32BIT),
#endif
	N(MAP_GROWSDOWN), N(MAP_DENYWRITE), N(MAP_EXECUTABLE), N(MAP_LOCKED),
	N(MAP_NORESERVE), N(MAP_POPULATE), N(MAP_NONBLOCK), N(MAP_STACK), N(MAP_HUGETLB),
#ifdef MAP_SYNC
	N(MAP_SYNC),
#endif
#ifdef MAP_FIXED_NOREPLACE
	N(MAP_FIXED_NOREPLACE),
#endif
#ifdef MAP_UNINITIALIZED
	N(MAP_UNINITIALIZED),
#endif
};

void decode_mmap_flags(unsigned long long v, struct strbuf *out)
{
	unsigned long long type = v & 0x0f;   /* MAP_TYPE */
	const char *t = named_lookup(type, map_type_names, ARRAY_LEN(map_type_names));
	if (t)
		sb_puts(out, t);
	else
		sb_printf(out, "%#llx", type);
	v &= ~0x0fULL;
	if (v) {
		sb_putc(out, '|');
		put_flags(out, v, map_flag_names, ARRAY_LEN(map_flag_names), NULL);
	}
}

static const struct named sock_type_names[] = {
	N(SOCK_STREAM), N(SOCK_DGRAM), N(SOCK_RAW), N(SOCK_RDM), N(SOCK_SEQPACKET),
	N(SOCK_DCCP), N(SOCK_PACKET),
};

static const struct named sock_flag_names[] = {
	N(SOCK_CLOEXEC), N(SOCK_NONBLOCK),
};

void decode_sock_type(unsigned long long v, struct strbuf *out)
{
	unsigned long long type = v & 0xf;
	const char *t = named_lookup(type, sock_type_names, ARRAY_LEN(sock_type_names));
	if (t)
		sb_puts(out, t);
	else
		sb_printf(out, "%llu", type);
	v &= ~0xfULL;
	if (v) {
		sb_putc(out, '|');
		put_flags(out, v, sock_flag_names, ARRAY_LEN(sock_flag_names), NULL);
	}
}

static const struct named clone_names[] = {
	N(CLONE_VM), N(CLONE_FS), N(CLONE_FILES), N(CLONE_SIGHAND),
#ifdef CLONE_PIDFD
	N(CLONE_PIDFD),
#endif
	N(CLONE_PTRACE), N(CLONE_VFORK), N(CLONE_PARENT), N(CLONE_THREAD), N(CLONE_NEWNS),
	N(CLONE_SYSVSEM), N(CLONE_SETTLS), N(CLONE_PARENT_SETTID), N(CLONE_CHILD_CLEARTID),
	N(CLONE_DETACHED), N(CLONE_UNTRACED), N(CLONE_CHILD_SETTID), N(CLONE_NEWCGROUP),
	N(CLONE_NEWUTS), N(CLONE_NEWIPC), N(CLONE_NEWUSER), N(CLONE_NEWPID), N(CLONE_NEWNET),
	N(CLONE_IO),
};

void put_signal(struct strbuf *out, long long sig)
{
	const char *s = (sig >= 0 && sig <= 1024) ? decode_signal_name((int)sig) : NULL;
	if (s)
		sb_puts(out, s);
	else
		sb_printf(out, "%lld", sig);
}

/* clone: the low byte is the exit signal; unshare/setns: namespace flags. */
void decode_clone_flags(unsigned long long v, int with_signal, struct strbuf *out)
{
	unsigned long long sig = with_signal ? (v & 0xff) : 0;
	unsigned long long flags = with_signal ? (v & ~0xffULL) : v;
	if (flags == 0 && sig == 0) {
		sb_puts(out, "0");
		return;
	}
	if (flags) {
		unsigned long long rest = flags;
#ifdef CLONE_NEWTIME
		if (!with_signal && (rest & CLONE_NEWTIME)) {
			sb_puts(out, "CLONE_NEWTIME");
			rest &= ~(unsigned long long)CLONE_NEWTIME;
			if (rest)
				sb_putc(out, '|');
		}
#endif
		if (rest)
			put_flags(out, rest, clone_names, ARRAY_LEN(clone_names), NULL);
	}
	if (sig) {
		if (flags)
			sb_putc(out, '|');
		put_signal(out, (long long)sig);
	}
}

static const struct named so_names[] = {
	N(SO_DEBUG), N(SO_REUSEADDR), N(SO_TYPE), N(SO_ERROR), N(SO_DONTROUTE), N(SO_BROADCAST),
	N(SO_SNDBUF), N(SO_RCVBUF), N(SO_KEEPALIVE), N(SO_OOBINLINE), N(SO_NO_CHECK),
	N(SO_PRIORITY), N(SO_LINGER), N(SO_BSDCOMPAT), N(SO_REUSEPORT), N(SO_PASSCRED),
	N(SO_PEERCRED), N(SO_RCVLOWAT), N(SO_SNDLOWAT), N(SO_RCVTIMEO), N(SO_SNDTIMEO),
	N(SO_BINDTODEVICE), N(SO_TIMESTAMP), N(SO_ACCEPTCONN), N(SO_SNDBUFFORCE),
	N(SO_RCVBUFFORCE), N(SO_PROTOCOL), N(SO_DOMAIN), N(SO_MARK),
};

static const struct named tcp_names[] = {
	N(TCP_NODELAY), N(TCP_MAXSEG), N(TCP_CORK), N(TCP_KEEPIDLE), N(TCP_KEEPINTVL),
	N(TCP_KEEPCNT), N(TCP_SYNCNT), N(TCP_LINGER2), N(TCP_DEFER_ACCEPT),
	N(TCP_WINDOW_CLAMP), N(TCP_INFO), N(TCP_QUICKACK), N(TCP_CONGESTION),
	N(TCP_USER_TIMEOUT), N(TCP_FASTOPEN),
};

static const struct named ip_names[] = {
	N(IP_TOS), N(IP_TTL), N(IP_HDRINCL), N(IP_OPTIONS), N(IP_RECVERR), N(IP_MTU_DISCOVER),
	N(IP_MULTICAST_IF), N(IP_MULTICAST_TTL), N(IP_MULTICAST_LOOP), N(IP_ADD_MEMBERSHIP),
	N(IP_DROP_MEMBERSHIP), N(IP_PKTINFO), N(IP_RECVTTL), N(IP_RECVTOS), N(IP_TRANSPARENT),
	N(IP_FREEBIND), N(IP_BIND_ADDRESS_NO_PORT),
};

static const struct named ipv6_names[] = {
	N(IPV6_V6ONLY), N(IPV6_UNICAST_HOPS), N(IPV6_MULTICAST_IF), N(IPV6_MULTICAST_HOPS),
	N(IPV6_MULTICAST_LOOP), N(IPV6_RECVERR), N(IPV6_RECVPKTINFO), N(IPV6_TCLASS),
	N(IPV6_MTU_DISCOVER), N(IPV6_ADD_MEMBERSHIP), N(IPV6_DROP_MEMBERSHIP),
};

void decode_sockopt_name(int level, long long v, struct strbuf *out)
{
	const struct named *t = NULL;
	size_t n = 0;
	switch (level) {
	case SOL_SOCKET: t = so_names; n = ARRAY_LEN(so_names); break;
	case IPPROTO_TCP: t = tcp_names; n = ARRAY_LEN(tcp_names); break;
	case IPPROTO_IP: t = ip_names; n = ARRAY_LEN(ip_names); break;
	case IPPROTO_IPV6: t = ipv6_names; n = ARRAY_LEN(ipv6_names); break;
	}
	put_enum(out, v, t, n);
}

static const struct named futex_cmd_names[] = {
	N(FUTEX_WAIT), N(FUTEX_WAKE), N(FUTEX_FD), N(FUTEX_REQUEUE), N(FUTEX_CMP_REQUEUE),
	N(FUTEX_WAKE_OP), N(FUTEX_LOCK_PI), N(FUTEX_UNLOCK_PI), N(FUTEX_TRYLOCK_PI),
	N(FUTEX_WAIT_BITSET), N(FUTEX_WAKE_BITSET), N(FUTEX_WAIT_REQUEUE_PI),
	N(FUTEX_CMP_REQUEUE_PI),
#ifdef FUTEX_LOCK_PI2
	N(FUTEX_LOCK_PI2),
#endif
};

void decode_futex_op(unsigned long long v, struct strbuf *out)
{
	unsigned op = (unsigned)v;
	unsigned cmd = op & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	const char *name = named_lookup(cmd, futex_cmd_names, ARRAY_LEN(futex_cmd_names));
	if (!name) {
		sb_printf(out, "%#x", op);
		return;
	}
	sb_puts(out, name);
	if (op & FUTEX_PRIVATE_FLAG)
		sb_puts(out, "_PRIVATE");
	if (op & FUTEX_CLOCK_REALTIME)
		sb_puts(out, "|FUTEX_CLOCK_REALTIME");
}

/* ------------------------------------------------------------------ */
/* errno and signal names                                              */

/* Codes the kernel uses internally; a tracer sees them at syscall exit
 * when a signal interrupts the call. glibc does not know them. */
static const struct {
	int err;
	const char *name;
	const char *desc;
} kernel_errnos[] = {
	{ 512, "ERESTARTSYS", "To be restarted if SA_RESTART is set" },
	{ 513, "ERESTARTNOINTR", "To be restarted" },
	{ 514, "ERESTARTNOHAND", "To be restarted if no handler" },
	{ 515, "ENOIOCTLCMD", "No ioctl command" },
	{ 516, "ERESTART_RESTARTBLOCK", "Interrupted by signal" },
};

const char *decode_errno_name(int err)
{
	if (err <= 0)
		return NULL;
	const char *s = strerrorname_np(err);
	if (s)
		return s;
	for (size_t i = 0; i < ARRAY_LEN(kernel_errnos); i++)
		if (kernel_errnos[i].err == err)
			return kernel_errnos[i].name;
	return NULL;
}

const char *errno_desc(int err)
{
	const char *s = strerrordesc_np(err);
	if (s)
		return s;
	for (size_t i = 0; i < ARRAY_LEN(kernel_errnos); i++)
		if (kernel_errnos[i].err == err)
			return kernel_errnos[i].desc;
	return NULL;
}

static char sig_names[K_SIGMAX + 1][16];
static pthread_once_t sig_once = PTHREAD_ONCE_INIT;

static void sig_init(void)
{
	for (int s = 1; s <= K_SIGMAX; s++) {
		const char *a = s < K_SIGRTMIN ? sigabbrev_np(s) : NULL;
		if (a)
			snprintf(sig_names[s], sizeof(sig_names[s]), "SIG%s", a);
		else if (s >= K_SIGRTMIN)
			snprintf(sig_names[s], sizeof(sig_names[s]), "SIGRT%d", s - K_SIGRTMIN);
	}
}

const char *decode_signal_name(int sig)
{
	if (sig <= 0 || sig > K_SIGMAX)
		return NULL;
	pthread_once(&sig_once, sig_init);
	return sig_names[sig][0] ? sig_names[sig] : NULL;
}
