package edge

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Large memory hits that the disk tier also holds are sent from the disk
// copy with sendfile, the way nginx sends from its cache files: the
// kernel then sends page-cache pages instead of copying the bytes from
// the edge's memory into the socket first, and that copy is most of the
// CPU a 1 MiB answer costs (perf: 40% in _copy_from_iter).
//
// The disk copy is the same version: the memory item and the disk item
// share their *entry, which only a store of the same answer (or a
// promotion of the disk copy into memory) gives them. Its file is checked
// for length on open, as for every disk hit; if it is gone or cannot be
// opened, the answer is written from memory as usual. The head and the
// first fastSendfileLead bytes still go out in one writev from memory, so
// the header never travels alone (on loopback a lone header costs the
// client an extra wake-up per answer); the rest follows in
// bodyWriteChunk pieces, the write deadline pushed forward before each.

const (
	// fastSendfileMin is the smallest body sent from the disk copy: below
	// it, opening the file costs about what the copy it saves does.
	fastSendfileMin = 256 << 10
	// fastSendfileLead is how much of the body goes with the head.
	fastSendfileLead = 64 << 10
)

// diskCopyFor returns the disk item that holds the same version as the
// memory item's entry m, when a body of n bytes is worth sending from it.
func (e *Edge) diskCopyFor(key string, m *entry, n int) *diskItem {
	if e.disk == nil || n < fastSendfileMin {
		return nil
	}
	if di, ok := e.disk.get(key); ok && di.meta == m {
		return di
	}
	return nil
}

// openDiskCopy opens the disk copy of a's body, or returns nil to write it
// from memory: no copy, a connection sendfile cannot write to, a file
// evicted meanwhile, or a file of the wrong length (dropped, as a disk hit
// would drop it).
func (fc *fastConn) openDiskCopy(a *fastAnswer) *os.File {
	if a.disk == nil {
		return nil
	}
	if _, ok := fc.conn.(io.ReaderFrom); !ok {
		return nil
	}
	f, err := os.Open(a.disk.file.path)
	if err != nil {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Size() != a.disk.file.size {
		f.Close()
		if err == nil {
			fc.e.disk.drop(a.disk, fmt.Errorf("%w: %s is %d bytes, header says %d", errCorrupt, a.disk.file.path, st.Size(), a.disk.file.size))
		}
		return nil
	}
	return f
}

// sendFromFile sends the head and the first fastSendfileLead bytes of body
// from memory, then the rest of body from f, which holds the body of the
// object at a.disk.bodyOffset; body starts at a.offset in the object. It
// returns the body bytes sent.
func (fc *fastConn) sendFromFile(f *os.File, a *fastAnswer) (int64, error) {
	lead := a.body[:fastSendfileLead]
	fc.iov[0], fc.iov[1] = fc.head, lead
	fc.out = fc.iov[:]
	n, err := fc.out.WriteTo(fc.conn)
	fc.iov[0], fc.iov[1] = nil, nil
	sent := max(0, n-int64(len(fc.head)))
	if err != nil {
		return sent, err
	}
	if _, err := f.Seek(a.disk.bodyOffset+a.offset+sent, io.SeekStart); err != nil {
		return sent, err
	}
	fc.e.fastSendfiles.Add(1)
	rf := fc.conn.(io.ReaderFrom)
	for total := int64(len(a.body)); sent < total; {
		chunk := min(total-sent, bodyWriteChunk)
		fc.conn.SetWriteDeadline(deadlineAfter(time.Now(), fc.e.cfg.WriteTimeout))
		fc.lr.R, fc.lr.N = f, chunk
		m, err := rf.ReadFrom(&fc.lr)
		sent += m
		if err != nil {
			return sent, err
		}
		if m < chunk {
			// The file ended early: the header is out, so all that is left
			// is to break the connection (the caller does) and drop it.
			fc.e.disk.drop(a.disk, io.ErrUnexpectedEOF)
			return sent, fmt.Errorf("disk tier: %s shorter than its header: %w", a.disk.meta.key, errCorrupt)
		}
	}
	return sent, nil
}
