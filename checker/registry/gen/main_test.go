package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistryIsUpToDate(t *testing.T) {
	want, err := Generate(filepath.Join("..", "..", "labs"), filepath.Join("..", "..", "..", "labs"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "registry_gen.go"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "registry_gen.go is stale: run `go generate ./checker/registry`")
}

func TestGenerateListsEveryGraderFolder(t *testing.T) {
	graders, labs := t.TempDir(), t.TempDir()
	for p, services := range map[string]string{"a/01-x": "services: []\n", "b/02-y": "title: Y\nservices: [hdfs, spark]\n"} {
		require.NoError(t, os.MkdirAll(filepath.Join(graders, p), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(graders, p, "grader.go"), []byte("package pkg"+string(p[0])+"\n"), 0o644))
		require.NoError(t, os.MkdirAll(filepath.Join(labs, p), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(labs, p, "lab.yaml"), []byte(services), 0o644))
	}
	src, err := Generate(graders, labs)
	require.NoError(t, err)
	assert.Contains(t, string(src), `lab0 "github.com/delab-dev/delab/checker/labs/a/01-x" // package pkga`)
	assert.Contains(t, string(src), `lab1 "github.com/delab-dev/delab/checker/labs/b/02-y" // package pkgb`)
	assert.Contains(t, string(src), `register(lab0.Lab, "a/01-x"),`, "the id is the folder; no services, no kits")
	assert.Contains(t, string(src), `register(lab1.Lab, "b/02-y", "hdfs", "spark"),`, "kits are the lab's services")
}

func TestGenerateNeedsEachGradersLabYAML(t *testing.T) {
	graders := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(graders, "a", "01-x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(graders, "a", "01-x", "grader.go"), []byte("package x\n"), 0o644))
	_, err := Generate(graders, t.TempDir())
	assert.ErrorContains(t, err, "grader a/01-x")
}
