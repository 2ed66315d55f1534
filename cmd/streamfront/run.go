package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/config"
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

  streamfront config check -config FILE   check a deployment file and print it, secrets masked

Every role reads its part of one deployment file (-config streamfront.yaml,
or $STREAMFRONT_CONFIG); its flags, or the environment variables named in
their help, override single settings. Each command takes -h.
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
		"config": runConfig,
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
// the flag wins over the variable, the variable over what the flag's
// variable held before (the deployment file's value, or the default).
type flags struct {
	*flag.FlagSet
	env    map[string]string // flag name → variable
	getenv func(string) (string, bool)
}

func newFlags(name string, stderr io.Writer, getenv func(string) (string, bool)) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{FlagSet: fs, env: map[string]string{}, getenv: getenv}
}

// newRoleFlags makes a role's flags; every role takes -config, the
// deployment file its settings start from.
func newRoleFlags(name string, stderr io.Writer, getenv func(string) (string, bool)) *flags {
	f := newFlags(name, stderr, getenv)
	var path string
	f.string(&path, "config", configEnv, "deployment file (YAML) this role reads its part of; flags and variables override single settings")
	return f
}

func (f *flags) string(p *string, name, env, help string) {
	f.StringVar(p, name, *p, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) bool(p *bool, name, env, help string) {
	f.BoolVar(p, name, *p, help+" ($"+env+")")
	f.env[name] = env
}

// value defines a flag of a custom type (it parses itself).
func (f *flags) value(v flag.Value, name, env, help string) {
	f.Var(v, name, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) duration(p *time.Duration, name, env, help string) {
	f.DurationVar(p, name, *p, help+" ($"+env+")")
	f.env[name] = env
}

func (f *flags) int(p *int, name, env, help string) {
	f.IntVar(p, name, *p, help+" ($"+env+")")
	f.env[name] = env
}

// size is a byte count flag written as in the file: "256MiB", or bytes.
func (f *flags) size(p *int64, name, env, help string) {
	f.value((*sizeFlag)(p), name, env, help)
}

type sizeFlag int64

func (s *sizeFlag) String() string {
	b, _ := config.Size(*s).MarshalText()
	return string(b)
}

func (s *sizeFlag) Set(v string) error { return (*config.Size)(s).UnmarshalText([]byte(v)) }

// parse reads the environment, then the command line.
func (f *flags) parse(args []string) error {
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if v, ok := f.getenv(f.env[fl.Name]); ok && f.env[fl.Name] != "" {
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

// configEnv names the deployment file when -config does not.
const configEnv = "STREAMFRONT_CONFIG"

// deployment reads the file named by -config (or $STREAMFRONT_CONFIG),
// before the flags are parsed: its values are what the flags override.
// Without one, a role starts from the defaults and its flags alone.
func deployment(args []string, getenv func(string) (string, bool)) (*config.Loaded, error) {
	path := argValue(args, "config")
	if path == "" {
		path, _ = getenv(configEnv)
	}
	if path == "" {
		return config.Wrap(config.Default(), "(defaults)"), nil
	}
	return config.Load(path, getenv)
}

// argValue is the value of -name in args ("-name v", "-name=v", or with
// two dashes), for the few flags that decide what the others start from.
func argValue(args []string, name string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		key, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || key != name {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// newLogger refuses a level it does not know rather than log at another.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
