package registry

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

// Graders reach their services through endpoints.Endpoints, so none of
// them needs the container library; and a lab without services carries
// no service client either: its grader (and so a program that grades only
// such labs) builds without Docker's, Kafka's, HDFS's or Hive's packages.
// This package imports every grader, so a changed grader reruns the test
// (go test caches results by the test binary, not by what go list reads).
func TestGradersImportNoDocker(t *testing.T) {
	c, err := catalog.Load(lessons.FS, labs.FS)
	require.NoError(t, err)
	const labsPkg = "github.com/delab-dev/delab/checker/labs/"
	args := []string{"list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}"}
	for _, g := range All() {
		args = append(args, labsPkg+g.ID)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "go list: %s", stderr)

	docker := []string{"testcontainers", "moby", "docker"}
	clients := append(docker, "gohive", "colinmarc/hdfs", "IBM/sarama")
	checked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		lab := c.Lab(strings.TrimPrefix(pkg, labsPkg))
		require.NotNil(t, lab, "grader package %s has no lab", pkg)
		forbidden := docker
		if len(lab.Services) == 0 {
			forbidden = clients
		}
		for _, dep := range strings.Fields(deps) {
			for _, f := range forbidden {
				assert.NotContains(t, dep, f, "%s imports %s", pkg, dep)
			}
		}
		checked[lab.ID] = true
	}
	assert.Len(t, checked, len(c.Labs()), "every lab's grader was listed")
	assert.True(t, checked["start/01-logs-to-metrics"], "the first lab, which needs only Go, was checked")
}
