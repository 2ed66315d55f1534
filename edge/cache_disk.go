package edge

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/streamfront/streamfront/edge/internal/disktier"
)

// The disk tier is package disktier, holding entries: this file is how an
// entry is written into a cache file's header and read back.

// diskTier is the disk tier of entries; diskItem one of its items.
type (
	diskTier = disktier.Tier[*entry]
	diskItem = disktier.Item[*entry]
)

// errCorrupt reports a disk file that disagrees with its header.
var errCorrupt = disktier.ErrCorrupt

func openDiskTier(dir string, budget int64, log *slog.Logger) (*diskTier, error) {
	return disktier.Open[*entry](dir, budget, entryCodec{}, log)
}

// diskHeader is the JSON header of a cache file.
type diskHeader struct {
	Key        string      `json:"key"`
	Kind       entryKind   `json:"kind"`
	Status     int         `json:"status"`
	Header     http.Header `json:"header"`
	Size       int64       `json:"size"`
	BodyLen    int64       `json:"body_len"`
	Date       int64       `json:"date_unix_nano"`
	InitialAge int64       `json:"initial_age_ns"`
	FreshFor   int64       `json:"fresh_for_ns"`
	SWR        int64       `json:"swr_ns"`
	SIE        int64       `json:"sie_ns"`
	VaryKey    string      `json:"vary_key,omitempty"`
	RFC        bool        `json:"rfc9111,omitempty"`
}

// entryCodec writes entries as diskHeader JSON.
type entryCodec struct{}

var _ disktier.Codec[*entry] = entryCodec{}

func (entryCodec) Encode(key string, m *entry, bodyLen int64) ([]byte, error) {
	return json.Marshal(diskHeader{
		Key: key, Kind: m.kind, Status: m.status, Header: m.header,
		Size: m.size, BodyLen: bodyLen, Date: m.date.UnixNano(),
		InitialAge: int64(m.initialAge), FreshFor: int64(m.freshFor),
		SWR: int64(m.swr), SIE: int64(m.sie),
		VaryKey: m.varyKey, RFC: m.rfc,
	})
}

func (entryCodec) Decode(hdr []byte) (string, int64, *entry, error) {
	var h diskHeader
	if err := json.Unmarshal(hdr, &h); err != nil {
		return "", 0, nil, err
	}
	m := &entry{
		key: h.Key, kind: h.Kind, status: h.Status, header: h.Header,
		date: time.Unix(0, h.Date), initialAge: time.Duration(h.InitialAge),
		freshFor: time.Duration(h.FreshFor), swr: time.Duration(h.SWR), sie: time.Duration(h.SIE),
		storable: true, varyKey: h.VaryKey, rfc: h.RFC,
	}
	if m.header == nil {
		m.header = http.Header{}
	}
	m.vary, m.varyStar = varyNames(m.header)
	m.setValidators()
	m.setAccess()
	m.setSize(h.Size)
	return h.Key, h.BodyLen, m, nil
}

// Newer: the later answer wins.
func (entryCodec) Newer(a, b *entry) bool { return a.date.After(b.date) }
