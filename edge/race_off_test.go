//go:build !race

package edge

// timeoutScale: see race_on_test.go.
const timeoutScale = 1
