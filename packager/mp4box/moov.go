package mp4box

import (
	"encoding/binary"
	"fmt"
	"math"
)

// trakPath lists the containers from moov down to a sample table.
var containers = map[string]bool{"trak": true, "mdia": true, "minf": true, "stbl": true}

// ShiftChunkOffsets adds delta to every chunk offset (stco and co64) in a
// raw moov box (header included), in place. It is how a moov written after
// the media moves in front of it without touching the media: the media
// shifts by the moov's size, so every offset into it does too. It fails,
// changing nothing, when a 32-bit offset would overflow.
func ShiftChunkOffsets(moov []byte, delta int64) error {
	tables, err := chunkTables(moov)
	if err != nil {
		return err
	}
	// Check everything before writing anything.
	for _, t := range tables {
		for i := 0; i < t.count; i++ {
			if t.wide {
				v := binary.BigEndian.Uint64(t.data[8*i:])
				if int64(v)+delta < 0 || v > math.MaxInt64/2 {
					return fmt.Errorf("%w: co64 offset %d cannot move by %d", ErrBadBox, v, delta)
				}
			} else {
				v := int64(binary.BigEndian.Uint32(t.data[4*i:])) + delta
				if v < 0 || v > math.MaxUint32 {
					return fmt.Errorf("%w: stco offset overflows 32 bits after moving by %d", ErrBadBox, delta)
				}
			}
		}
	}
	for _, t := range tables {
		for i := 0; i < t.count; i++ {
			if t.wide {
				v := binary.BigEndian.Uint64(t.data[8*i:])
				binary.BigEndian.PutUint64(t.data[8*i:], uint64(int64(v)+delta))
			} else {
				v := binary.BigEndian.Uint32(t.data[4*i:])
				binary.BigEndian.PutUint32(t.data[4*i:], uint32(int64(v)+delta))
			}
		}
	}
	return nil
}

type chunkTable struct {
	data  []byte // the entries
	count int
	wide  bool // co64
}

func chunkTables(moov []byte) ([]chunkTable, error) {
	top, err := Children(moov, 0)
	if err != nil || len(top) != 1 || top[0].Type != "moov" {
		return nil, fmt.Errorf("%w: not a moov box", ErrBadBox)
	}
	var tables []chunkTable
	var walk func(b Box, depth int) error
	walk = func(b Box, depth int) error {
		body := payload(moov, 0, b)
		kids, err := Children(body, b.Offset+b.Header)
		if err != nil {
			return err
		}
		for _, k := range kids {
			switch {
			case containers[k.Type] && depth < 4:
				if err := walk(k, depth+1); err != nil {
					return err
				}
			case k.Type == "stco" || k.Type == "co64":
				p := payload(moov, 0, k)
				if len(p) < 8 {
					return fmt.Errorf("%w: short %s", ErrBadBox, k.Type)
				}
				n := int(binary.BigEndian.Uint32(p[4:8]))
				width := 4
				if k.Type == "co64" {
					width = 8
				}
				if n < 0 || n > (len(p)-8)/width {
					return fmt.Errorf("%w: %s declares %d entries in %d bytes", ErrBadBox, k.Type, n, len(p))
				}
				tables = append(tables, chunkTable{data: p[8:], count: n, wide: width == 8})
			}
		}
		return nil
	}
	if err := walk(top[0], 0); err != nil {
		return nil, err
	}
	return tables, nil
}

// Rotations returns, for each trak in a raw moov box in order, the display
// rotation its tkhd matrix asks for, in degrees clockwise (0, 90, 180, 270).
// Phones record portrait video as landscape with such a matrix.
func Rotations(moov []byte) ([]int, error) {
	top, err := Children(moov, 0)
	if err != nil || len(top) != 1 || top[0].Type != "moov" {
		return nil, fmt.Errorf("%w: not a moov box", ErrBadBox)
	}
	traks, err := Children(payload(moov, 0, top[0]), top[0].Offset+top[0].Header)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, t := range traks {
		if t.Type != "trak" {
			continue
		}
		kids, err := Children(payload(moov, 0, t), t.Offset+t.Header)
		if err != nil {
			return nil, err
		}
		rot := 0
		for _, k := range kids {
			if k.Type == "tkhd" {
				rot = tkhdRotation(payload(moov, 0, k))
			}
		}
		out = append(out, rot)
	}
	return out, nil
}

// tkhdRotation reads the matrix {a b u; c d v; x y w} of a tkhd body.
func tkhdRotation(p []byte) int {
	// version(1) flags(3), then times/ids/duration: 20 bytes (v0) or 32 (v1),
	// then reserved(8) layer(2) group(2) volume(2) reserved(2): 16 bytes.
	if len(p) < 4 {
		return 0
	}
	off := 4 + 20 + 16
	if p[0] == 1 {
		off = 4 + 32 + 16
	}
	if len(p) < off+36 {
		return 0
	}
	m := func(i int) int32 { return int32(binary.BigEndian.Uint32(p[off+4*i:])) }
	a, b := m(0), m(1)
	const one = 1 << 16
	switch {
	case a == 0 && b == one:
		return 90
	case a == -one && b == 0:
		return 180
	case a == 0 && b == -one:
		return 270
	}
	return 0
}
