package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

const usage = `streamfront — an open-source video CDN

Usage:
  streamfront all      every role in one process: S3 server, NATS, origin, worker, two edges, router, web
  streamfront origin   upload API, packaging (playable at once), and the origin edges pull from
  streamfront worker   encodes (ABR ladder, thumbnails) taken from the queue; run any number
  streamfront edge     a caching edge in front of the origin
  streamfront router   sends each viewer to the nearest healthy edge (HLS content steering, redirects)
  streamfront web      the site: library, upload and watch pages
  streamfront upload   upload a file from the command line, with a progress bar
  streamfront nats     a NATS server with JetStream, the job queue (demo stack; use a NATS cluster at scale)
  streamfront health   check that a URL answers (container health checks)

Each command takes -h for its flags. Every flag can also be set through the
environment variable named in its help (for containers).
`

// run is the program: main only wires signals and the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"all":    runAll,
		"origin": runOrigin,
		"worker": runWorker,
		"nats":   runNATS,
		"edge":   runEdge,
		"router": runRouter,
		"web":    runWeb,
		"upload": runUpload,
		"health": runHealth,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "streamfront: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := cmd(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "streamfront %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// flags wraps a FlagSet whose every flag may come from the environment:
// the flag wins over the variable, the variable over the default.
type flags struct {
	*flag.FlagSet
	env map[string]string // flag name → variable
}

func newFlags(name string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{FlagSet: fs, env: map[string]string{}}
}

func (f *flags) string(p *string, name, env, def, help string) {
	f.StringVar(p, name, def, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) bool(p *bool, name, env string, def bool, help string) {
	f.BoolVar(p, name, def, help+" ($"+env+")")
	f.env[name] = env
}

// value defines a flag of a custom type (it parses itself).
func (f *flags) value(v flag.Value, name, env, help string) {
	f.Var(v, name, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) duration(p *time.Duration, name, env string, def time.Duration, help string) {
	f.DurationVar(p, name, def, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) int(p *int, name, env string, def int, help string) {
	f.IntVar(p, name, def, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) int64(p *int64, name, env string, def int64, help string) {
	f.Int64Var(p, name, def, help+" ($"+env+")")
	f.env[name] = env
}

// parse reads the environment, then the command line.
func (f *flags) parse(args []string) error {
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if v, ok := os.LookupEnv(f.env[fl.Name]); ok && f.env[fl.Name] != "" {
			if err := fl.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("$%s: %w", f.env[fl.Name], err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return f.Parse(args)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level)))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
