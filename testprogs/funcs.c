/* Named functions with known arguments and return values, for
 * --trace-func. Modes:
 *   (none)      the calls below, then exit 0
 *   crash       the same, then a NULL write in apply_config()
 *   fork        the calls in a forked child too (the tree's children run the
 *               same file and are traced)
 *   spin SECS   call add() in a loop for SECS seconds or until SIGUSR1 (an
 *               untraced run of the same file, concurrently with a traced one)
 * Built -O0 -g: every function is called, and DWARF gives their signatures. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t spin_stop;

static void on_usr1(int sig)
{
	(void)sig;
	spin_stop = 1;
}

struct config {
	int depth;
	int verbose;
};

int add(int a, int b)
{
	return a + b;
}

long scale(long value, int factor)
{
	return value * factor;
}

int parse_config(const char *text, int depth, struct config *out)
{
	out->depth = add(depth, 1);
	out->verbose = strstr(text, "verbose") != NULL;
	return out->verbose;
}

bool is_enabled(bool flag, unsigned char level)
{
	return flag && level > 2;
}

double half_of(double x, int rounds)
{
	while (rounds-- > 0)
		x /= 2;
	return x;
}

int sum_six(int a, int b, int c, int d, int e, int f)
{
	return a + b + c + d + e + f;
}

void report_value(long v)
{
	printf("value %ld\n", v);
}

const char *find_key(const char *text, int c)
{
	return strchr(text, c);
}

void apply_config(struct config *cfg)
{
	cfg->depth = 1; /* NULL in crash mode */
}

static void calls(void)
{
	struct config cfg;
	parse_config("depth=3 verbose", 3, &cfg);
	report_value(scale(-7, 3));
	is_enabled(true, 5);
	half_of(10.0, 2);
	sum_six(1, 2, 3, 4, 5, 6);
	find_key("abc", 'z');
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "spin") == 0) {
		double end = now() + (argc > 2 ? atof(argv[2]) : 1.0);
		long n = 0;
		signal(SIGUSR1, on_usr1);
		while (now() < end && !spin_stop) {
			n += add(1, 2);
			usleep(1000);
		}
		printf("spun %ld\n", n / 3);
		return 0;
	}
	calls();
	fflush(stdout);
	if (strcmp(mode, "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			add(100, 200);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
	}
	if (strcmp(mode, "crash") == 0)
		apply_config(NULL);
	return 0;
}
