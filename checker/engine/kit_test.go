package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
)

func TestKitsOfALabsServicesAreWrittenAndKept(t *testing.T) {
	// A service the catalog knows but the engine has no kit for, as a
	// new service starts out.
	saved := catalog.Services
	catalog.Services = append(slices.Clone(saved), "postgres")
	t.Cleanup(func() { catalog.Services = saved })

	work := t.TempDir()
	g := &grader.Lab{ID: "spark/01-first-sql", Kits: []string{"hdfs", "spark", "postgres"}}
	require.NoError(t, writeKits(work, g))
	for _, k := range []string{"hdfs", "spark"} {
		want, err := kits.ReadFile("kit_" + k + ".go.txt")
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(work, "delab_kit_"+k+".go"))
		require.NoError(t, err, k)
		assert.Equal(t, string(want), string(got), k)
	}
	assert.NoFileExists(t, filepath.Join(work, "delab_kit_postgres.go"), "a service without a kit gets none")

	require.NoError(t, os.WriteFile(filepath.Join(work, "delab_kit_kafka.go"), []byte("package main\n"), 0o644))
	require.NoError(t, cleanBuildDir(work, g.Kits))
	assert.FileExists(t, filepath.Join(work, "delab_kit_hdfs.go"), "the lab's kits stay for the next build")
	assert.NoFileExists(t, filepath.Join(work, "delab_kit_kafka.go"), "another lab's kit is removed")

	err := writeKits(work, &grader.Lab{ID: "x/01-y", Kits: []string{"kafak"}})
	assert.EqualError(t, err, `lab x/01-y asks for unknown kit "kafak"`)
}
