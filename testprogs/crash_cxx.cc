// An uncaught C++ exception: parse_number throws two calls below main and
// nothing catches it, so std::terminate prints the exception and aborts.
#include <cstdio>
#include <stdexcept>
#include <string>

__attribute__((noinline)) static long parse_number(const std::string &text)
{
	for (char ch : text)
		if (ch < '0' || ch > '9')
			throw std::runtime_error("boom: not a number");
	return std::stol(text);
}

__attribute__((noinline)) static long read_setting(const std::string &value)
{
	return parse_number(value) * 2;
}

int main()
{
	std::printf("port %ld\n", read_setting("8080"));
	std::fflush(stdout);
	return read_setting("eighty") == 0;
}
