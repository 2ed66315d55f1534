package mp4box

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Box is one box's position.
type Box struct {
	Type   string
	Offset int64 // of the header
	Size   int64 // header + payload
	Header int64 // header length: 8, or 16 with a 64-bit size
}

// End is the offset just after the box.
func (b Box) End() int64 { return b.Offset + b.Size }

// Errors of the walkers.
var (
	// ErrNotMP4 means the bytes do not start like an ISO-BMFF file.
	ErrNotMP4 = errors.New("not an MP4/MOV file")
	// ErrBadBox means a box header is malformed.
	ErrBadBox = errors.New("malformed box")
)

// TruncatedError says the file ends inside a box.
type TruncatedError struct {
	Box      Box   // the box as its header declares it
	FileSize int64 // where the file actually ends
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("file ends at byte %d inside box %q that should end at byte %d", e.FileSize, e.Box.Type, e.Box.End())
}

// topLevel lists the box types that may start or appear at the top of an
// MP4 or QuickTime file; anything else first means it is not one.
var topLevel = map[string]bool{
	"ftyp": true, "moov": true, "mdat": true, "free": true, "skip": true, "wide": true,
	"pnot": true, "uuid": true, "meta": true, "styp": true, "sidx": true, "moof": true,
	"mfra": true, "pdin": true, "prft": true, "emsg": true, "junk": true, "PICT": true,
}

// maxTopBoxes bounds the scan: real files have a handful of top-level
// boxes, fragmented ones a few per second of media.
const maxTopBoxes = 1 << 20

// ScanTop lists the top-level boxes of a file of the given size. If the
// last box runs past the end, the boxes before it are returned with a
// *TruncatedError.
func ScanTop(r io.ReaderAt, size int64) ([]Box, error) {
	var boxes []Box
	var hdr [16]byte
	for off := int64(0); off < size; {
		if len(boxes) >= maxTopBoxes {
			return boxes, fmt.Errorf("%w: more than %d top-level boxes", ErrBadBox, maxTopBoxes)
		}
		n := min(int64(len(hdr)), size-off)
		if n < 8 {
			return boxes, &TruncatedError{Box: Box{Type: "?", Offset: off, Size: 8, Header: 8}, FileSize: size}
		}
		if _, err := r.ReadAt(hdr[:n], off); err != nil && !(errors.Is(err, io.EOF) && n < 16) {
			return boxes, fmt.Errorf("read box header at %d: %w", off, err)
		}
		b, err := parseHeader(hdr[:n], off, size)
		if err != nil {
			if len(boxes) == 0 {
				return nil, ErrNotMP4
			}
			return boxes, err
		}
		if len(boxes) == 0 && !topLevel[b.Type] {
			return nil, ErrNotMP4
		}
		if b.End() > size {
			return boxes, &TruncatedError{Box: b, FileSize: size}
		}
		boxes = append(boxes, b)
		off = b.End()
	}
	if len(boxes) == 0 {
		return nil, ErrNotMP4
	}
	return boxes, nil
}

// parseHeader decodes a box header at off; limit is where the enclosing
// space ends (a size of 0 means "to the end").
func parseHeader(h []byte, off, limit int64) (Box, error) {
	if len(h) < 8 {
		return Box{}, fmt.Errorf("%w: short header at %d", ErrBadBox, off)
	}
	size := int64(binary.BigEndian.Uint32(h))
	typ := string(h[4:8])
	for _, c := range []byte(typ) {
		if c < 0x20 || c > 0x7e {
			return Box{}, fmt.Errorf("%w: unprintable type at %d", ErrBadBox, off)
		}
	}
	b := Box{Type: typ, Offset: off, Header: 8}
	switch size {
	case 0:
		b.Size = limit - off
	case 1:
		if len(h) < 16 {
			return Box{}, fmt.Errorf("%w: short 64-bit header at %d", ErrBadBox, off)
		}
		large := binary.BigEndian.Uint64(h[8:16])
		if large > 1<<62 {
			return Box{}, fmt.Errorf("%w: %q declares %d bytes", ErrBadBox, typ, large)
		}
		b.Size, b.Header = int64(large), 16
	default:
		b.Size = size
	}
	if b.Size < b.Header {
		return Box{}, fmt.Errorf("%w: %q at %d is smaller than its header", ErrBadBox, typ, off)
	}
	return b, nil
}

// Children lists the boxes inside payload, a container's body held in
// memory. base is the payload's offset in whatever the caller measures
// (Box.Offset values are base-relative).
func Children(payload []byte, base int64) ([]Box, error) {
	var boxes []Box
	for off := int64(0); off < int64(len(payload)); {
		b, err := parseHeader(payload[off:min(off+16, int64(len(payload)))], off, int64(len(payload)))
		if err != nil {
			return nil, err
		}
		if b.End() > int64(len(payload)) {
			return nil, fmt.Errorf("%w: %q overruns its container", ErrBadBox, b.Type)
		}
		boxes = append(boxes, b)
		off = b.End()
	}
	for i := range boxes {
		boxes[i].Offset += base
	}
	return boxes, nil
}

// payload returns b's body within buf, where buf starts at offset base.
func payload(buf []byte, base int64, b Box) []byte {
	return buf[b.Offset-base+b.Header : b.End()-base]
}
