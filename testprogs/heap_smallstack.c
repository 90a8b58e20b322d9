/* Threads on small stacks, one after another: glibc carves a thread's
 * static TLS out of the stack the program asked for, so a recorder that
 * kept kilobytes in TLS took that room from the program (26 KB of it
 * overflowed this program's 32 KiB stacks: a crash only under etrace).
 * Each thread uses 12 KB of its stack, makes malloc+free pairs and leaks
 * one 40-byte block through leak_one (8 leaks in all); a thread that ends
 * hands its call-site memory to the next (the recorder reuses it: the
 * stacks must stay right). Prints "threads 8 ok". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* scrub.h's 64 KiB would not fit: 8 KiB of the dead stack below the
 * caller (the allocator's and the recorder's frames were there) */
#define SCRUB_BYTES 8192
#include "scrub.h"

#define THREADS 8

__attribute__((noinline)) static void leak_one(void)
{
	char *p = malloc(40); /* @alloc leak */
	memset(p, 'l', 40);
	p = NULL;
}

__attribute__((noinline)) static void *body(void *arg)
{
	(void)arg;
	volatile char room[12 * 1024];
	memset((char *)room, 1, sizeof(room));
	for (int i = 0; i < 100; i++)
		free(malloc(16 + (size_t)i));
	leak_one(); /* @call leak */
	scrub();
	return (void *)(long)room[100];
}

int main(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	if (pthread_attr_setstacksize(&a, 32 * 1024) != 0)
		return 2;
	int ok = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_t t;
		void *r;
		if (pthread_create(&t, &a, body, NULL) != 0)
			break;
		if (pthread_join(t, &r) == 0 && r == (void *)1L)
			ok++;
	}
	printf("threads %d %s\n", ok, ok == THREADS ? "ok" : "failed");
	return ok == THREADS ? 0 : 1;
}
