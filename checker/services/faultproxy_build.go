package services

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// faultProxySource is package faultproxy's one file; it imports only the
// standard library, so it builds in a module of its own.
//
//go:embed faultproxy/faultproxy.go
var faultProxySource []byte

const faultProxyMain = `package main

import (
	"fmt"
	"os"

	"delab.local/faultproxy/faultproxy"
)

func main() {
	if err := faultproxy.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
}
`

var faultProxyBuild struct {
	once sync.Once
	bin  []byte
	err  error
}

// faultProxyBinary compiles the fault proxy (checker/services/faultproxy)
// into a static Linux binary for the service containers, once per
// process, with the Go toolchain delab builds learner code with; Go's
// build cache makes later processes' builds quick.
func faultProxyBinary(ctx context.Context) ([]byte, error) {
	b := &faultProxyBuild
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "delab-faultproxy-*")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(dir)
		files := map[string][]byte{
			"go.mod":                   []byte("module delab.local/faultproxy\n\ngo 1.22\n"),
			"main.go":                  []byte(faultProxyMain),
			"faultproxy/faultproxy.go": faultProxySource,
		}
		for name, data := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				b.err = err
				return
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				b.err = err
				return
			}
		}
		out := filepath.Join(dir, "faultproxy.bin")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
		cmd.Dir = dir
		// The containers run Linux on the Docker engine's architecture,
		// which is the host's wherever delab runs its services.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		var msg bytes.Buffer
		cmd.Stdout, cmd.Stderr = &msg, &msg
		if err := cmd.Run(); err != nil {
			b.err = fmt.Errorf("build the fault proxy: %w: %s", err, msg.String())
			return
		}
		b.bin, b.err = os.ReadFile(out)
	})
	return b.bin, b.err
}
