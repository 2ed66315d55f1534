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
	// Audio is the HLS audio group: which renditions' audio tracks every
	// variant offers (e.g. stereo, and the source's 5.1).
	Audio []Audio `json:"audio"`
	// Final is set once no rendition will be added: the master playlist
	// stops changing.
	Final bool `json:"final"`
	// Thumbs are the poster and storyboard, once made.
	Thumbs *Thumbs `json:"thumbs,omitempty"`
	// Captions are the caption tracks, one per language, in the order added.
	Captions []Caption `json:"captions,omitempty"`
	// Growing is the HLS a first encode writes as it goes, so a source
	// that must be encoded plays within seconds of its upload; nil unless
	// such an encode ran.
	Growing *GrowingHLS `json:"growing,omitempty"`
	// Recorded is a live broadcast's recording, playing as it was recorded
	// until the video's own renditions are made from it; nil for uploads.
	Recorded *RecordedHLS `json:"recorded,omitempty"`
	// Queue says where the video's encode job waits (or waited).
	Queue *QueuePlace `json:"queue,omitempty"`
	// EncodeStarted is when a worker last started encoding the video (for
	// the estimate of when it will be complete).
	EncodeStarted time.Time `json:"encode_started,omitzero"`
	// Storage is what the video keeps in S3, measured when it became
	// final; nil before.
	Storage *Storage `json:"storage,omitempty"`
	// Views counts viewers who watched (the player's reports, one per
	// viewer per hour).
	Views     int64     `json:"views,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GrowingHLS describes the one variant of a growing playlist, stored under
// videos/{id}/hls/encoding/ (stream.m3u8, init.mp4, seg-N.m4s).
type GrowingHLS struct {
	Codecs    string `json:"codecs"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int64  `json:"bandwidth"`
}

// RecordedHLS is a live broadcast's recording, served as it was recorded:
// a VOD playlist per track over the recorded fMP4 segments, stored under
// videos/{id}/hls/rec/.
type RecordedHLS struct {
	Tracks []RecordedTrack `json:"tracks"`
}

// RecordedTrack is one recorded track ("video1", "audio2": gohlslib's
// names); a picture has a size.
type RecordedTrack struct {
	Name             string `json:"name"`
	Codecs           string `json:"codecs"`
	Width            int    `json:"width,omitempty"`
	Height           int    `json:"height,omitempty"`
	Bandwidth        int64  `json:"bandwidth"`
	AverageBandwidth int64  `json:"average_bandwidth"`
}

// QueuePlace is an encode job on the queue: its kind of work and its
// sequence number there, from which its place in line is read.
type QueuePlace struct {
	Kind string    `json:"kind"`
	Seq  uint64    `json:"seq"`
	At   time.Time `json:"at"`
}

// Audio is one entry of the HLS audio group.
type Audio struct {
	Rendition string `json:"rendition"` // whose audio track
	Name      string `json:"name"`      // e.g. "Stereo"
	Channels  int    `json:"channels"`
	// Language is ISO 639-2 ("fra"), "" when unknown.
	Language string `json:"language,omitempty"`
	Default  bool   `json:"default"`
}

// Thumbs are a video's still images: a poster, and a storyboard (a grid of
// small frames at a fixed interval, with a WebVTT map) for thumbnails on
// scrub.
type Thumbs struct {
	PosterKey     string   `json:"poster_key"`
	StoryboardKey string   `json:"storyboard_key"` // the WebVTT
	SpriteKeys    []string `json:"sprite_keys"`
}

// Source is the upload as received.
type Source struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	Filename    string `json:"filename,omitempty"`
	// Resumable says it arrives by tus (in parts, over several requests).
	Resumable bool `json:"resumable,omitempty"`
}

// Caption is one caption track, stored as WebVTT.
type Caption struct {
	Lang string `json:"lang"` // RFC 5646, canonical ("en", "pt-BR")
	Name string `json:"name"` // shown to viewers
	Key  string `json:"key"`
	// From is the format uploaded ("webvtt", "srt").
	From string `json:"from"`
}

// Caption is the caption track of lang, or nil.
func (v *Video) Caption(lang string) *Caption {
	for i := range v.Captions {
		if v.Captions[i].Lang == lang {
			return &v.Captions[i]
		}
	}
	return nil
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

// Storage is the bytes a video keeps in S3, by what they are.
type Storage struct {
	SourceBytes    int64 `json:"source_bytes"`
	RenditionBytes int64 `json:"rendition_bytes"` // progressive MP4s and any stored HLS
	ThumbnailBytes int64 `json:"thumbnail_bytes"` // poster and storyboard
	// OtherBytes are sample indexes and the record itself.
	OtherBytes int64     `json:"other_bytes"`
	Objects    int       `json:"objects"`
	MeasuredAt time.Time `json:"measured_at"`
}

// Total is every byte of the video.
func (s Storage) Total() int64 {
	return s.SourceBytes + s.RenditionBytes + s.ThumbnailBytes + s.OtherBytes
}
