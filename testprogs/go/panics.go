// A goroutine's panic: Go prints "panic: ..." and then every goroutine's
// stack, so the line that says what went wrong is far from the last one.
package main

import (
	"fmt"
	"os"
)

func lookup(table []int, i int) int {
	return table[i]
}

func main() {
	done := make(chan bool)
	for i := 0; i < 3; i++ {
		go func() { <-done }()
	}
	fmt.Println("looking up")
	fmt.Println(lookup([]int{1, 2, 3}, len(os.Args)+4))
}
