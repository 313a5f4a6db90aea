// Package labproof proves graders: for every lab, the untouched starter
// fails, the reference solution passes every check, and each wrong
// solution fails the check it targets with that check's hint. It also
// normalises grader transcripts so they can be kept as golden files.
package labproof

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/delab-dev/delab/checker/report"
)

// Proof is a lab's proof.yaml, beside its grader.
type Proof struct {
	// Wrong lists wrong solutions, each a folder holding a complete package
	// with one realistic mistake, and the check that must catch it.
	Wrong []WrongSolution `yaml:"wrong"`
	// Right lists correct solutions written differently from the
	// reference (another field order, another algorithm): each must pass
	// every check, so a grader that compares the reference's form instead
	// of the lesson's contract is caught.
	Right []RightSolution `yaml:"right"`
	// Normalise lists the lab's own placeholders, for transcript parts
	// that depend on timing (how far a stream got before a crash): each
	// pattern is a Go regexp replaced by its replacement.
	Normalise []Normaliser `yaml:"normalise"`
}

// Normaliser is one entry of proof.yaml's normalise list.
type Normaliser struct {
	Pattern string `yaml:"pattern"`
	Replace string `yaml:"replace"`
	re      *regexp.Regexp
}

// WrongSolution is one entry of proof.yaml.
type WrongSolution struct {
	// Dir is relative to the grader's folder, e.g. "wrong/reads-whole-file".
	Dir string `yaml:"dir"`
	// Fails is the id of the check that must fail.
	Fails string `yaml:"fails"`
}

// RightSolution is one entry of proof.yaml's right list.
type RightSolution struct {
	// Dir is relative to the grader's folder, e.g. "right/fields-reordered".
	Dir string `yaml:"dir"`
	// Why says how it differs from the reference and why that is correct.
	Why string `yaml:"why"`
}

// LoadProof reads and strictly decodes a proof.yaml.
func LoadProof(path string) (*Proof, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Proof
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range p.Normalise {
		n := &p.Normalise[i]
		re, err := regexp.Compile(n.Pattern)
		if err != nil || n.Replace == "" {
			return nil, fmt.Errorf("%s: normalise[%d]: a valid pattern and a replacement are required (%v)", path, i, err)
		}
		n.re = re
	}
	for i, w := range p.Wrong {
		if w.Dir == "" || w.Fails == "" {
			return nil, fmt.Errorf("%s: wrong[%d]: dir and fails are required", path, i)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), w.Dir)); err != nil {
			return nil, fmt.Errorf("%s: wrong[%d].dir: %w", path, i, err)
		}
	}
	return &p, nil
}

var normalisers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|ms|s)\b`), "<dur>"},
	{regexp.MustCompile(`\b\d+m\b`), "<dur>"},
	{regexp.MustCompile(`\d+(\.\d+)? (MiB|KiB)`), "<size>"},
	{regexp.MustCompile(`/tmp/[^\s"':]+`), "<tmp>"},
	{regexp.MustCompile(`goroutine \d+`), "goroutine N"},
	{regexp.MustCompile(`-u[0-9a-f]{8}\b`), "-u<id>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	{regexp.MustCompile(`\+0x[0-9a-f]+`), "+0xN"},
	{regexp.MustCompile(`\b\d+(\.\d+)? events/s\b`), "<n> events/s"},
	{regexp.MustCompile(`\b\d+\.\d+×`), "<n>×"},
}

// Transcript renders a lab report as plain, verbose text with timings,
// sizes and temporary paths replaced by placeholders, so that it is stable
// across machines and runs.
func Transcript(l *report.Lab, extra ...Normaliser) string {
	var b bytes.Buffer
	_ = report.WriteText(&b, &report.Run{Labs: []*report.Lab{l}}, report.TextOptions{Verbose: true})
	s := b.String()
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	for _, n := range extra {
		s = n.re.ReplaceAllString(s, n.Replace)
	}
	return s
}
