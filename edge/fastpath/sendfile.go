package fastpath

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// A body whose owner also has it in a file (Answer.File) is sent from the
// file with sendfile, as nginx sends from its cache files: the kernel then
// queues the page cache's pages instead of first copying the body from
// memory into the socket, and that copy is most of what a large answer
// costs the edge (perf: 40% of a 1 MiB answer in _copy_from_iter; for a
// 100 KiB one the copy and the scheduling around a long writev).
//
// The head goes first, with MSG_MORE — what nginx's tcp_nopush does with
// TCP_CORK, without its two setsockopt calls: the kernel holds the head
// until the body follows, so it leaves in the same segment as the body's
// start instead of alone (on loopback a lone header costs the client an
// extra wake-up per answer). Then the whole body goes with sendfile at
// explicit offsets, so one open file may serve many connections at once
// (File.Open, kept open by its owner) and nothing seeks; the last piece
// goes without MSG_MORE, which pushes everything out. A body longer than
// writeChunk goes in writeChunk pieces, the write deadline pushed forward
// before each further piece, as write does.
//
// Without File.Open the file is opened per answer and its length checked;
// if it is gone or cannot be opened, the answer is written from memory as
// usual. If the file ends early after the head is out, the rest of the
// body is written from memory (Body holds the same bytes), so the answer
// is whole either way, and FileErr tells the owner to drop the file.
// Only TCP connections on Linux are sent to this way (sendfile_linux.go).

// sendFile writes a's head and body, the body from a.File, when it can
// (ok); otherwise it writes nothing and the caller writes the answer from
// memory. sent is the body bytes sent.
func (fc *conn) sendFile(a *Answer) (sent int64, ok bool, err error) {
	if len(a.Body) == 0 || (a.File.Open == nil && a.File.Path == "") {
		return 0, false, nil
	}
	sock := fc.rawSocket()
	if sock == nil {
		return 0, false, nil
	}
	f := a.File.Open
	if f == nil {
		if f = openFile(a); f == nil {
			return 0, false, nil
		}
		defer f.Close()
	}
	rf, rerr := f.SyscallConn()
	if rerr != nil {
		return 0, false, nil
	}
	// Control holds the descriptor while it runs: an owner that closes
	// the file meanwhile cannot have its number reused under sendfile.
	// It fails, running nothing, on a file already closed.
	_ = rf.Control(func(fd uintptr) {
		ok = true
		sent, err = fc.sendFrom(sock, int(fd), a)
	})
	return sent, ok, err
}

// sendFrom sends a's head, then its body from the file fd.
func (fc *conn) sendFrom(sock syscall.RawConn, fd int, a *Answer) (int64, error) {
	if err := sendHead(sock, a.Head); err != nil {
		return 0, err
	}
	a.FromFile = true
	var sent int64
	for total := int64(len(a.Body)); sent < total; {
		if sent > 0 {
			fc.conn.SetWriteDeadline(deadlineAfter(time.Now(), fc.fs.cfg.WriteTimeout))
		}
		chunk := min(total-sent, writeChunk)
		n, err := sendFileRange(sock, fd, a.File.Offset+sent, chunk)
		sent += n
		if err != nil {
			return sent, err
		}
		if n < chunk {
			// The file ended early. The head is out; memory holds the
			// same bytes, so the answer still ends whole.
			a.FileErr = fmt.Errorf("%w: %s ended early", ErrCorruptFile, a.File.Path)
			m, err := fc.write(nil, a.Body[sent:])
			return sent + m, err
		}
	}
	return sent, nil
}

// openFile opens a's File by its path, or returns nil to write the body
// from memory: a file gone meanwhile, or one of the wrong length (a.FileErr
// says so, for its owner to drop it).
func openFile(a *Answer) *os.File {
	f, err := os.Open(a.File.Path)
	if err != nil {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Size() != a.File.Size {
		f.Close()
		if err == nil {
			a.FileErr = fmt.Errorf("%w: %s is %d bytes, header says %d", ErrCorruptFile, a.File.Path, st.Size(), a.File.Size)
		}
		return nil
	}
	return f
}

// rawSocket is the connection's socket for sendHead and sendFileRange,
// or nil when it is not a TCP socket they can write to.
func (fc *conn) rawSocket() syscall.RawConn {
	if !fc.rawChecked {
		fc.rawChecked = true
		if tc, ok := fc.conn.(*net.TCPConn); ok && canSendfile {
			if rc, err := tc.SyscallConn(); err == nil {
				fc.raw = rc
			}
		}
	}
	return fc.raw
}
