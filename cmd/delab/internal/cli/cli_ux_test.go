package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommandPrefixFollowsHowDelabWasStarted(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "delab")
	require.NoError(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	other := filepath.Join(dir, "elsewhere", "delab")
	require.NoError(t, os.MkdirAll(filepath.Dir(other), 0o755))
	require.NoError(t, os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755))
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }
	tests := []struct {
		name     string
		arg0     string
		lookPath func(string) (string, error)
		want     string
	}{
		{"go run, fresh build", "/tmp/go-build612336970/b001/exe/delab", notOnPath, "go run ./cmd/delab"},
		{"go run, cached build", "/home/ana/.cache/go-build/18/1836b5-d/delab", notOnPath, "go run ./cmd/delab"},
		{"on PATH", "delab", notOnPath, "delab"},
		{"by path, not on PATH", bin, notOnPath, bin},
		{"by path, PATH finds the same file", bin, func(string) (string, error) { return bin, nil }, "delab"},
		{"by path, PATH finds another delab", bin, func(string) (string, error) { return other, nil }, bin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, commandPrefixFor(tt.arg0, tt.lookPath))
		})
	}
}

// backticked returns every `...` span of s.
func backticked(s string) []string {
	parts := strings.Split(s, "`")
	var out []string
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

func TestPrintedCommandsRunAsTheLearnerStartedDelab(t *testing.T) {
	prefix := commandPrefix()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"dashboard, nothing read", nil, prefix + " read start/00"},
		{"hint", []string{"hint", "start/01"}, prefix + " hint start/01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, starterGo)
			require.Equal(t, ExitOK, e.run(tt.args...))
			out := strings.Join(strings.Fields(e.out.String()), " ") // undo wrapping
			assert.Contains(t, out, "`"+tt.want)
			for _, c := range backticked(out) {
				if strings.Contains(c, "delab ") {
					assert.True(t, strings.HasPrefix(c, prefix+" "), "%q does not start with %q", c, prefix)
				}
			}
		})
	}
}

func TestLessonCommandsAreRewrittenForTheInvocation(t *testing.T) {
	md := "Run `delab check start/01` now.\n\n```sh\ndelab check start/01\n$ delab hint start/01\n```\n\ndelab is the tool; `delab` alone is the dashboard.\n"
	got := runnableCommands(md, "go run ./cmd/delab")
	assert.Equal(t, "Run `go run ./cmd/delab check start/01` now.\n\n```sh\ngo run ./cmd/delab check start/01\n$ go run ./cmd/delab hint start/01\n```\n\ndelab is the tool; `delab` alone is the dashboard.\n", got)
	assert.Equal(t, md, runnableCommands(md, "delab"))
}
