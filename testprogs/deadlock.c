/* Two threads take two mutexes in opposite orders and deadlock; main waits
 * for them in pthread_join. For the hang report (--timeout). */
#include <pthread.h>
#include <unistd.h>

pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;

static void *transfer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&accounts);
	usleep(100000);
	pthread_mutex_lock(&ledger);
	pthread_mutex_unlock(&ledger);
	pthread_mutex_unlock(&accounts);
	return NULL;
}

static void *audit(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ledger);
	usleep(100000);
	pthread_mutex_lock(&accounts);
	pthread_mutex_unlock(&accounts);
	pthread_mutex_unlock(&ledger);
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, transfer, NULL);
	pthread_create(&b, NULL, audit, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
