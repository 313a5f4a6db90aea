package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// commandPrefix is how the learner started delab, for every command delab
// prints, so that it runs as printed: "go run ./cmd/delab" when this
// binary was built by `go run`, "bin/delab" when it was started by that
// path, else "delab".
func commandPrefix() string { return commandPrefixFor(os.Args[0], exec.LookPath) }

// commandPrefixFor maps the path the binary was started by (os.Args[0],
// as the learner typed it) to the prefix. lookPath finds "delab" on PATH.
func commandPrefixFor(arg0 string, lookPath func(string) (string, error)) string {
	// `go run` builds into a temporary go-build<N> folder, and from Go 1.24
	// on runs a cached copy from the build cache (…/go-build/<xx>/<hash>-d/):
	// either way a folder of the path starts with "go-build".
	for _, dir := range strings.Split(filepath.ToSlash(filepath.Dir(arg0)), "/") {
		if strings.HasPrefix(dir, "go-build") {
			return "go run ./cmd/delab"
		}
	}
	if !strings.ContainsRune(filepath.ToSlash(arg0), '/') {
		return "delab" // found on PATH
	}
	// Started by a path, like bin/delab after `make build`: "delab" only
	// runs the same program when PATH finds this very file.
	if onPath, err := lookPath("delab"); err == nil && sameFile(onPath, arg0) {
		return "delab"
	}
	return arg0
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
