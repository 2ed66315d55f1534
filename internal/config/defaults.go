package config

import (
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

// Default is the deployment a file starts from: every key a file leaves
// out has the value here. They are the roles' own defaults, written out so
// `streamfront config check` prints what will run.
func Default() *File {
	return &File{
		LogLevel: "info",
		S3:       S3{Region: "us-east-1", Bucket: "streamfront", PartSize: 8 << 20, UploadConcurrency: 2},
		Queue:    Queue{Stream: "STREAMFRONT_JOBS", Replicas: 1, AckWait: Duration(30 * time.Second), MaxDeliver: 10},
		Site:     Site{Name: "Streamfront"},
		Media: Media{
			SegmentTarget: Duration(6 * time.Second), FFmpeg: "ffmpeg", FFprobe: "ffprobe",
			TranscodeTimeout: Duration(6 * time.Hour), IndexCacheSize: 256 << 20,
		},
		Origin: Origin{
			Addr: ":8090", MaxUploadSize: 50 << 30, PackageSlots: 4, ResumableExpiry: Duration(24 * time.Hour),
			LeaseTTL: Duration(90 * time.Second), SignedURLTTL: Duration(6 * time.Hour),
			InvalidationTimeout: Duration(time.Second), InvalidationRetryFor: Duration(10 * time.Minute),
		},
		Live: Live{
			RTMPAddr: ":1935", ReconnectWindow: Duration(60 * time.Second),
			PartTarget: Duration(200 * time.Millisecond), SegmentTarget: Duration(time.Second),
			StandardSegmentTarget: Duration(time.Second), HostLeaseTTL: Duration(35 * time.Second),
		},
		Worker: Worker{
			Addr: ":8094", MaxEncodes: 1, LiveLadders: 1, LivePreset: "veryfast",
			Ladder: []Rung{
				{Name: "1080p", ShortSide: 1080, Bitrate: 5_000_000},
				{Name: "720p", ShortSide: 720, Bitrate: 3_000_000},
				{Name: "480p", ShortSide: 480, Bitrate: 1_400_000},
				{Name: "360p", ShortSide: 360, Bitrate: 800_000},
			},
		},
		Edge: Edge{
			MemorySize: 256 << 20, DiskSize: 10 << 30, SliceSize: 2 << 20,
			SlicedPaths: []string{"/videos/**.mp4"}, MaxObjectSize: 64 << 20,
			OriginConnectTimeout:   Duration(2 * time.Second),
			OriginFirstByteTimeout: Duration(10 * time.Second),
			OriginReadTimeout:      Duration(15 * time.Second),
			DefaultTTL:             Duration(24 * time.Hour),
			MaxTTL:                 Duration(365 * 24 * time.Hour),
			NegativeTTL:            Duration(2 * time.Second),
			StaleIfError:           OptDuration(24 * time.Hour),
			CORSOrigin:             "*",
			FastPath:               true,
			CacheAll:               true,
			ReadHeaderTimeout:      Duration(10 * time.Second),
			ReadTimeout:            Duration(60 * time.Second),
			WriteTimeout:           Duration(30 * time.Second),
			IdleTimeout:            Duration(120 * time.Second),
			ShutdownTimeout:        Duration(30 * time.Second),
			Usage:                  EdgeUsage{Enabled: true, Interval: Duration(10 * time.Second)},
		},
		Router: Router{
			Addr:                 ":8083",
			HealthCheckInterval:  Duration(2 * time.Second),
			HealthCheckTimeout:   Duration(time.Second),
			FailAfter:            3,
			RecoverAfter:         2,
			LatencyProbeInterval: OptDuration(time.Second),
			RTTWeight:            0.3,
			SteeringTTL:          Duration(30 * time.Second),
			SwitchMargin:         OptDuration(10 * time.Millisecond),
			MasterCacheTTL:       Duration(5 * time.Second),
			MasterCacheEntries:   1024,
			MaxMasterSize:        1 << 20,
			EdgeConnectTimeout:   Duration(2 * time.Second),
			EdgeFetchTimeout:     Duration(5 * time.Second),
			CORSOrigin:           "*",
			ReadHeaderTimeout:    Duration(10 * time.Second),
			ReadTimeout:          Duration(30 * time.Second),
			WriteTimeout:         Duration(30 * time.Second),
			IdleTimeout:          Duration(120 * time.Second),
			ShutdownTimeout:      Duration(10 * time.Second),
		},
		Web:    Web{Addr: ":8080"},
		NATS:   NATS{Addr: ":4222", StoreDir: "nats"},
		Local:  Local{DataDir: ".data", Workers: 1},
		Prices: usage.DefaultPrices(),
	}
}
