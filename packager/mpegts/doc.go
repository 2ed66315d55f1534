// Package mpegts writes MPEG-2 transport stream (MPEG-TS) HLS segments cut
// from an index.Index: the option for old players and set-top boxes that
// cannot play CMAF, beside the fmp4 segments every other viewer gets.
//
// A segment muxes segment n of a video track's plan with the audio samples
// of the same stretch of the timeline (either track may be absent). Video
// goes from length-prefixed NAL units to Annex B with an access unit
// delimiter per picture and the parameter sets of the sample entry before
// every keyframe; AAC gets an ADTS header per frame built from the
// AudioSpecificConfig of the sample entry. PAT and PMT open every segment,
// so each one decodes alone.
//
// Like an fmp4 segment, an MPEG-TS segment's size is known before a byte of
// media is read: transport packetisation depends only on sample sizes and
// timestamps, and every byte this package adds to a sample is fixed by the
// index (see segment_plan.go). Sample bytes are streamed from a
// fmp4.Source through small buffers, never a whole segment or even a whole
// sample.
//
// Files: segment.go (Segment, NewSegment, WriteTo), segment_plan.go (what
// each PES packet holds and how many transport packets it takes),
// packet.go (transport packets and PES headers), codec.go (what the
// sample entry says: parameter sets, NAL length size, ADTS header),
// tables.go (PAT/PMT, written by mediacommon), reader.go (ranged reads of
// one track's samples).
package mpegts
