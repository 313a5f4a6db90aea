package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// delabCommands are the delab command lines among a workflow's shell
// lines, with $VARS expanded from vars and shell quotes removed.
func delabCommands(t *testing.T, lines []string, vars map[string]string) [][]string {
	t.Helper()
	var out [][]string
	for _, ln := range lines {
		ln = strings.TrimSpace(ln)
		if !strings.HasPrefix(ln, "delab ") {
			continue
		}
		ln = os.Expand(ln, func(k string) string { return vars[k] })
		var args []string
		for _, w := range strings.Fields(ln)[1:] {
			args = append(args, strings.NewReplacer(`"`, "", "'", "").Replace(w))
		}
		out = append(out, args)
	}
	return out
}

// TestCIWorkflowsParseAndTheirDelabStepsRun writes each workflow, parses
// its YAML, and runs its delab commands in-process in a checkout: they
// must write the JUnit, Markdown and JSON reports the workflow publishes.
func TestCIWorkflowsParseAndTheirDelabStepsRun(t *testing.T) {
	type step struct {
		Name string         `yaml:"name"`
		Uses string         `yaml:"uses"`
		Run  string         `yaml:"run"`
		If   string         `yaml:"if"`
		With map[string]any `yaml:"with"`
	}
	for _, provider := range []string{"github", "gitlab"} {
		t.Run(provider, func(t *testing.T) {
			e := newEnv(t, solution)
			require.Equal(t, ExitOK, e.run("ci", provider, "--delab-version", "v9.9.9", "--lab", "start/01", "--repo", e.repo), e.err.String())
			path := filepath.Join(e.repo, ".gitlab-ci.yml")
			if provider == "github" {
				path = filepath.Join(e.repo, ".github", "workflows", "delab.yml")
			}
			data := mustRead(t, path)
			var lines []string
			var reports []string
			if provider == "github" {
				var wf struct {
					Jobs map[string]struct {
						Steps []step `yaml:"steps"`
					} `yaml:"jobs"`
				}
				require.NoError(t, yaml.Unmarshal(data, &wf))
				steps := wf.Jobs["grade"].Steps
				require.NotEmpty(t, steps)
				uses := map[string]step{}
				for _, s := range steps {
					lines = append(lines, strings.Split(s.Run, "\n")...)
					if s.Uses != "" {
						uses[strings.Split(s.Uses, "@")[0]] = s
					}
				}
				assert.Contains(t, uses, "actions/setup-go")
				assert.Equal(t, "delab-report.xml", uses["mikepenz/action-junit-report"].With["report_paths"])
				assert.Equal(t, "always()", uses["mikepenz/action-junit-report"].If, "the test report shows failures too")
				assert.Equal(t, "delab-report.json", uses["actions/upload-artifact"].With["path"])
				reports = []string{"delab-report.xml", "delab-report.json"}
			} else {
				var wf map[string]struct {
					Image     string            `yaml:"image"`
					Variables map[string]string `yaml:"variables"`
					Script    []string          `yaml:"script"`
					Artifacts struct {
						When    string            `yaml:"when"`
						Paths   []string          `yaml:"paths"`
						Reports map[string]string `yaml:"reports"`
					} `yaml:"artifacts"`
				}
				require.NoError(t, yaml.Unmarshal(data, &wf))
				job := wf["delab"]
				assert.Contains(t, job.Image, "golang:")
				assert.Equal(t, "always", job.Artifacts.When)
				assert.Equal(t, "delab-report.xml", job.Artifacts.Reports["junit"])
				lines = job.Script
				reports = append([]string{job.Artifacts.Reports["junit"]}, job.Artifacts.Paths...)
			}
			assert.Contains(t, strings.Join(lines, "\n"), "go install github.com/delab-dev/delab/cmd/delab@v9.9.9", "the graders come from the named release")

			work := t.TempDir()
			summary := filepath.Join(work, "summary.md")
			cmds := delabCommands(t, lines, map[string]string{"GITHUB_STEP_SUMMARY": summary})
			require.Len(t, cmds, 1, "one grading run")
			wd, err := os.Getwd()
			require.NoError(t, err)
			require.NoError(t, os.Chdir(work))
			t.Cleanup(func() { _ = os.Chdir(wd) })
			require.Equal(t, ExitOK, e.run(append(cmds[0], "--repo", e.repo)...), e.err.String())
			for _, r := range reports {
				assert.FileExists(t, filepath.Join(work, r))
			}
			suites, err := junit.IngestFile(filepath.Join(work, "delab-report.xml"))
			require.NoError(t, err)
			assert.Equal(t, 3, suites[0].Totals.Passed)
			assert.Equal(t, 10, readReportFile(t, filepath.Join(work, "delab-report.json")).Points)
			md := summary
			if provider == "gitlab" {
				md = filepath.Join(work, "delab-report.md")
			}
			assert.Contains(t, string(mustRead(t, md)), "# delab grade: 10/10 points")

			// An existing workflow is kept unless --force.
			assert.Equal(t, ExitError, e.run("ci", provider, "--repo", e.repo))
			assert.Contains(t, e.err.String(), "--force replaces it")
			assert.Equal(t, ExitOK, e.run("ci", provider, "--repo", e.repo, "--force", "--images", "stand-in"))
			assert.Contains(t, string(mustRead(t, path)), "make images")
		})
	}
}
