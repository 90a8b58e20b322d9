// Goroutines on several threads, a channel, a mutex; main returns while
// some goroutines are still blocked, and exits with the code asked for.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	code := 0
	if len(os.Args) > 1 {
		code, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	results := make(chan int)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			sum := 0
			for k := 0; k < 100000; k++ {
				sum += k % (n + 1)
			}
			mu.Lock()
			total += sum
			mu.Unlock()
		}(i)
	}
	// these stay blocked until the process exits
	for i := 0; i < 4; i++ {
		go func() { <-results }()
	}
	go func() { time.Sleep(time.Hour) }()
	wg.Wait()
	fmt.Println("goroutines done", total > 0)
	os.Exit(code)
}
