// Package transcode runs ffmpeg and ffprobe for sources that cannot be
// served as they are (other containers and codecs, rotated phone video,
// complex edit lists) and for the ABR ladder; streams that need no encode
// in another container are copied into an MP4 instead (copy.go). It also
// plans the ladder (plan.go): which rungs suit a source and where their
// keyframes go, so that every rendition cuts at the same places.
//
// Commands run without a shell, with a timeout, reading the source through
// a URL (a presigned S3 GET, which ffmpeg seeks with Range requests) and
// writing a faststart MP4 to a local file. Failures that are the input's
// fault come back as *packager.InputError with a sentence a person can act
// on.
package transcode
