/*
 * strace-style decoding of syscall records: each argument according to the
 * signature table (reports/syscalls/syscall_table.c), the captured user memory that
 * came with the record, and the return value.
 *
 * A record may be corrupt (lost bytes, a bug on the BPF side): every capture
 * is bounds-checked against the record before use.
 */
#include "decode.h"
#include "syscall_table.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* glibc defines O_LARGEFILE as 0 on 64-bit targets, but the kernel still
 * sees the bit when a 32-bit-style caller passes it. */
#if O_LARGEFILE != 0
#define K_O_LARGEFILE O_LARGEFILE
#elif defined(__x86_64__) || defined(__i386__)
#define K_O_LARGEFILE 0100000
#else
#define K_O_LARGEFILE 0
#endif

/* ------------------------------------------------------------------ */
/* Captures                                                            */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Bytes of the capture area that may be read: cap_len, clamped to what the
 * record size says is there when the size is set. */
static size_t cap_limit(const struct ev_syscall *ev)
{
	size_t lim = ev->cap_len;
	if (lim > ET_CAP_AREA + ET_CAP_MAX_ONE)
		lim = ET_CAP_AREA + ET_CAP_MAX_ONE;
	if (ev->h.size != 0) {
		if (ev->h.size < sizeof(struct ev_syscall))
			return 0;
		size_t room = ev->h.size - sizeof(struct ev_syscall);
		if (lim > room)
			lim = room;
	}
	return lim;
}

const struct ev_capture *ev_find_capture(const struct ev_syscall *ev, int arg, int seq)
{
	if (!ev)
		return NULL;
	size_t lim = cap_limit(ev);
	size_t off = 0;
	for (unsigned i = 0; i < ev->ncap; i++) {
		if (off + sizeof(struct ev_capture) > lim)
			break;
		const struct ev_capture *c = (const struct ev_capture *)(ev_syscall_caps(ev) + off);
		size_t end = off + sizeof(struct ev_capture) + c->len;
		if (end > lim)
			break;   /* the length runs past the record: stop trusting it */
		if (c->arg == arg &&
		    ((c->kind != ET_CAP_ARGV && c->kind != ET_CAP_IOV_IN && c->kind != ET_CAP_MSG) || c->seq == seq))
			return c;
		off = align8(end);
	}
	return NULL;
}

/* The capture for argument arg if it is of the expected kind. */
static const struct ev_capture *find_kind(const struct ev_syscall *ev, int arg, int seq, int kind)
{
	const struct ev_capture *c = ev_find_capture(ev, arg, seq);
	if (c && c->kind != kind)
		return NULL;
	return c;
}

/* ------------------------------------------------------------------ */
/* Name tables                                                         */

struct named {
	unsigned long long val;
	const char *name;
};
#define N(x) { (unsigned long long)(x), #x }

/* Appends the names of the bits of v found in t ("A|B"), then the bits
 * left over in hex. Entries whose value spans several bits match only when
 * all are set, so list them before their parts. Prints zero_name for 0. */
static void put_flags(struct strbuf *out, unsigned long long v, const struct named *t,
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

static const char *lookup(unsigned long long v, const struct named *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].val == v)
			return t[i].name;
	return NULL;
}

