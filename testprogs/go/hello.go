// Hello world: a Go program starts several threads (the runtime's) and
// exits 0 while they still run; none of that is a crash.
package main

import "fmt"

func main() {
	fmt.Println("hello from go")
}
