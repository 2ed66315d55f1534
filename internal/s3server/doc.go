// Package s3server runs a local S3-compatible server (versitygw on a data
// directory) as a child process, for `streamfront all` and for tests.
//
// Streamfront itself talks to S3 only through aws-sdk-go-v2; this package
// exists so that one command can bring up a real S3 endpoint on a laptop.
package s3server
