package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistryIsUpToDate(t *testing.T) {
	want, err := Generate(filepath.Join("..", "..", "labs"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "registry_gen.go"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "registry_gen.go is stale: run `go generate ./checker/graders`")
}

func TestGenerateListsEveryGraderFolder(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/01-x", "b/02-y"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, p), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p, "grader.go"), []byte("package pkg"+string(p[0])+"\n"), 0o644))
	}
	src, err := Generate(dir)
	require.NoError(t, err)
	assert.Contains(t, string(src), `lab0 "github.com/delab-dev/delab/checker/labs/a/01-x" // package pkga`)
	assert.Contains(t, string(src), `lab1 "github.com/delab-dev/delab/checker/labs/b/02-y" // package pkgb`)
	assert.Contains(t, string(src), "&lab1.Lab,")
}
