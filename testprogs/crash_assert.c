/* Fails an assert(): glibc prints the message and aborts. */
#include <assert.h>
#include <stdio.h>

__attribute__((noinline)) static void check_balance(int balance)
{
	assert(balance >= 0 && "balance must never go negative");
}

int main(void)
{
	check_balance(10);
	check_balance(-5);
	return 0;
}
