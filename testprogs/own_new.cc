// A program that replaces the global operator new (its own copy, calling
// malloc) but not delete: libstdc++'s operator delete frees those blocks.
// Every new/delete here is a matched pair; etrace sees malloc (called from
// this file's operator new) and operator delete, and must not call that a
// mismatched free. "mismatch" adds a real one: malloc'd in main, deleted.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

void *operator new(std::size_t n)
{
	void *p = std::malloc(n ? n : 1);
	if (!p)
		throw std::bad_alloc();
	return p;
}

__attribute__((noinline)) static int *make_raw()
{
	return static_cast<int *>(std::malloc(sizeof(int)));
}

int main(int argc, char **argv)
{
	for (int i = 0; i < 50; i++) {
		long *x = new long(i);
		std::string *s = new std::string(100, 'x');
		delete s;
		delete x;
	}
	if (argc > 1 && std::strcmp(argv[1], "mismatch") == 0)
		delete make_raw();   // a real mismatched free
	return 0;
}
