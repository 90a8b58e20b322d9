/* Two threads take two mutexes in opposite orders and deadlock; main waits
 * for them in pthread_join. For the hang report (--timeout). The barrier
 * makes the deadlock certain: each holds its first mutex before either
 * asks for its second. */
#include <pthread.h>

pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;

static void *transfer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&accounts);
	pthread_barrier_wait(&both_hold);
	pthread_mutex_lock(&ledger);
	pthread_mutex_unlock(&ledger);
	pthread_mutex_unlock(&accounts);
	return NULL;
}

static void *audit(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ledger);
	pthread_barrier_wait(&both_hold);
	pthread_mutex_lock(&accounts);
	pthread_mutex_unlock(&accounts);
	pthread_mutex_unlock(&ledger);
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	pthread_barrier_init(&both_hold, NULL, 2);
	pthread_create(&a, NULL, transfer, NULL);
	pthread_create(&b, NULL, audit, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
