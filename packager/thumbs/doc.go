// Package thumbs plans a video's still images — a poster and a storyboard
// (small frames at a fixed interval tiled into sprite sheets) — and writes
// the WebVTT map players use to show the right tile while scrubbing
// (`sprite-0.jpg#xywh=x,y,w,h`, the convention of JW Player, Video.js and
// Vidstack thumbnails).
package thumbs
