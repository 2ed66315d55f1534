package fastpath

import (
	"os"
	"syscall"
)

// canSendfile: sendHead and sendFileRange work here.
const canSendfile = true

// sendHead writes head to the socket with MSG_MORE, so the kernel keeps
// it until the body follows (sendfile.go). It waits, within the write
// deadline, while the socket's buffer is full.
func sendHead(sock syscall.RawConn, head []byte) error {
	var err error
	werr := sock.Write(func(fd uintptr) bool {
		for len(head) > 0 {
			n, e := syscall.SendmsgN(int(fd), head, nil, nil, syscall.MSG_MORE|syscall.MSG_NOSIGNAL)
			switch e {
			case nil:
				head = head[n:]
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until writable
			default:
				err = os.NewSyscallError("sendmsg", e)
				return true
			}
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return err
}

// sendFileRange sends n bytes of the file fd, from offset off, to the
// socket with sendfile, waiting within the write deadline while the
// socket's buffer is full. It returns fewer than n bytes and no error
// when the file ends first.
func sendFileRange(sock syscall.RawConn, fd int, off, n int64) (int64, error) {
	var sent int64
	var err error
	werr := sock.Write(func(sfd uintptr) bool {
		for sent < n {
			pos := off + sent
			m, e := syscall.Sendfile(int(sfd), fd, &pos, int(n-sent))
			switch {
			case e == nil && m == 0:
				return true // the file ended
			case e == nil:
				sent += int64(m)
			case e == syscall.EINTR:
			case e == syscall.EAGAIN:
				return false // wait until writable
			default:
				err = os.NewSyscallError("sendfile", e)
				return true
			}
		}
		return true
	})
	if werr != nil {
		return sent, werr
	}
	return sent, err
}
