package mpegts

import (
	"errors"
	"fmt"
	"io"
)

const (
	packetSize    = 188
	packetHeader  = 4
	packetPayload = packetSize - packetHeader
	syncByte      = 0x47

	streamIDVideo = 0xe0
	streamIDAudio = 0xc0
)

// errOverrun means more elementary stream bytes came than the plan made
// room for: Size would have lied, so writing stops.
var errOverrun = errors.New("mpegts: PES packet longer than planned")

// packetWriter cuts PES packets into transport packets, one 188-byte
// packet in memory at a time. The PES length is known when it starts, so
// each packet is laid out (adaptation field, stuffing) before its payload
// arrives, and payload is read straight into the packet.
type packetWriter struct {
	w   io.Writer
	pkt [packetSize]byte
	pos int // next payload byte of pkt; packetSize when there is no open packet

	pid  uint16
	cc   [2]byte // continuity counters of pidVideo and pidAudio
	left int64   // PES bytes still to place, including those of pkt
}

func newPacketWriter(w io.Writer) *packetWriter {
	return &packetWriter{w: w, pos: packetSize}
}

// begin starts the PES packet p on pid and writes its header.
func (pw *packetWriter) begin(p *pes, pid uint16) error {
	if pw.left != 0 {
		return fmt.Errorf("mpegts: PES packet started with %d bytes of the last one missing", pw.left)
	}
	pw.pid = pid
	pw.left = int64(p.headerLen()) + p.esLen
	pw.openPacket(true, p)
	var h [19]byte
	return pw.write(pesHeader(h[:0], p))
}

// end checks that the PES packet got exactly the planned bytes.
func (pw *packetWriter) end() error {
	if pw.left != 0 || pw.pos != packetSize {
		return fmt.Errorf("mpegts: PES packet %d bytes short of its plan", pw.left)
	}
	return nil
}

// openPacket lays out the next transport packet of the PES: header,
// adaptation field (the first packet's flags and PCR; stuffing when the PES
// ends in this packet), and leaves pos at its payload.
func (pw *packetWriter) openPacket(first bool, p *pes) {
	b := pw.pkt[:0]
	b = append(b, syncByte, byte(pw.pid>>8)&0x1f, byte(pw.pid))
	if first {
		b[1] |= 0x40 // payload_unit_start_indicator
	}
	ccp := &pw.cc[pw.pid-pidVideo]
	afLen := 0
	if first {
		afLen = p.adaptationLen()
	}
	stuffing := 0
	if room := int64(packetPayload - afLen); pw.left < room {
		stuffing = int(room - pw.left)
	}
	if afLen+stuffing == 0 {
		b = append(b, 0x10|*ccp) // payload only
	} else {
		b = append(b, 0x30|*ccp) // adaptation field and payload
		total := afLen + stuffing
		b = append(b, byte(total-1)) // adaptation_field_length
		if total > 1 {
			var flags byte
			if first && p.keyframe {
				flags |= 0x40 // random_access_indicator
			}
			if first && p.pcr {
				flags |= 0x10 // PCR_flag
			}
			b = append(b, flags)
			if first && p.pcr {
				b = appendPCR(b, p.dts-pcrLead)
			}
			for len(b) < packetHeader+total {
				b = append(b, 0xff)
			}
		}
	}
	*ccp = (*ccp + 1) & 0x0f
	pw.pos = len(b)
}

// flushPacket writes a full packet out and opens the next one if the PES
// goes on.
func (pw *packetWriter) flushPacket() error {
	if _, err := pw.w.Write(pw.pkt[:]); err != nil {
		return err
	}
	pw.pos = packetSize
	if pw.left > 0 {
		pw.openPacket(false, nil)
	}
	return nil
}

// room is how many payload bytes fit before the packet must be flushed.
func (pw *packetWriter) room() int { return packetSize - pw.pos }

// write places b in the PES.
func (pw *packetWriter) write(b []byte) error {
	if int64(len(b)) > pw.left {
		return errOverrun
	}
	for len(b) > 0 {
		n := copy(pw.pkt[pw.pos:], b)
		b = b[n:]
		if err := pw.advance(n); err != nil {
			return err
		}
	}
	return nil
}

// copyFrom places the next n bytes of r in the PES, reading them straight
// into the packet.
func (pw *packetWriter) copyFrom(r io.Reader, n int64) error {
	if n > pw.left {
		return errOverrun
	}
	for n > 0 {
		k := int(min(n, int64(pw.room())))
		if _, err := io.ReadFull(r, pw.pkt[pw.pos:pw.pos+k]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		n -= int64(k)
		if err := pw.advance(k); err != nil {
			return err
		}
	}
	return nil
}

// pad fills the rest of the PES with zero bytes (Annex B
// trailing_zero_8bits after the picture's last NAL unit).
func (pw *packetWriter) pad() error {
	for pw.left > 0 {
		k := int(min(pw.left, int64(pw.room())))
		clear(pw.pkt[pw.pos : pw.pos+k])
		if err := pw.advance(k); err != nil {
			return err
		}
	}
	return nil
}

func (pw *packetWriter) advance(n int) error {
	pw.pos += n
	pw.left -= int64(n)
	if pw.pos == packetSize {
		return pw.flushPacket()
	}
	return nil
}

// pesHeader appends the PES header of p: start code, stream ID, length,
// flags, PTS and (when it differs) DTS.
func pesHeader(b []byte, p *pes) []byte {
	id, align := byte(streamIDAudio), byte(0)
	if p.video {
		id, align = streamIDVideo, 0x04 // data_alignment_indicator: a picture starts here
	}
	length := int64(p.headerLen()) - 6 + p.esLen
	if length > maxPESLength {
		length = 0 // unbounded: video only (the plan keeps audio short)
	}
	b = append(b, 0, 0, 1, id, byte(length>>8), byte(length), 0x80|align)
	if p.dts != p.pts {
		b = append(b, 0xc0, 10)
		b = appendTimestamp(b, 0x3, p.pts)
		return appendTimestamp(b, 0x1, p.dts)
	}
	b = append(b, 0x80, 5)
	return appendTimestamp(b, 0x2, p.pts)
}

// appendTimestamp appends a 33-bit PTS or DTS with its 4-bit prefix and
// marker bits.
func appendTimestamp(b []byte, prefix byte, ts int64) []byte {
	v := uint64(ts) & (1<<33 - 1)
	return append(b,
		prefix<<4|byte(v>>29)&0x0e|1,
		byte(v>>22),
		byte(v>>14)&0xfe|1,
		byte(v>>7),
		byte(v<<1)|1,
	)
}

// appendPCR appends a program clock reference: a 33-bit 90 kHz base, six
// reserved bits, and a zero 27 MHz extension.
func appendPCR(b []byte, base int64) []byte {
	v := uint64(base) & (1<<33 - 1)
	return append(b,
		byte(v>>25),
		byte(v>>17),
		byte(v>>9),
		byte(v>>1),
		byte(v<<7)|0x7e,
		0,
	)
}
