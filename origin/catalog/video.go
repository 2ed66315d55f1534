package catalog

import "time"

// Status of a video.
type Status string

// Statuses, in the order a video goes through them.
const (
	Uploading  Status = "uploading"
	Processing Status = "processing"
	Ready      Status = "ready"
	Failed     Status = "failed"
)

// Visibility of a video.
const (
	Public  = "public"
	Private = "private"
)

// Video is the stored record of one video.
type Video struct {
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Tags        []string    `json:"tags"`
	Visibility  string      `json:"visibility"`
	Status      Status      `json:"status"`
	Error       string      `json:"error,omitempty"`
	Stage       string      `json:"stage,omitempty"`
	Percent     float64     `json:"percent"`
	DurationS   float64     `json:"duration_s"`
	Width       int         `json:"width"`
	Height      int         `json:"height"`
	Source      Source      `json:"source"`
	Renditions  []Rendition `json:"renditions"`
	// AudioFrom names the rendition whose audio track every HLS variant
	// uses.
	AudioFrom string `json:"audio_from,omitempty"`
	// Final is set once no rendition will be added: the master playlist
	// stops changing.
	Final     bool      `json:"final"`
	Thumbnail string    `json:"thumbnail,omitempty"` // key of the poster image
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Source is the upload as received.
type Source struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	Filename    string `json:"filename,omitempty"`
}

// Rendition is one playable encoding.
type Rendition struct {
	Name             string `json:"name"`
	Width            int    `json:"width"`
	Height           int    `json:"height"`
	Bandwidth        int64  `json:"bandwidth"`
	AverageBandwidth int64  `json:"average_bandwidth"`
	Codecs           string `json:"codecs"`
	// IndexKey is the sample index object.
	IndexKey string `json:"index_key"`
	MP4      MP4    `json:"mp4"`
}

// MP4 says where a rendition's progressive MP4 bytes are: the object Key,
// or, for a source served as it is, HeadKey (ftyp + moov, may be empty)
// followed by [BodyOffset, BodyOffset+BodyLength) of BodyKey.
type MP4 struct {
	Key        string `json:"key,omitempty"`
	HeadKey    string `json:"head_key,omitempty"`
	HeadSize   int64  `json:"head_size,omitempty"`
	BodyKey    string `json:"body_key,omitempty"`
	BodyOffset int64  `json:"body_offset,omitempty"`
	BodyLength int64  `json:"body_length,omitempty"`
	Size       int64  `json:"size"`
	// ETag identifies these bytes for HTTP validation.
	ETag string `json:"etag"`
}

// Rendition returns the named rendition, or nil.
func (v *Video) Rendition(name string) *Rendition {
	for i := range v.Renditions {
		if v.Renditions[i].Name == name {
			return &v.Renditions[i]
		}
	}
	return nil
}
