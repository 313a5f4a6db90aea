package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// CIOptions are the inputs of `delab ci`.
type CIOptions struct {
	IO      *IOStreams
	Factory *Factory
	Repo    func() string
	// Provider is github or gitlab.
	Provider string
	// Out is the file to write; empty means the provider's usual place
	// in the checkout.
	Out string
	// DelabVersion is the version of delab the workflow installs: the
	// graders come from it, not from the student's repository.
	DelabVersion string
	// Images is "official" (the pinned Apache images) or "stand-in"
	// (built in the job by `make images`, for registries out of reach).
	Images string
	// Labs limits grading to these ids.
	Labs []string
	// Force overwrites an existing file.
	Force bool
}

// ciReport are the files the generated workflows have delab write.
const (
	ciJSON     = "delab-report.json"
	ciJUnit    = "delab-report.xml"
	ciMarkdown = "delab-report.md"
)

// NewCmdCI builds `delab ci github|gitlab`.
func NewCmdCI(f *Factory, repo func() string, runF func(context.Context, *CIOptions) error) *cobra.Command {
	opts := &CIOptions{IO: f.IO, Factory: f, Repo: repo}
	cmd := &cobra.Command{
		Use:   "ci github|gitlab",
		Short: "Write a CI workflow that grades a student repository on every push",
		Long: `Write a ready CI workflow for a student repository: it installs Go and the
delab version you name (the graders come from that release, never from the
student's repository), runs delab grade once, and publishes the run as a
JUnit test report, a Markdown job summary and a JSON artifact.

github writes .github/workflows/delab.yml; gitlab writes .gitlab-ci.yml
(with a Docker-in-Docker service for the Kafka, HDFS and Spark labs).
--images stand-in builds the stand-in images in the job (make images) for
runners that cannot reach Docker Hub; official uses the pinned images.`,
		Example:   "  delab ci github\n  delab ci gitlab --delab-version v1.4.0 --lab start/01",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"github", "gitlab"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Provider = args[0]
			if opts.Provider != "github" && opts.Provider != "gitlab" {
				return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown CI %q (github or gitlab)", opts.Provider)}
			}
			if opts.Images != "official" && opts.Images != "stand-in" {
				return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown --images %q (official or stand-in)", opts.Images)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return ciRun(opts)
		},
	}
	version, _ := buildVersion()
	if version == "devel" || version == "unknown" {
		version = "latest"
	}
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "file to write (default: .github/workflows/delab.yml or .gitlab-ci.yml in the checkout)")
	cmd.Flags().StringVar(&opts.DelabVersion, "delab-version", version, "delab version the workflow installs")
	cmd.Flags().StringVar(&opts.Images, "images", "official", "service images: official or stand-in")
	cmd.Flags().StringSliceVar(&opts.Labs, "lab", nil, "grade only these labs (repeatable)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing file")
	return cmd
}

func ciRun(opts *CIOptions) error {
	out := opts.Out
	if out == "" {
		root, err := opts.Factory.findRepo(opts.Repo())
		if err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		out = filepath.Join(root, ".gitlab-ci.yml")
		if opts.Provider == "github" {
			out = filepath.Join(root, ".github", "workflows", "delab.yml")
		}
	}
	if _, err := os.Stat(out); err == nil && !opts.Force {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("%s exists; --force replaces it", out)}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return &exitCodeError{code: ExitError, err: err}
	}
	text := gitlabWorkflow(opts)
	if opts.Provider == "github" {
		text = githubWorkflow(opts)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	if err := writeFileAtomic(out, []byte(text)); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s: commit it, and every push is graded\n", out)
	return nil
}

// ciGrade is the one delab grade command of a workflow: JSON as the
// report, JUnit and Markdown beside it from the same run.
func ciGrade(opts *CIOptions, markdown string) string {
	words := []string{"delab", "grade", "--format", "json", "--out", ciJSON, "--also", "junit=" + ciJUnit, "--also", "markdown=" + markdown}
	for _, l := range opts.Labs {
		words = append(words, "--lab", shellQuote(l))
	}
	return strings.Join(words, " ")
}

func githubWorkflow(opts *CIOptions) string {
	images := ""
	if opts.Images == "stand-in" {
		images = `      - name: Build the stand-in service images
        run: sudo make images
`
	}
	return `# Written by ` + "`delab ci github`" + `: grades this repository on every push.
# The graders come from delab ` + opts.DelabVersion + `, not from this repository.
name: delab
on: [push, pull_request, workflow_dispatch]
permissions:
  contents: read
  checks: write
jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    env:
      TESTCONTAINERS_RYUK_DISABLED: "true"
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - name: Install delab
        run: go install github.com/delab-dev/delab/cmd/delab@` + opts.DelabVersion + `
` + images + `      - name: Grade
        run: ` + ciGrade(opts, `"$GITHUB_STEP_SUMMARY"`) + `
      - name: Test report
        if: always()
        uses: mikepenz/action-junit-report@v5
        with:
          report_paths: ` + ciJUnit + `
      - name: Keep the JSON report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: delab-report
          path: ` + ciJSON + `
`
}

func gitlabWorkflow(opts *CIOptions) string {
	images := ""
	if opts.Images == "stand-in" {
		images = "    - make images\n"
	}
	return `# Written by ` + "`delab ci gitlab`" + `: grades this repository on every push.
# The graders come from delab ` + opts.DelabVersion + `, not from this repository.
delab:
  image: golang:1.26
  services:
    - name: docker:27-dind
      alias: docker
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
    TESTCONTAINERS_HOST_OVERRIDE: docker
    TESTCONTAINERS_RYUK_DISABLED: "true"
  timeout: 1h
  script:
    - go install github.com/delab-dev/delab/cmd/delab@` + opts.DelabVersion + `
    - export PATH="$(go env GOPATH)/bin:$PATH"
` + images + `    - ` + ciGrade(opts, ciMarkdown) + `
  artifacts:
    when: always
    paths:
      - ` + ciJSON + `
      - ` + ciMarkdown + `
    reports:
      junit: ` + ciJUnit + `
`
}
