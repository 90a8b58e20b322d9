#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <grp.h>
#include <libelf.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "invoker.h"

/* What the child reports through the error pipe. */
struct child_error {
	int stage;   /* 0 exec, 1 cgroup, 2 user switch */
	int err;
	char interp[256]; /* exec ENOENT of a file that exists: its missing interpreter */
};

static int exec_status_for(int err)
{
	return err == ENOENT ? 127 : 126;
}

void launch_guard_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free fd is this one; close-on-exec: the target
		 * gets it closed, as etrace did */
		int got = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (got >= 0 && got != fd)
			close(got);
	}
}

int launch_resolve(const char *prog, char *out, size_t len, char *err, size_t errlen)
{
	struct stat st;
	if (strchr(prog, '/')) {
		if (stat(prog, &st) < 0) {
			snprintf(err, errlen, "%s: %s", prog, strerror(errno));
			return exec_status_for(errno);
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: Is a directory", prog);
			return 126;
		}
		if (faccessat(AT_FDCWD, prog, X_OK, AT_EACCESS) < 0) {
			snprintf(err, errlen, "%s: %s", prog, strerror(errno));
			return 126;
		}
		snprintf(out, len, "%s", prog);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int found_noexec = 0;
	while (*path) {
		const char *colon = strchrnul(path, ':');
		size_t dlen = (size_t)(colon - path);
		char cand[4096];
		snprintf(cand, sizeof(cand), "%.*s%s%s", (int)dlen, path, dlen ? "/" : "", prog);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) == 0) {
				snprintf(out, len, "%s", cand);
				return 0;
			}
			found_noexec = 1;
		}
		path = *colon ? colon + 1 : colon;
	}
	if (found_noexec) {
		snprintf(err, errlen, "%s: Permission denied", prog);
		return 126;
	}
	snprintf(err, errlen, "%s: command not found", prog);
	return 127;
}

int launch_pick_user(const char *spec, struct run_user *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	if (spec) {
		struct passwd *pw = getpwnam(spec);
		char *end;
		long id = strtol(spec, &end, 10);
		if (!pw && *spec && !*end && id >= 0)
			pw = getpwuid((uid_t)id);
		if (!pw) {
			snprintf(err, errlen, "unknown user '%s'", spec);
			return -1;
		}
		/* under sudo, -u must not give more than the invoking user has:
		 * only they themselves may be named (plain root may name anyone) */
		const struct invoker *w = invoker_get();
		if (w->sudo && pw->pw_uid != w->uid) {
			snprintf(err, errlen,
				 "-u %s: under sudo the program runs as you (%s); another user needs etrace run as root "
				 "without sudo",
				 spec, w->name[0] ? w->name : "the invoking user");
			return -1;
		}
		u->set = true;
		u->uid = pw->pw_uid;
		u->gid = pw->pw_gid;
		snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
		return 0;
	}
	const struct invoker *w = invoker_get();
	if (w->sudo) {
		u->set = true;
		u->uid = w->uid;
		u->gid = w->gid;
		snprintf(u->name, sizeof(u->name), "%s", w->name);
	}
	return 0;
}

/* The interpreter path (a script's #!, an ELF file's PT_INTERP) of path,
 * into out; "" when it has none or it cannot be read. */
static void find_interpreter(const char *path, char *out, size_t len)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char head[256];
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		head[n] = '\0';
		char *p = head + 2;
		p += strspn(p, " \t");
		size_t l = strcspn(p, " \t\n");
		snprintf(out, len, "%.*s", (int)l, p);
	} else if (n > 4 && memcmp(head, ELFMAG, SELFMAG) == 0 && elf_version(EV_CURRENT) != EV_NONE) {
		Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		size_t np = 0;
		if (e && elf_getphdrnum(e, &np) == 0) {
			for (size_t i = 0; i < np; i++) {
				GElf_Phdr ph;
				if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
					continue;
				size_t sz = ph.p_filesz < len ? ph.p_filesz : len - 1;
				ssize_t r = pread(fd, out, sz, (off_t)ph.p_offset);
				out[r > 0 ? (size_t)r : 0] = '\0';
				out[strnlen(out, len - 1)] = '\0';
				break;
			}
		}
		if (e)
			elf_end(e);
	}
	close(fd);
}

static void child_fail(int fd, int stage, int err, const char *path)
{
	struct child_error ce;
	memset(&ce, 0, sizeof(ce));
	ce.stage = stage;
	ce.err = err;
	/* the file is there (etrace looked it up): ENOENT is its interpreter.
	 * Found here, as the user the program runs as, not by etrace. */
	if (stage == 0 && err == ENOENT && path) {
		find_interpreter(path, ce.interp, sizeof(ce.interp));
		if (ce.interp[0] && access(ce.interp, F_OK) == 0)
			ce.interp[0] = '\0';
	}
	if (write(fd, &ce, sizeof(ce)) < 0) {
		/* nothing else to do: the parent sees EOF and a 127 exit */
	}
	_exit(127);
}

/* Forks straight into the cgroup with clone3(CLONE_INTO_CGROUP), which
 * spares the child a migration (a cgroup.procs write waits for an RCU grace
 * period) and gives the pidfd at once. Returns -1 with errno ENOSYS/E2BIG/EINVAL
 * when the kernel lacks it. */
