//go:build !race

package origin_test

// raceDetector says the tests run under -race.
const raceDetector = false
