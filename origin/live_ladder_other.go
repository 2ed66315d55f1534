//go:build !linux

package origin

import "syscall"

// ladderProcAttr: elsewhere than Linux a live ladder's ffmpeg is not tied
// to its worker's life; it ends with the broadcast's feed.
func ladderProcAttr() *syscall.SysProcAttr { return nil }