static pid_t fork_into_cgroup(const struct et_cgroup *cg, int *pidfd)
{
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_INTO_CGROUP | CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)pidfd;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)cg->fd;
	return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

/* Without clone3 (kernels before 5.7 lack CLONE_INTO_CGROUP; valgrind has
 * no clone3 nor pidfd_open): clone(CLONE_PIDFD) still gives the pidfd at
 * once, else a plain fork and pidfd_open. */
static pid_t fork_with_pidfd(int *pidfd)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, pidfd, 0, 0);
	if (pid < 0 && (errno == EINVAL || errno == ENOSYS)) {
		*pidfd = -1;
		pid = fork();
	}
	return pid;
}

static char **child_env;

void launch_set_env(char **envp)
{
	child_env = envp;
}

static void child_main(int release_rd, int error_wr, const char *path, char *const argv[],
		       const struct run_user *u, const struct et_cgroup *cg, const struct launch_signals *sigs)
{
	/* the target gets the signal dispositions and mask etrace was started
	 * with: an ignored signal stays ignored (nohup, trap '' PIPE), and
	 * what etrace changed for itself (the signals it blocks for its
	 * signalfd, SIGPIPE ignored) is put back. Handlers etrace never sets. */
	for (int s = 1; s < NSIG; s++)
		if (sigs->changed[s])
			sigaction(s, &sigs->orig[s], NULL);
	sigprocmask(SIG_SETMASK, &sigs->mask, NULL);

	if (cg && cgroup_enter(cg) < 0)
		child_fail(error_wr, 1, errno, NULL);
	if (u->set) {
		if (u->name[0] && initgroups(u->name, u->gid) < 0 && setgroups(0, NULL) < 0)
			child_fail(error_wr, 2, errno, NULL);
		if (setgid(u->gid) < 0 || setuid(u->uid) < 0)
			child_fail(error_wr, 2, errno, NULL);
	}
	char c;
	ssize_t n;
	do
		n = read(release_rd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* etrace went away before releasing us */
	close(release_rd);
	extern char **environ;
	execve(path, argv, child_env ? child_env : environ);
	child_fail(error_wr, 0, errno, path);
}

int launch_start(struct target *t, const char *path, char *const argv[], const struct run_user *u,
		 const struct et_cgroup *cg, const struct launch_signals *sigs, char *err, size_t errlen)
{
	int rel[2], erp[2];
	t->pid = -1;
	t->pidfd = t->release_fd = t->error_fd = -1;
	if (pipe2(rel, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(erp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(rel[0]);
		close(rel[1]);
		return -1;
	}
	int pidfd = -1;
	pid_t pid = cg ? fork_into_cgroup(cg, &pidfd) : -1;
	const struct et_cgroup *join = NULL;
	if (pid < 0 && (!cg || errno == ENOSYS || errno == EINVAL || errno == E2BIG)) {
		pidfd = -1;
		pid = fork_with_pidfd(&pidfd);   /* the child joins the cgroup itself */
		join = cg;
	}
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(rel[0]);
		close(rel[1]);
		close(erp[0]);
		close(erp[1]);
		return -1;
	}
	if (pid == 0) {
		close(rel[1]);
		close(erp[0]);
		child_main(rel[0], erp[1], path, argv, u, join, sigs);
	}
	close(rel[0]);
	close(erp[1]);
	t->pid = pid;
	t->path = path;
	t->release_fd = rel[1];
	t->error_fd = erp[0];
	t->pidfd = pidfd >= 0 ? pidfd : (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s (Linux 5.3 or later is needed)", strerror(errno));
		launch_abort(t);
		return -1;
	}
	return 0;
}

int launch_release(struct target *t, char *err, size_t errlen)
{
	char c = 'g';
	if (write(t->release_fd, &c, 1) != 1) {
		snprintf(err, errlen, "cannot release the target: %s", strerror(errno));
		return 125;
	}
	close(t->release_fd);
	t->release_fd = -1;
	struct child_error ce;
	ssize_t n;
	do
		n = read(t->error_fd, &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	close(t->error_fd);
	t->error_fd = -1;
	if (n == 0)
		return 0; /* the pipe closed on exec */
	if (n != (ssize_t)sizeof(ce)) {
		snprintf(err, errlen, "the target died before exec");
		return 127;
	}
	static const char *stage[] = { "exec", "joining the cgroup", "switching user" };
	ce.interp[sizeof(ce.interp) - 1] = '\0';
	if (ce.stage == 0 && ce.interp[0])
		snprintf(err, errlen, "exec of %s failed: its interpreter %s: %s", t->path, ce.interp, strerror(ce.err));
	else
		snprintf(err, errlen, "%s failed: %s", stage[ce.stage % 3], strerror(ce.err));
	return ce.stage == 0 ? exec_status_for(ce.err) : 125;
}

void launch_abort(struct target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = -1;
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->release_fd >= 0)
		close(t->release_fd);
	if (t->error_fd >= 0)
		close(t->error_fd);
	t->pidfd = t->release_fd = t->error_fd = -1;
}
