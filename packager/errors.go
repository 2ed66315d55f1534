package packager

import (
	"errors"

	"github.com/streamfront/streamfront/packager/probe"
)

// InputError is a problem with the uploaded file itself: retrying will not
// help, and Reason is a sentence the uploader can act on.
type InputError struct {
	Reason string
	Err    error
}

func (e *InputError) Error() string { return e.Reason }
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is the upload's fault.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// explainProbe turns a probe error into an InputError when it is the
// file's fault; other errors (I/O) pass through.
func explainProbe(err error) error {
	var trunc *probe.TruncatedError
	switch {
	case errors.Is(err, probe.ErrEmpty):
		return &InputError{Reason: "The file is empty: no bytes were uploaded.", Err: err}
	case errors.As(err, &trunc):
		return &InputError{Reason: capitalize(trunc.Error()) + ". Upload the complete file again.", Err: err}
	case errors.Is(err, probe.ErrNoMoov):
		return &InputError{Reason: "The file has no movie header (moov): it is incomplete or was not written to the end. Upload the complete file again.", Err: err}
	case errors.Is(err, probe.ErrNoStreams):
		return &InputError{Reason: "The file has no video or audio stream to play.", Err: err}
	case errors.Is(err, probe.ErrEncrypted):
		return &InputError{Reason: "The file is encrypted (DRM-protected), so its video cannot be decoded. Upload a copy without DRM, e.g. the original export.", Err: err}
	}
	return err
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
