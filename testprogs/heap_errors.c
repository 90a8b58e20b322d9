/* Frees the allocator must refuse, and what glibc (2.36) does about each.
 * Prints the addresses involved ("block 0x...", "free 0x...") before the
 * bad call, and "survived" when it returns from it. Usage: heap_errors MODE
 *   double_free       make_block: malloc(64); first_release frees it,
 *                     second_release frees it again. glibc finds it in the
 *                     tcache: "free(): double free detected in tcache 2",
 *                     abort (SIGABRT).
 *   invalid_stack     free_stack_array frees the address of a stack array
 *                     (the 16 bytes before it zeroed, like a chunk header
 *                     of size 0): "free(): invalid pointer", abort.
 *   invalid_interior  make_block: malloc(64), zero-filled; free_interior
 *                     frees p + 16. glibc reads the chunk size from the
 *                     block's own bytes p[8..15] (zero):
 *                     "free(): invalid pointer", abort.
 *   realloc_freed     make_block: malloc(64); first_release frees it,
 *                     realloc_stale reallocs the freed pointer to 128 bytes.
 *                     glibc does not notice (the chunk still looks in use:
 *                     the tcache keeps the in-use bit) and returns a block
 *                     (grown in place into the top chunk, same address
 *                     here); prints "realloc 0x..." and exits 0. The
 *                     result is kept in a global (still reachable).
 * Lines marked "@alloc", "@free MODE" are the calls the report must name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the bad frees are the point: gcc sees two of them */
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"

void *kept;

/* One line "WHAT 0x..." on stdout with write(): stdio would malloc its
 * buffer and change the heap next to the blocks under test. */
static void say(const char *what, const void *addr)
{
	char line[64];
	int n = addr ? snprintf(line, sizeof(line), "%s %p\n", what, addr)
		     : snprintf(line, sizeof(line), "%s\n", what);
	if (write(1, line, (size_t)n) != n)
		exit(3);
}

__attribute__((noinline)) static char *make_block(void)
{
	char *p = malloc(64); /* @alloc */
	memset(p, 0, 64);
	say("block", p);
	return p;
}

__attribute__((noinline)) static void first_release(char *p)
{
	free(p); /* @free first */
}

__attribute__((noinline)) static void second_release(char *p)
{
	free(p); /* @free double_free */
}

__attribute__((noinline)) static void free_stack_array(void)
{
	/* hdr: what glibc reads as the chunk header (prev_size, size) */
	struct {
		size_t hdr[2];
		char data[64];
	} frame;
	memset(&frame, 0, sizeof(frame));
	say("free", frame.data);
	free(frame.data); /* @free invalid_stack */
}

__attribute__((noinline)) static void free_interior(char *p)
{
	say("free", p + 16);
	free(p + 16); /* @free invalid_interior */
}

__attribute__((noinline)) static void realloc_stale(char *p)
{
	kept = realloc(p, 128); /* @free realloc_freed */
	say("realloc", kept);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "double_free") == 0) {
		char *p = make_block();
		first_release(p);
		second_release(p);
	} else if (strcmp(mode, "invalid_stack") == 0) {
		free_stack_array();
	} else if (strcmp(mode, "invalid_interior") == 0) {
		free_interior(make_block());
	} else if (strcmp(mode, "realloc_freed") == 0) {
		char *p = make_block();
		first_release(p);
		realloc_stale(p);
	} else {
		fprintf(stderr, "usage: heap_errors double_free|invalid_stack|invalid_interior|realloc_freed\n");
		return 2;
	}
	say("survived", NULL);
	return 0;
}
