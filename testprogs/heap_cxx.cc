// C++ allocations: leaks through operator new and new[], and frees that do
// not match the allocation (valgrind's "Mismatched free() / delete /
// delete []"). Built with g++ -O0 -g.
// Usage: heap_cxx MODE
//   new_leak                make_widget: new Widget (48 bytes), leaked
//   array_leak              make_array: new int[25] (100 bytes), leaked
//   mismatch_free           make_widget's block released with free() in release_with_free
//   mismatch_array          make_array's block released with delete (not delete[])
//                           in release_with_delete
//   mismatch_malloc_delete  malloc(32) in make_raw, released with delete in release_raw
// glibc does not notice any of the mismatches: operator new and new[] are
// malloc underneath, the types have no destructor (no array cookie), so the
// pointer freed is the one malloc returned, and each mode exits 0.
// Lines marked "@alloc MODE" / "@free MODE" are the calls the report must name.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "scrub.h"

struct Widget {
	long id;
	double weight;
	char name[32];
};                                  // 48 bytes, trivially destructible

static_assert(sizeof(Widget) == 48, "Widget is 48 bytes");

__attribute__((noinline)) static Widget *make_widget()
{
	Widget *w = new Widget; // @alloc new
	w->id = 7;
	w->weight = 1.5;
	std::memset(w->name, 'w', sizeof(w->name));
	return w;
}

__attribute__((noinline)) static int *make_array()
{
	int *a = new int[25]; // @alloc array
	for (int i = 0; i < 25; i++)
		a[i] = i;
	return a;
}

__attribute__((noinline)) static void *make_raw()
{
	void *p = std::malloc(32); // @alloc raw
	std::memset(p, 'r', 32);
	return p;
}

__attribute__((noinline)) static void leak_widget()
{
	Widget *w = make_widget();
	w->id++;
}

__attribute__((noinline)) static void leak_array()
{
	int *a = make_array();
	a[0]++;
}

__attribute__((noinline)) static void release_with_free(Widget *w)
{
	std::free(w); // @free mismatch_free
}

__attribute__((noinline)) static void release_with_delete(int *a)
{
	delete a; // @free mismatch_array
}

__attribute__((noinline)) static void release_raw(void *p)
{
	delete static_cast<char *>(p); // @free mismatch_malloc_delete
}

__attribute__((noinline)) static int run_mode(const char *mode)
{
	if (std::strcmp(mode, "new_leak") == 0)
		leak_widget();
	else if (std::strcmp(mode, "array_leak") == 0)
		leak_array();
	else if (std::strcmp(mode, "mismatch_free") == 0)
		release_with_free(make_widget());
	else if (std::strcmp(mode, "mismatch_array") == 0)
		release_with_delete(make_array());
	else if (std::strcmp(mode, "mismatch_malloc_delete") == 0)
		release_raw(make_raw());
	else {
		std::fprintf(stderr, "heap_cxx: unknown mode %s\n", mode);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: heap_cxx new_leak|array_leak|mismatch_free|mismatch_array|"
			     "mismatch_malloc_delete\n");
		return 2;
	}
	if (run_mode(argv[1]) != 0)
		return 2;
	scrub();
	return 0;
}
