package fastpath

import (
	"fmt"
	"io"
	"os"
	"time"
)

// A large body whose owner also has it in a file (Answer.File) is sent
// from the file with sendfile, the way nginx sends from its cache files:
// the kernel then sends page-cache pages instead of copying the bytes
// from memory into the socket first, and that copy is most of the CPU a
// 1 MiB answer costs (perf: 40% in _copy_from_iter).
//
// The file is checked for length on open; if it is gone or cannot be
// opened, the answer is written from memory as usual. The head and the
// first sendfileLead bytes still go out in one writev from memory, so
// the header never travels alone (on loopback a lone header costs the
// client an extra wake-up per answer); the rest follows in writeChunk
// pieces, the write deadline pushed forward before each.

// sendfileLead is how much of the body goes with the head. An Answerer
// should offer a File only for bodies well above it (the edge: 256 KiB
// and more, below which opening the file costs about what the copy it
// saves does).
const sendfileLead = 64 << 10

// openFile opens a's File, or returns nil to write the body from memory:
// no file, a body too short for it, a connection sendfile cannot write
// to, a file gone meanwhile, or a file of the wrong length (a.FileErr
// says so, for its owner to drop it).
func (fc *conn) openFile(a *Answer) *os.File {
	if a.File.Path == "" || len(a.Body) <= sendfileLead {
		return nil
	}
	if _, ok := fc.conn.(io.ReaderFrom); !ok {
		return nil
	}
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

// sendFromFile sends the head and the first sendfileLead bytes of the
// body from memory, then the rest from f. It returns the body bytes sent.
func (fc *conn) sendFromFile(f *os.File, a *Answer) (int64, error) {
	lead := a.Body[:sendfileLead]
	fc.iov[0], fc.iov[1] = a.Head, lead
	fc.out = fc.iov[:]
	n, err := fc.out.WriteTo(fc.conn)
	fc.iov[0], fc.iov[1] = nil, nil
	sent := max(0, n-int64(len(a.Head)))
	if err != nil {
		return sent, err
	}
	if _, err := f.Seek(a.File.Offset+sent, io.SeekStart); err != nil {
		return sent, err
	}
	a.FromFile = true
	rf := fc.conn.(io.ReaderFrom)
	for total := int64(len(a.Body)); sent < total; {
		chunk := min(total-sent, writeChunk)
		fc.conn.SetWriteDeadline(deadlineAfter(time.Now(), fc.fs.cfg.WriteTimeout))
		fc.lr.R, fc.lr.N = f, chunk
		m, err := rf.ReadFrom(&fc.lr)
		sent += m
		if err != nil {
			return sent, err
		}
		if m < chunk {
			// The file ended early: the header is out, so all that is left
			// is to break the connection (the caller does) and drop it.
			a.FileErr = fmt.Errorf("%w: %s ended early", ErrCorruptFile, a.File.Path)
			return sent, a.FileErr
		}
	}
	return sent, nil
}
