// A C++ leak whose allocation stack has namespaces, a class template and an
// overloaded function, so the report must show demangled names
// ("inventory::Pool<Item>::grow(unsigned long)"), from a thread that also
// throws and catches an exception. Usage: cxx_leak leak|clean
//   leak   a worker thread runs fill(): Pool<Item>::grow makes new Item[4]
//          (4 x 40 = 160 bytes) that is never deleted; a std::runtime_error
//          thrown and caught on the way. 160 bytes in 1 block definitely
//          lost (operator new[]), exit 0.
//   clean  the same, with the array deleted: nothing lost.
// The "@alloc grow" line is the allocation the report must name.
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "scrub.h"

namespace inventory {

struct Item {
	long id;
	char label[32];
};  // 40 bytes, trivially destructible: new[] adds no cookie

template <typename T> class Pool {
public:
	__attribute__((noinline)) T *grow(unsigned long n)
	{
		T *fresh = new T[n]; // @alloc grow
		std::memset(fresh, 0, n * sizeof(T));
		return fresh;
	}
};

__attribute__((noinline)) static void check(int v)
{
	if (v > 2)
		throw std::runtime_error("too many");
}

__attribute__((noinline)) static void fill(bool keep)
{
	Pool<Item> pool;
	Item *items = pool.grow(4);
	try {
		check(3);
	} catch (const std::exception &e) {
		items[0].id = (long)std::strlen(e.what());
	}
	if (!keep)
		delete[] items;
}

} // namespace inventory

int main(int argc, char **argv)
{
	if (argc < 2 || (std::strcmp(argv[1], "leak") != 0 && std::strcmp(argv[1], "clean") != 0)) {
		std::fprintf(stderr, "usage: cxx_leak leak|clean\n");
		return 2;
	}
	bool leak = std::strcmp(argv[1], "leak") == 0;
	std::thread t([leak] {
		inventory::fill(leak);
		scrub();
	});
	t.join();
	scrub();
	return 0;
}
