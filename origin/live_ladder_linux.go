package origin

import "syscall"

// ladderProcAttr makes the kernel kill a live ladder's ffmpeg when its
// worker dies (kill -9, out of memory): an orphan would go on publishing
// the rungs and keep the worker that takes the job over from publishing
// them. (The signal follows the OS thread that started ffmpeg; Go's
// runtime does not end threads of goroutines that did not lock them.)
func ladderProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