/* Name, or v as a signed decimal. */
static void put_enum(struct strbuf *out, long long v, const struct named *t, size_t n)
{
	const char *s = lookup((unsigned long long)v, t, n);
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
static void decode_fd_flags(unsigned long flags, struct strbuf *out)
{
	put_flags(out, flags, open_flag_names, ARRAY_LEN(open_flag_names), "0");
}

static const struct named prot_names[] = {
	N(PROT_READ), N(PROT_WRITE), N(PROT_EXEC),
#ifdef PROT_SEM
	N(PROT_SEM),
#endif
	N(PROT_GROWSDOWN), N(PROT_GROWSUP),
};

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

static void decode_mmap_flags(unsigned long long v, struct strbuf *out)
{
	unsigned long long type = v & 0x0f;   /* MAP_TYPE */
	const char *t = lookup(type, map_type_names, ARRAY_LEN(map_type_names));
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

static const struct named af_names[] = {
	N(AF_UNSPEC), N(AF_UNIX), N(AF_INET), N(AF_INET6), N(AF_NETLINK), N(AF_PACKET),
	N(AF_AX25), N(AF_IPX), N(AF_APPLETALK), N(AF_KEY), N(AF_BLUETOOTH), N(AF_CAN),
	N(AF_ALG), N(AF_VSOCK), N(AF_TIPC), N(AF_RDS), N(AF_LLC), N(AF_IB), N(AF_MPLS),
	N(AF_NFC), N(AF_QIPCRTR), N(AF_SMC),
#ifdef AF_XDP
	N(AF_XDP),
#endif
};

static const struct named sock_type_names[] = {
	N(SOCK_STREAM), N(SOCK_DGRAM), N(SOCK_RAW), N(SOCK_RDM), N(SOCK_SEQPACKET),
	N(SOCK_DCCP), N(SOCK_PACKET),
};

static const struct named sock_flag_names[] = {
	N(SOCK_CLOEXEC), N(SOCK_NONBLOCK),
};

static void decode_sock_type(unsigned long long v, struct strbuf *out)
{
	unsigned long long type = v & 0xf;
	const char *t = lookup(type, sock_type_names, ARRAY_LEN(sock_type_names));
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

static const struct named access_names[] = { N(R_OK), N(W_OK), N(X_OK) };

/* AT_EACCESS and AT_REMOVEDIR share a value: two tables. */
static const struct named at_names[] = {
	N(AT_SYMLINK_NOFOLLOW), N(AT_REMOVEDIR), N(AT_SYMLINK_FOLLOW), N(AT_NO_AUTOMOUNT),
	N(AT_EMPTY_PATH),
#ifdef AT_STATX_FORCE_SYNC
	N(AT_STATX_FORCE_SYNC), N(AT_STATX_DONT_SYNC),
#endif
#ifdef AT_RECURSIVE
	N(AT_RECURSIVE),
#endif
};
static const struct named at_eaccess_names[] = {
	N(AT_SYMLINK_NOFOLLOW), N(AT_EACCESS), N(AT_EMPTY_PATH),
};

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

static void put_signal(struct strbuf *out, long long sig)
{
	const char *s = (sig >= 0 && sig <= 1024) ? decode_signal_name((int)sig) : NULL;
	if (s)
		sb_puts(out, s);
	else
		sb_printf(out, "%lld", sig);
}

/* clone: the low byte is the exit signal; unshare/setns: namespace flags. */
static void decode_clone_flags(unsigned long long v, int with_signal, struct strbuf *out)
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

static const struct named whence_names[] = {
	N(SEEK_SET), N(SEEK_CUR), N(SEEK_END),
#ifdef SEEK_DATA
	N(SEEK_DATA), N(SEEK_HOLE),
#endif
};

static const struct named fcntl_names[] = {
	N(F_DUPFD), N(F_GETFD), N(F_SETFD), N(F_GETFL), N(F_SETFL), N(F_GETLK), N(F_SETLK),
	N(F_SETLKW), N(F_SETOWN), N(F_GETOWN), N(F_SETSIG), N(F_GETSIG), N(F_SETOWN_EX),
	N(F_GETOWN_EX),
#ifdef F_OFD_GETLK
	N(F_OFD_GETLK), N(F_OFD_SETLK), N(F_OFD_SETLKW),
#endif
	N(F_SETLEASE), N(F_GETLEASE), N(F_NOTIFY), N(F_DUPFD_CLOEXEC), N(F_SETPIPE_SZ),
	N(F_GETPIPE_SZ),
#ifdef F_ADD_SEALS
	N(F_ADD_SEALS), N(F_GET_SEALS),
#endif
};

static const struct named sigprocmask_names[] = {
	N(SIG_BLOCK), N(SIG_UNBLOCK), N(SIG_SETMASK),
};

static const struct named ioctl_names[] = {
	N(TCGETS), N(TCSETS), N(TCSETSW), N(TCSETSF), N(TCGETA), N(TCSETA), N(TCSBRK),
	N(TCXONC), N(TCFLSH), N(TIOCEXCL), N(TIOCNXCL), N(TIOCSCTTY), N(TIOCGPGRP),
	N(TIOCSPGRP), N(TIOCOUTQ), N(TIOCSTI), N(TIOCGWINSZ), N(TIOCSWINSZ), N(TIOCMGET),
	N(TIOCMSET), N(FIONREAD), N(TIOCNOTTY), N(TIOCGSID), N(TIOCGPTN), N(TIOCSPTLCK),
#ifdef TIOCGPTPEER
	N(TIOCGPTPEER),
#endif
	N(FIONBIO), N(FIONCLEX), N(FIOCLEX), N(FIOASYNC), N(FIOQSIZE),
};

static const struct named wait_names[] = {
	N(WNOHANG), N(WUNTRACED), N(WEXITED), N(WCONTINUED), N(WNOWAIT),
	N(__WNOTHREAD), N(__WALL), N(__WCLONE),
};

static const struct named msg_names[] = {
	N(MSG_OOB), N(MSG_PEEK), N(MSG_DONTROUTE), N(MSG_CTRUNC), N(MSG_PROXY), N(MSG_TRUNC),
	N(MSG_DONTWAIT), N(MSG_EOR), N(MSG_WAITALL), N(MSG_FIN), N(MSG_SYN), N(MSG_CONFIRM),
	N(MSG_RST), N(MSG_ERRQUEUE), N(MSG_NOSIGNAL), N(MSG_MORE), N(MSG_WAITFORONE),
#ifdef MSG_BATCH
	N(MSG_BATCH),
#endif
#ifdef MSG_ZEROCOPY
	N(MSG_ZEROCOPY),
#endif
#ifdef MSG_FASTOPEN
	N(MSG_FASTOPEN),
#endif
	N(MSG_CMSG_CLOEXEC),
};

static const struct named shutdown_names[] = { N(SHUT_RD), N(SHUT_WR), N(SHUT_RDWR) };

static const struct named level_names[] = {
	N(SOL_SOCKET), N(IPPROTO_IP), N(IPPROTO_TCP), N(IPPROTO_UDP), N(IPPROTO_IPV6),
	N(IPPROTO_ICMP), N(IPPROTO_ICMPV6), N(IPPROTO_RAW), N(SOL_NETLINK), N(SOL_PACKET),
};

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

static void decode_sockopt_name(int level, long long v, struct strbuf *out)
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

static const struct named clock_names[] = {
	N(CLOCK_REALTIME), N(CLOCK_MONOTONIC), N(CLOCK_PROCESS_CPUTIME_ID),
	N(CLOCK_THREAD_CPUTIME_ID), N(CLOCK_MONOTONIC_RAW), N(CLOCK_REALTIME_COARSE),
	N(CLOCK_MONOTONIC_COARSE), N(CLOCK_BOOTTIME), N(CLOCK_REALTIME_ALARM),
	N(CLOCK_BOOTTIME_ALARM), N(CLOCK_TAI),
};

static const struct named futex_cmd_names[] = {
	N(FUTEX_WAIT), N(FUTEX_WAKE), N(FUTEX_FD), N(FUTEX_REQUEUE), N(FUTEX_CMP_REQUEUE),
	N(FUTEX_WAKE_OP), N(FUTEX_LOCK_PI), N(FUTEX_UNLOCK_PI), N(FUTEX_TRYLOCK_PI),
	N(FUTEX_WAIT_BITSET), N(FUTEX_WAKE_BITSET), N(FUTEX_WAIT_REQUEUE_PI),
	N(FUTEX_CMP_REQUEUE_PI),
#ifdef FUTEX_LOCK_PI2
	N(FUTEX_LOCK_PI2),
#endif
};

static void decode_futex_op(unsigned long long v, struct strbuf *out)
{
	unsigned op = (unsigned)v;
	unsigned cmd = op & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	const char *name = lookup(cmd, futex_cmd_names, ARRAY_LEN(futex_cmd_names));
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

static const struct named resolve_names[] = {
	N(RESOLVE_NO_XDEV), N(RESOLVE_NO_MAGICLINKS), N(RESOLVE_NO_SYMLINKS),
	N(RESOLVE_BENEATH), N(RESOLVE_IN_ROOT),
#ifdef RESOLVE_CACHED
	N(RESOLVE_CACHED),
#endif
};

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

static const char *errno_desc(int err)
{
	const char *s = strerrordesc_np(err);
	if (s)
		return s;
	for (size_t i = 0; i < ARRAY_LEN(kernel_errnos); i++)
		if (kernel_errnos[i].err == err)
			return kernel_errnos[i].desc;
	return NULL;
}

/* Linux numbers its real-time signals from 32; glibc reserves the first
 * few for itself, so they are named relative to the kernel's 32. */
#define K_SIGRTMIN 32
#define K_SIGMAX 64

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

/* ------------------------------------------------------------------ */
/* Socket addresses                                                    */

static void put_family(struct strbuf *out, unsigned fam)
{
	const char *s = lookup(fam, af_names, ARRAY_LEN(af_names));
	if (s)
		sb_puts(out, s);
	else
		sb_printf(out, "%u", fam);
}

/* A name made of bytes of unknown content, for fd descriptions: control
 * and non-ASCII bytes become '?'. */
static void put_printable(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		sb_putc(out, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
	}
}

/* A socket address taken apart once, for both the strace-style and the
 * short (fd description) forms. */
enum sa_kind { SA_NONE, SA_RAW, SA_INET, SA_INET6, SA_UNIX, SA_NETLINK };

struct sa_parsed {
	enum sa_kind kind;
	sa_family_t fam;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	uint32_t flowinfo, scope_id;
	bool has_scope;
	const char *path;        /* AF_UNIX: NULL when unnamed; abstract names start after the NUL */
	size_t path_len;
	bool abstract;
	uint32_t nl_pid, nl_groups;
};

static void sa_parse(const void *sa, size_t len, struct sa_parsed *o)
{
	const unsigned char *p = sa;
	memset(o, 0, sizeof(*o));
	if (!sa || len < sizeof(o->fam)) {
		o->kind = SA_NONE;
		return;
	}
	memcpy(&o->fam, p, sizeof(o->fam));
	o->kind = SA_RAW;
	if (o->fam == AF_INET && len >= offsetof(struct sockaddr_in, sin_addr) + sizeof(struct in_addr)) {
		struct sockaddr_in sin;
		memset(&sin, 0, sizeof(sin));
		memcpy(&sin, p, len < sizeof(sin) ? len : sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, o->ip, sizeof(o->ip));
		o->port = ntohs(sin.sin_port);
		o->kind = SA_INET;
	} else if (o->fam == AF_INET6 && len >= offsetof(struct sockaddr_in6, sin6_addr) + sizeof(struct in6_addr)) {
		struct sockaddr_in6 sin6;
		memset(&sin6, 0, sizeof(sin6));
		memcpy(&sin6, p, len < sizeof(sin6) ? len : sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, o->ip, sizeof(o->ip));
		o->port = ntohs(sin6.sin6_port);
		o->flowinfo = ntohl(sin6.sin6_flowinfo);
		o->scope_id = sin6.sin6_scope_id;
		o->has_scope = len >= sizeof(sin6);
		o->kind = SA_INET6;
	} else if (o->fam == AF_UNIX) {
		size_t off = offsetof(struct sockaddr_un, sun_path);
		o->kind = SA_UNIX;
		if (len <= off)
			return; /* unnamed */
		size_t plen = len - off > sizeof(((struct sockaddr_un *)0)->sun_path)
			? sizeof(((struct sockaddr_un *)0)->sun_path) : len - off;
		const char *path = (const char *)p + off;
		if (path[0] == '\0') {
			o->abstract = true;
			o->path = path + 1;
			o->path_len = plen - 1;
		} else {
			o->path = path;
			o->path_len = strnlen(path, plen);
		}
	} else if (o->fam == AF_NETLINK && len >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl nl;
		memcpy(&nl, p, sizeof(nl));
		o->nl_pid = nl.nl_pid;
		o->nl_groups = nl.nl_groups;
		o->kind = SA_NETLINK;
	}
}

void decode_sockaddr(const void *sa, size_t len, struct strbuf *out)
{
	struct sa_parsed a;
	sa_parse(sa, len, &a);
	switch (a.kind) {
	case SA_NONE:
		sb_puts(out, "{}");
		return;
	case SA_INET:
		sb_printf(out, "{sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"%s\")}", a.port, a.ip);
		return;
	case SA_INET6:
		sb_printf(out, "{sa_family=AF_INET6, sin6_port=htons(%u), sin6_flowinfo=htonl(%u), "
			  "inet_pton(AF_INET6, \"%s\", &sin6_addr)",
			  a.port, a.flowinfo, a.ip);
		if (a.has_scope)
			sb_printf(out, ", sin6_scope_id=%u", a.scope_id);
		sb_putc(out, '}');
		return;
	case SA_UNIX:
		if (!a.path) {
			sb_puts(out, "{sa_family=AF_UNIX}");
			return;
		}
		sb_puts(out, a.abstract ? "{sa_family=AF_UNIX, sun_path=@" : "{sa_family=AF_UNIX, sun_path=");
		sb_quote(out, a.path, a.path_len, a.path_len, 0);
		sb_putc(out, '}');
		return;
	case SA_NETLINK:
		sb_printf(out, "{sa_family=AF_NETLINK, nl_pid=%u, nl_groups=%08x}", a.nl_pid, a.nl_groups);
		return;
	case SA_RAW:
		break;
	}
	/* anything else, or too short for its family: the raw bytes */
	sb_puts(out, "{sa_family=");
	put_family(out, a.fam);
	if (len > sizeof(a.fam)) {
		sb_puts(out, ", sa_data=");
		sb_quote(out, (const char *)sa + sizeof(a.fam), len - sizeof(a.fam), len - sizeof(a.fam), 0);
	}
	sb_putc(out, '}');
}

void decode_sockaddr_short(const void *sa, size_t len, struct strbuf *out)
{
	struct sa_parsed a;
	sa_parse(sa, len, &a);
	switch (a.kind) {
	case SA_NONE:
		return;
	case SA_INET:
		sb_printf(out, "%s:%u", a.ip, a.port);
		return;
	case SA_INET6:
		sb_printf(out, "[%s]:%u", a.ip, a.port);
		return;
	case SA_UNIX:
		if (!a.path)
			return; /* unnamed */
		if (a.abstract)
			sb_putc(out, '@');
		put_printable(out, a.path, a.path_len);
		return;
	case SA_NETLINK:
		sb_printf(out, "netlink:%u", a.nl_pid);
		return;
	case SA_RAW:
		put_family(out, a.fam);
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */

static size_t ctx_str_max(const struct decode_ctx *ctx)
{
	return ctx && ctx->str_max ? ctx->str_max : 32;
}

static void put_ptr(struct strbuf *out, et_u64 v)
{
	if (v == 0)
		sb_puts(out, "NULL");
	else
		sb_printf(out, "%#llx", (unsigned long long)v);
}

static void put_fd(const struct decode_ctx *ctx, int argi, int fd, struct strbuf *out)
{
	sb_printf(out, "%d", fd);
	if (fd < 0 || !ctx || !ctx->describe_fd)
		return;
	const char *d = ctx->describe_fd(ctx->fd_ctx, argi, fd);
	if (d) {
		sb_putc(out, '<');
		sb_escape(out, d);   /* a path the program chose */
		sb_putc(out, '>');
	}
}

/* A whole captured string, NUL-terminated or not. */
static void put_cap_string(struct strbuf *out, const struct ev_capture *c)
{
	const char *d = ev_capture_data(c);
	size_t n = strnlen(d, c->len);
	sb_quote(out, d, n, n, c->truncated);
}

static int is_error(et_s64 ret)
{
	return ret >= -4095 && ret <= -1;
}

static int sig_is(const struct syscall_sig *sig, const char *name)
{
	return sig && strcmp(sig->name, name) == 0;
}

static int sig_has(const struct syscall_sig *sig, int type)
{
	for (int i = 0; i < sig->nargs && i < 6; i++)
		if (sig->arg[i] == type)
			return 1;
	return 0;
}

/* fcntl commands whose third argument is ignored (not shown). */
static int fcntl_cmd_has_arg(int cmd)
{
	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
	case F_GETPIPE_SZ:
#ifdef F_GET_SEALS
	case F_GET_SEALS:
#endif
		return 0;
	}
	return 1;
}

static void decode_fcntl_arg(int cmd, et_u64 v, struct strbuf *out)
{
	switch (cmd) {
	case F_SETFD:
		if (v == FD_CLOEXEC)
			sb_puts(out, "FD_CLOEXEC");
		else if (v == 0)
			sb_puts(out, "0");
		else
			sb_printf(out, "%#llx", (unsigned long long)v);
		break;
	case F_SETFL:
		decode_open_flags((unsigned long)v, out);
		break;
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETOWN: case F_SETSIG: case F_SETPIPE_SZ:
	case F_SETLEASE: case F_NOTIFY:
#ifdef F_ADD_SEALS
	case F_ADD_SEALS:
#endif
		sb_printf(out, "%d", (int)v);
		break;
	case F_GETLK: case F_SETLK: case F_SETLKW: case F_GETOWN_EX: case F_SETOWN_EX:
#ifdef F_OFD_GETLK
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
#endif
		put_ptr(out, v);
		break;
	default:
		sb_printf(out, "%#llx", (unsigned long long)v);
	}
}

static void decode_argv(const struct ev_syscall *ev, int i, struct strbuf *out)
{
	int n = 0, more = 0;
	for (int seq = 0; seq < 256; seq++) {
		const struct ev_capture *c = find_kind(ev, i, seq, ET_CAP_ARGV);
		if (!c)
			break;
		if (c->len == 0 && c->truncated) {
			more = 1;   /* marker: argv has entries past the captured ones */
			break;
		}
		sb_puts(out, n ? ", " : "[");
		put_cap_string(out, c);
		n++;
	}
	if (n == 0) {
		if (ev->args[i] == 0)
			sb_puts(out, "NULL");
		else if ((ev->flags & ET_SC_F_FAULT) || more)
			put_ptr(out, ev->args[i]);
		else
			sb_puts(out, "[]");
		return;
	}
	/* the BPF side copies at most ET_ARGV_MAX entries: a full list may
	 * have been cut */
	if (more || n >= ET_ARGV_MAX)
		sb_puts(out, ", ...");
	sb_putc(out, ']');
}

int decode_msg_capture(const struct ev_capture *c, struct et_msg *meta, const char **name, const char **data,
		       size_t *data_len)
{
	if (!c || c->kind != ET_CAP_MSG || c->len < sizeof(*meta))
		return -1;
	memcpy(meta, ev_capture_data(c), sizeof(*meta));
	if (meta->namelen > c->len - sizeof(*meta))
		return -1;
	*name = ev_capture_data(c) + sizeof(*meta);
	*data = *name + meta->namelen;
	*data_len = c->len - sizeof(*meta) - meta->namelen;
	if (*data_len > meta->len)
		*data_len = meta->len;
	return 0;
}

/* sendmsg, recvmsg: {msg_name={AF_INET, 127.0.0.1:53}, msg_data="..."};
 * sendmmsg, recvmmsg: [{msg_name=..., msg_data="...", msg_len=29}, ...] */
static void decode_msgs(const struct ev_syscall *ev, int i, int vec, const struct decode_ctx *ctx,
			struct strbuf *out)
{
	et_s64 ret = ev->ret;
	int n = 0;
	for (int seq = 0; seq < (vec ? ET_MSG_MAX : 1); seq++) {
		const struct ev_capture *c = find_kind(ev, i, seq, ET_CAP_MSG);
		struct et_msg meta;
		const char *name, *data;
		size_t dlen;
		if (decode_msg_capture(c, &meta, &name, &data, &dlen) < 0)
			break;
		sb_puts(out, n ? ", {" : vec ? "[{" : "{");
		if (meta.namelen) {
			sb_puts(out, "msg_name=");
			decode_sockaddr(name, meta.namelen, out);
			sb_puts(out, ", ");
		}
		sb_puts(out, "msg_data=");
		sb_quote(out, data, dlen, ctx_str_max(ctx), dlen < meta.len);
		if (vec)
			sb_printf(out, ", msg_len=%u", meta.len);
		sb_putc(out, '}');
		n++;
	}
	if (n == 0) {
		put_ptr(out, ev->args[i]);
		return;
	}
	if (vec) {
		if (!is_error(ret) && ret > n)
			sb_puts(out, ", ...");
		sb_putc(out, ']');
	}
}

void decode_arg(const struct ev_syscall *ev, int i, const struct decode_ctx *ctx, struct strbuf *out)
{
	if (i < 0 || i >= 6) {
		sb_puts(out, "?");
		return;
	}
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	et_u64 v = ev->args[i];
	if (!sig || i >= sig->nargs) {
		sb_printf(out, "%#llx", (unsigned long long)v);
		return;
	}
	const struct ev_capture *c;
	int len_i = sig->lenarg[i] < 6 ? sig->lenarg[i] : -1;

	switch (sig->arg[i]) {
	case A_INT:
		if (i > 0 && sig->arg[i - 1] == A_SOCKOPT_LEVEL)
			decode_sockopt_name((int)ev->args[i - 1], (int)v, out);
		else
			sb_printf(out, "%d", (int)v);
		break;
	case A_UINT:
		sb_printf(out, "%u", (unsigned)v);
		break;
	case A_PID:
		sb_printf(out, "%d", (int)v);
		break;
	case A_SIZE:
		sb_printf(out, "%llu", (unsigned long long)v);
		break;
	case A_OFF:
		sb_printf(out, "%lld", (long long)v);
		break;
	case A_HEX:
		if (i > 0 && sig->arg[i - 1] == A_FCNTL_CMD)
			decode_fcntl_arg((int)ev->args[i - 1], v, out);
		else
			sb_printf(out, "%#llx", (unsigned long long)v);
		break;
	case A_PTR:
	case A_SOCKLEN_PTR:
	case A_ENVP:
		put_ptr(out, v);
		break;
	case A_DIRFD:
		if ((int)v == AT_FDCWD) {
			sb_puts(out, "AT_FDCWD");
			break;
		}
		/* fall through */
	case A_FD:
		put_fd(ctx, i, (int)v, out);
		break;
	case A_PATH:
	case A_STR:
		c = find_kind(ev, i, 0, ET_CAP_STR);
		if (c)
			put_cap_string(out, c);
		else
			put_ptr(out, v);
		break;
	case A_MSGHDR:
	case A_MMSGHDR:
		decode_msgs(ev, i, sig->arg[i] == A_MMSGHDR, ctx, out);
		break;
	case A_BUF_IN:
	case A_SOCK_BUF_IN: {
		c = find_kind(ev, i, 0, ET_CAP_BUF_IN);
		et_u64 want = len_i >= 0 ? ev->args[len_i] : 0;
		if (!c) {
			if (v != 0 && len_i >= 0 && want == 0)
				sb_puts(out, "\"\"");
			else
				put_ptr(out, v);
			break;
		}
		size_t n = c->len;
		if (len_i >= 0 && want < n)
			n = (size_t)want;
		int trunc = c->truncated || (len_i >= 0 && n < want);
		const char *d = ev_capture_data(c);
		if (sig_is(sig, "openat2") && n >= sizeof(struct open_how)) {
			struct open_how how;
			memcpy(&how, d, sizeof(how));
			sb_puts(out, "{flags=");
			decode_open_flags((unsigned long)how.flags, out);
			sb_printf(out, ", mode=%#03llo, resolve=", (unsigned long long)how.mode);
			put_flags(out, how.resolve, resolve_names, ARRAY_LEN(resolve_names), "0");
			sb_putc(out, '}');
		} else if (sig_is(sig, "setsockopt") && n == sizeof(int) && !trunc) {
			int iv;
			memcpy(&iv, d, sizeof(iv));
			sb_printf(out, "[%d]", iv);
		} else {
			sb_quote(out, d, n, ctx_str_max(ctx), trunc);
		}
		break;
	}
	case A_BUF_OUT: {
		et_s64 ret = ev->ret;
		c = find_kind(ev, i, 0, ET_CAP_BUF_OUT);
		if (is_error(ret) || ret < 0 || (ev->flags & ET_SC_F_NORETURN)) {
			put_ptr(out, v);
			break;
		}
		if (!c) {
			if (ret == 0 && v != 0)
				sb_puts(out, "\"\"");
			else
				put_ptr(out, v);
			break;
		}
		size_t n = c->len;
		if ((et_u64)ret < n)
			n = (size_t)ret;
		int trunc = c->truncated || (et_u64)n < (et_u64)ret;
		const char *d = ev_capture_data(c);
		if (sig_is(sig, "getcwd")) {
			size_t sl = strnlen(d, n);
			sb_quote(out, d, sl, sl, trunc && sl == n);
		} else if (sig_is(sig, "readlink") || sig_is(sig, "readlinkat")) {
			sb_quote(out, d, n, n, trunc);
		} else {
			sb_quote(out, d, n, ctx_str_max(ctx), trunc);
		}
		break;
	}
	case A_SOCKADDR_IN:
		c = find_kind(ev, i, 0, ET_CAP_SOCKADDR_IN);
		if (c)
			decode_sockaddr(ev_capture_data(c), c->len, out);
		else
			put_ptr(out, v);
		break;
	case A_SOCKADDR_OUT:
		c = find_kind(ev, i, 0, ET_CAP_SOCKADDR_OUT);
		if (c && !is_error(ev->ret) && ev->ret >= 0)
			decode_sockaddr(ev_capture_data(c), c->len, out);
		else
			put_ptr(out, v);
		break;
	case A_SOCKOPT_OUT:
		c = find_kind(ev, i, 0, ET_CAP_SOCKADDR_OUT);
		if (c && ev->ret == 0 && c->len == sizeof(int)) {
			int iv;
			memcpy(&iv, ev_capture_data(c), sizeof(iv));
			const char *en = NULL;
			if ((int)ev->args[1] == SOL_SOCKET && (int)ev->args[2] == SO_ERROR && iv > 0)
				en = decode_errno_name(iv);
			if (en)
				sb_printf(out, "[%s]", en);
			else
				sb_printf(out, "[%d]", iv);
		} else if (c && ev->ret == 0) {
			sb_quote(out, ev_capture_data(c), c->len, ctx_str_max(ctx), c->truncated);
		} else {
			put_ptr(out, v);
		}
		break;
	case A_ARGV:
		decode_argv(ev, i, out);
		break;
	case A_FDPAIR_OUT:
		c = find_kind(ev, i, 0, ET_CAP_FDPAIR_OUT);
		if (c && ev->ret == 0 && c->len >= 2 * sizeof(int)) {
			int fds[2];
			memcpy(fds, ev_capture_data(c), sizeof(fds));
			sb_printf(out, "[%d, %d]", fds[0], fds[1]);
		} else {
			put_ptr(out, v);
		}
		break;
	case A_OPEN_FLAGS:
		/* pipe2, dup3, accept4, eventfd2, ...: only CLOEXEC-like bits */
		if (sig_has(sig, A_PATH))
			decode_open_flags((unsigned long)v, out);
		else
			decode_fd_flags((unsigned long)v, out);
		break;
	case A_MODE:
		sb_printf(out, "%#03o", (unsigned)v);
		break;
	case A_PROT:
		put_flags(out, (unsigned)v, prot_names, ARRAY_LEN(prot_names), "PROT_NONE");
		break;
	case A_MMAP_FLAGS:
		decode_mmap_flags((unsigned)v, out);
		break;
	case A_SIGNAL:
		put_signal(out, (int)v);
		break;
	case A_SOCK_DOMAIN:
		put_family(out, (unsigned)v);
		break;
	case A_SOCK_TYPE:
		decode_sock_type((unsigned)v, out);
		break;
	case A_ACCESS_MODE:
		put_flags(out, (unsigned)v, access_names, ARRAY_LEN(access_names), "F_OK");
		break;
	case A_AT_FLAGS:
		if (sig_is(sig, "faccessat2"))
			put_flags(out, (unsigned)v, at_eaccess_names, ARRAY_LEN(at_eaccess_names), "0");
		else
			put_flags(out, (unsigned)v, at_names, ARRAY_LEN(at_names), "0");
		break;
	case A_CLONE_FLAGS:
		decode_clone_flags(v, sig_is(sig, "clone"), out);
		break;
	case A_WHENCE:
		put_enum(out, (int)v, whence_names, ARRAY_LEN(whence_names));
		break;
	case A_FCNTL_CMD:
		put_enum(out, (int)v, fcntl_names, ARRAY_LEN(fcntl_names));
		break;
	case A_SIGPROCMASK_HOW:
		put_enum(out, (int)v, sigprocmask_names, ARRAY_LEN(sigprocmask_names));
		break;
	case A_IOCTL_REQ: {
		const char *s = lookup((unsigned)v, ioctl_names, ARRAY_LEN(ioctl_names));
		if (s)
			sb_puts(out, s);
		else
			sb_printf(out, "%#x", (unsigned)v);
		break;
	}
	case A_WAIT_OPTIONS:
		put_flags(out, (unsigned)v, wait_names, ARRAY_LEN(wait_names), "0");
		break;
	case A_MSG_FLAGS:
		put_flags(out, (unsigned)v, msg_names, ARRAY_LEN(msg_names), "0");
		break;
	case A_SHUTDOWN_HOW:
		put_enum(out, (int)v, shutdown_names, ARRAY_LEN(shutdown_names));
		break;
	case A_SOCKOPT_LEVEL:
		put_enum(out, (int)v, level_names, ARRAY_LEN(level_names));
		break;
	case A_CLOCKID:
		put_enum(out, (int)v, clock_names, ARRAY_LEN(clock_names));
		break;
	case A_FUTEX_OP:
		decode_futex_op(v, out);
		break;
	case A_NONE:
	default:
		sb_printf(out, "%#llx", (unsigned long long)v);
		break;
	}
}

int decode_nargs(const struct ev_syscall *ev)
{
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	if (!sig)
		return 6;
	int n = sig->nargs > 6 ? 6 : sig->nargs;
	if (n >= 2 && sig->arg[n - 1] == A_MODE && sig->arg[n - 2] == A_OPEN_FLAGS) {
		/* open/openat: the mode matters only when a file is created */
		unsigned long fl = (unsigned long)ev->args[n - 2];
		if (!(fl & O_CREAT) && (fl & O_TMPFILE) != O_TMPFILE)
			n--;
	}
	if (n >= 2 && sig->arg[n - 2] == A_FCNTL_CMD && !fcntl_cmd_has_arg((int)ev->args[n - 2]))
		n--;
	return n;
}

void decode_args(const struct ev_syscall *ev, const struct decode_ctx *ctx, struct strbuf *out)
{
	int n = decode_nargs(ev);
	for (int i = 0; i < n; i++) {
		if (i)
			sb_puts(out, ", ");
		decode_arg(ev, i, ctx, out);
	}
}

void decode_ret(const struct ev_syscall *ev, struct strbuf *out)
{
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	if ((ev->flags & ET_SC_F_NORETURN) || (sig && sig->ret == R_NONE)) {
		sb_puts(out, "?");
		return;
	}
	et_s64 ret = ev->ret;
	if (is_error(ret)) {
		int err = (int)-ret;
		const char *name = decode_errno_name(err);
		const char *desc = errno_desc(err);
		/* restart codes: the call did not complete, it will be redone */
		sb_puts(out, err >= 512 && err <= 516 ? "? " : "-1 ");
		if (name)
			sb_puts(out, name);
		else
			sb_printf(out, "errno %d", err);
		if (desc)
			sb_printf(out, " (%s)", desc);
		else
			sb_printf(out, " (Unknown error %d)", err);
		return;
	}
	if (sig && sig->ret == R_HEX)
		sb_printf(out, "%#llx", (unsigned long long)ret);
	else
		sb_printf(out, "%lld", (long long)ret);
}

void decode_call(const struct ev_syscall *ev, const struct decode_ctx *ctx, struct strbuf *out)
{
	sb_puts(out, syscall_name((int)ev->nr));
	sb_putc(out, '(');
	decode_args(ev, ctx, out);
	sb_puts(out, ") = ");
	decode_ret(ev, out);
}
