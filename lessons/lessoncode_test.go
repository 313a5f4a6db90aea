package lessons_test

// Code a lesson shows must compile against the versions go.mod pins: a
// learner copies it, and a snippet written against another version of a
// library (a method that returns an error in this one, a field that moved)
// teaches them to distrust the lesson.
//
// Convention for lesson authors: a ```go block that is a complete file
// (its first line starts with "package ") is compiled; so is every block
// marked by an HTML comment on the line before its fence,
//
//	<!-- compile -->
//	```go
//	package producer
//	...
//
// which glamour does not render. A marked block must be a complete file,
// and a marker must be followed by a ```go block: both are errors here, so
// a snippet is never silently left out. Fragments (no package clause, no
// marker) are not compiled.

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/delab-dev/delab/lessons"
)

const compileMarker = "<!-- compile -->"

// snippet is one ```go block of a lesson.
type snippet struct {
	lesson string // path under lessons/, e.g. kafka/01-the-log.md
	line   int    // the line of the block's first code line, from 1
	code   string
	marked bool
}

// snippets returns the blocks of md to compile, and the problems with its
// markers.
func snippets(lesson, md string) (out []snippet, problems []string) {
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == compileMarker {
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```go" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s must be followed, on the next line, by a ```go fence", lesson, i+1, compileMarker))
			}
			continue
		}
		if l != "```go" {
			continue
		}
		marked := i > 0 && strings.TrimSpace(lines[i-1]) == compileMarker
		start := i + 1
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		code := strings.Join(lines[start:end], "\n") + "\n"
		i = end
		complete := strings.HasPrefix(code, "package ")
		switch {
		case marked && !complete:
			problems = append(problems, fmt.Sprintf("%s:%d: a block marked %s must be a complete file starting with a package clause", lesson, start, compileMarker))
		case complete:
			out = append(out, snippet{lesson: lesson, line: start + 1, code: code, marked: marked})
		}
	}
	return out, problems
}

func TestSnippetsFindsMarkedAndCompleteBlocks(t *testing.T) {
	md := "text\n\n<!-- compile -->\n```go\npackage a\n```\n\n```go\nx := 1\n```\n\n```go\npackage b\n```\n"
	got, problems := snippets("t.md", md)
	if len(problems) != 0 {
		t.Fatalf("problems: %q", problems)
	}
	if len(got) != 2 || !got[0].marked || got[0].line != 5 || got[0].code != "package a\n" || got[1].marked || got[1].code != "package b\n" {
		t.Fatalf("got %+v", got)
	}
	_, problems = snippets("t.md", "<!-- compile -->\n```go\nx := 1\n```\n<!-- compile -->\n\n```go\npackage c\n```\n")
	if len(problems) != 2 {
		t.Fatalf("a marked fragment and a detached marker must both be reported, got %q", problems)
	}
}

// TestLessonCodeCompiles type-checks and vets every snippet with the go
// command, in a throwaway module whose go.mod requires exactly what the
// repository's does, offline (GOPROXY=off, -mod=readonly): the modules
// come from the module cache the repository's own build filled.
func TestLessonCodeCompiles(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	var all []snippet
	err = fs.WalkDir(lessons.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		md, err := fs.ReadFile(lessons.FS, p)
		if err != nil {
			return err
		}
		got, problems := snippets(p, string(md))
		for _, pr := range problems {
			t.Error(pr)
		}
		all = append(all, got...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The snippets issue 20 found wrong must stay compiled: losing their
	// marker would quietly stop this test from checking them.
	for _, lesson := range []string{"kafka/01-the-log.md", "serialization/01-parquet-internals.md"} {
		found := false
		for _, s := range all {
			found = found || (s.lesson == lesson && s.marked)
		}
		if !found {
			t.Errorf("%s has no block marked %s any more", lesson, compileMarker)
		}
	}

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(gomod, []byte("module delab.local/lessoncode"))
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644))
	must(os.WriteFile(filepath.Join(dir, "go.sum"), gosum, 0o644))
	for i, s := range all {
		d := filepath.Join(dir, "s"+strconv.Itoa(i))
		must(os.Mkdir(d, 0o755))
		must(os.WriteFile(filepath.Join(d, "snippet.go"), []byte(s.code), 0o644))
	}

	cmd := exec.Command(goBin, "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Logf("%d lesson snippets compile and vet clean", len(all))
		return
	}
	// Point each message at the lesson line, not at the temporary file.
	at := regexp.MustCompile(`(?:\./)?s(\d+)/snippet\.go:(\d+)`)
	sc := bufio.NewScanner(bytes.NewReader(out))
	var msg strings.Builder
	for sc.Scan() {
		msg.WriteString(at.ReplaceAllStringFunc(sc.Text(), func(m string) string {
			g := at.FindStringSubmatch(m)
			i, _ := strconv.Atoi(g[1])
			n, _ := strconv.Atoi(g[2])
			if i >= len(all) {
				return m
			}
			return fmt.Sprintf("lessons/%s:%d", all[i].lesson, all[i].line+n-1)
		}))
		msg.WriteString("\n")
	}
	t.Fatalf("lesson code does not compile against go.mod's versions (go vet: %v):\n%s", err, msg.String())
}
