// Threads that throw and catch exceptions, one left blocked when main
// returns: a clean C++ run, no crash, exit status as asked.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>


static int work(int id)
{
	int caught = 0;
	for (int i = 0; i < 200; i++) {
		try {
			if (i % 3 == 0)
				throw std::runtime_error("step " + std::to_string(i) + " of " + std::to_string(id));
			std::vector<int> v(16, i);
			(void)v.at(static_cast<size_t>(i % 20)); // throws std::out_of_range past 15
		} catch (const std::exception &) {
			caught++;
		}
	}
	return caught;
}

int main(int argc, char **argv)
{
	int code = argc > 1 ? std::atoi(argv[1]) : 0;
	// (not a condition variable: destroying one with a waiter blocks in glibc)
	std::thread parked([] { std::this_thread::sleep_for(std::chrono::hours(1)); });
	parked.detach();
	std::vector<std::thread> ts;
	std::vector<int> caught(4);
	for (int i = 0; i < 4; i++)
		ts.emplace_back([i, &caught] { caught[static_cast<size_t>(i)] = work(i); });
	for (auto &t : ts)
		t.join();
	int total = 0;
	for (int c : caught)
		total += c;
	std::printf("caught %d exceptions\n", total);
	return code;
}
