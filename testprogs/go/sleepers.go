// Goroutines that sleep in turn: the runtime parks its threads with timed
// futex waits, and many of them end in ETIMEDOUT. A tracer that lists
// those as failures lists every Go program's timers.
package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			for k := 0; k < 5; k++ {
				time.Sleep(time.Duration(2+n) * time.Millisecond)
			}
		}(i)
	}
	wg.Wait()
	fmt.Println("slept")
}
