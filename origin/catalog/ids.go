package catalog

import (
	"crypto/rand"
	"encoding/binary"
	"math"
	"regexp"
	"time"
)

// IDs sort newest first: ten characters of the inverted creation time in
// milliseconds (50 bits: good for 35,000 years), then six random ones (30
// bits), in base32hex (0-9a-v), whose character order is byte order. S3
// lists keys in byte order, so listing videos/ yields the newest video
// first with no index of our own.
const idAlphabet = "0123456789abcdefghijklmnopqrstuv"

// idPattern is what an ID looks like; anything else is refused before it
// comes near a key.
var idPattern = regexp.MustCompile(`^[0-9a-v]{16}$`)

// NewID returns a fresh video ID for time now.
func NewID(now time.Time) string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	inverted := uint64(math.MaxInt64-now.UnixMilli()) & (1<<50 - 1)
	random := binary.BigEndian.Uint64(rnd[:]) & (1<<30 - 1)
	var id [16]byte
	for i := 9; i >= 0; i-- {
		id[i] = idAlphabet[inverted&31]
		inverted >>= 5
	}
	for i := 15; i >= 10; i-- {
		id[i] = idAlphabet[random&31]
		random >>= 5
	}
	return string(id[:])
}

// ValidID reports whether s has the shape of an ID.
func ValidID(s string) bool { return idPattern.MatchString(s) }
