//go:build race

package edge

// timeoutScale stretches the short timeouts that timeout tests give the
// edge: under the race detector the edge runs several times slower (more
// on a shared two-core machine), and such a test checks that a timeout
// fires and what it cuts, not how short it can be.
const timeoutScale = 10
