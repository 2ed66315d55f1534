package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/streamfront/streamfront/internal/config"
)

// runConfig is `streamfront config check`: it reads a deployment file as
// every role would, prints the effective configuration (defaults filled,
// variables expanded, secrets masked) and says what any role would refuse.
func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: streamfront config check -config FILE [-role origin,edge,…] [-quiet]")
	}
	var roles string
	var quiet bool
	f := newRoleFlags("config check", stderr, os.LookupEnv)
	f.string(&roles, "role", "STREAMFRONT_CHECK_ROLES", "roles to check, comma-separated (default: "+strings.Join(config.Roles(), ",")+")")
	f.bool(&quiet, "quiet", "STREAMFRONT_CHECK_QUIET", "print nothing when the file is good")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	path := f.Lookup("config").Value.String()
	if path == "" {
		return errors.New("config check: say which file, -config FILE")
	}
	d, loadErr := config.Load(path, os.LookupEnv)
	if d == nil {
		return loadErr
	}
	var list []string
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			list = append(list, r)
		}
	}
	if err := errors.Join(loadErr, d.Check(list...)); err != nil {
		return dedupe(err)
	}
	if !quiet {
		out, err := d.Effective()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# %s: good. The effective configuration, secrets masked:\n%s", path, out)
	}
	return nil
}

// dedupe drops the lines said twice (a mistake the load found and the
// check found again).
func dedupe(err error) error {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	if len(out) == 1 {
		return errors.New(out[0])
	}
	return fmt.Errorf("%d problems:\n%s", len(out), strings.Join(out, "\n"))
}
