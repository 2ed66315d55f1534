package live

import "time"

// State is where a stream stands.
type State string

const (
	// StateIdle: no encoder is sending. A broadcast in its reconnect
	// window is idle too (Status.Broadcast says which).
	StateIdle State = "idle"
	// StateLive: an encoder is sending and HLS is being made.
	StateLive State = "live"
	// StateEnded: the last broadcast is over; a new encoder connection
	// starts the next one.
	StateEnded State = "ended"
)

// Status is what the manager knows of one stream, as the API shows it.
type Status struct {
	ID    string `json:"id"`
	State State  `json:"state"`
	// Latency is the packaging of the current (or last) broadcast.
	Latency Latency `json:"latency"`
	// Broadcast numbers the broadcasts; 0 before the first.
	Broadcast int `json:"broadcast"`
	// Connections counts the encoder connections of this broadcast (more
	// than one after reconnects).
	Connections int `json:"connections"`
	// Reason is the last refusal or disconnection, as a sentence the
	// broadcaster can act on; empty while all is well.
	Reason string `json:"reason,omitempty"`
	// Video and Audio describe the tracks of the current broadcast
	// ("H.264", "AAC"); Audio is empty for a stream without sound.
	Video string `json:"video,omitempty"`
	Audio string `json:"audio,omitempty"`
	// Since is when State last changed.
	Since time.Time `json:"since"`
	// Ingest describes the encoder's stream while live.
	Ingest *IngestStats `json:"ingest,omitempty"`
	// Viewers is the sum of the edges' recent viewer counts while a
	// broadcast is on (see viewers.go), 0 otherwise.
	Viewers int `json:"viewers"`
	// Rungs are the ladder's renditions on air ("480p"), listed in the
	// multivariant playlist beside the source.
	Rungs []string `json:"rungs,omitempty"`
}
