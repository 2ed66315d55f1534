//go:build !linux

package fastpath

import (
	"errors"
	"syscall"
)

// canSendfile: elsewhere than Linux, bodies are written from memory.
const canSendfile = false

var errNoSendfile = errors.New("fast path: no sendfile on this system")

func sendHead(syscall.RawConn, []byte) error { return errNoSendfile }

func sendFileRange(syscall.RawConn, int, int64, int64) (int64, error) { return 0, errNoSendfile }
