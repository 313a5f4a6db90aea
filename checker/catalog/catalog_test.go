package catalog_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

func TestShippedContentIsValid(t *testing.T) {
	c, err := catalog.Load(lessons.FS, labs.FS)
	require.NoError(t, err)
	require.NotEmpty(t, c.Labs())
	for _, l := range c.Labs() {
		assert.NotEmpty(t, l.Entry, "%s: entry lists the files the learner edits", l.ID)
		for _, ch := range l.Checks {
			for _, h := range ch.Hints {
				assert.NotEmpty(t, strings.TrimSpace(h))
			}
		}
	}
	for _, ls := range c.Lessons() {
		assert.NotEmpty(t, ls.Labs, "%s: every lesson leads into a lab", ls.ID)
	}
}

const tracks = "tracks:\n  - id: start\n    title: Start\n"

const lesson = `---
id: start/00-intro
title: Intro
track: start
order: 0
minutes: 10
labs: [start/01-first]
---
# Intro
## Section one
text
### Section two
`

const lab = `title: First
lesson: start/00-intro
package: first
entry: [first.go]
timeout: 1m
checks:
  - id: works
    title: It works
    points: 2
    timeout: 10s
    memory: 64MiB
    section: Section one
`

const hints = "works: [try harder, try much harder]\n"

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// load loads a catalog from in-memory lessons, labs and trusted hints.
func load(lessonFiles, labFiles, hintFiles map[string]string) (*catalog.Catalog, error) {
	return catalog.LoadWithHints(mapFS(lessonFiles), mapFS(labFiles), mapFS(hintFiles))
}

func TestLoadValid(t *testing.T) {
	c, err := load(map[string]string{"tracks.yaml": tracks, "start/00-intro.md": lesson}, map[string]string{"start/01-first/lab.yaml": lab}, map[string]string{"start/01-first/hints.yaml": hints})
	require.NoError(t, err)
	l := c.Lab("start/01-first")
	require.NotNil(t, l)
	assert.Equal(t, "labs/start/01-first", l.Dir)
	assert.Equal(t, "01", l.Number)
	assert.Equal(t, "first", l.Slug)
	assert.Equal(t, 2, l.MaxPoints())
	assert.Equal(t, catalog.ByteSize(64<<20), l.Checks[0].Memory)
	assert.Equal(t, []string{"Section one", "Section two"}, c.Lesson("start/00-intro").Sections)
	assert.Equal(t, []string{"try harder", "try much harder"}, l.Checks[0].Hints, "hints come from the trusted hints.yaml, in order")
}

func TestShippedHintsAreTrustedOnly(t *testing.T) {
	c, err := catalog.Load(lessons.FS, labs.FS)
	require.NoError(t, err)
	for _, l := range c.Labs() {
		raw, err := fs.ReadFile(labs.FS, l.ID+"/lab.yaml")
		require.NoError(t, err)
		assert.NotContains(t, string(raw), "hints:", "%s: lab.yaml is in the learner's folder; hints belong in checker/labs/%s/hints.yaml", l.ID, l.ID)
		for _, ch := range l.Checks {
			assert.NotEmpty(t, ch.Hints, "%s: check %s has its hints from the embedded checker/labs copy", l.ID, ch.ID)
		}
	}
	// The hints FS is what fills them: other hints give other text.
	hintFiles := fstest.MapFS{}
	for _, l := range c.Labs() {
		var b strings.Builder
		for _, ch := range l.Checks {
			b.WriteString(ch.ID + ": [only hint of " + ch.ID + "]\n")
		}
		hintFiles[l.ID+"/hints.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	}
	c2, err := catalog.LoadWithHints(lessons.FS, labs.FS, hintFiles)
	require.NoError(t, err)
	first := c2.Labs()[0]
	assert.Equal(t, []string{"only hint of " + first.Checks[0].ID}, first.Checks[0].Hints)
}

func TestMalformedHintsNameFileAndField(t *testing.T) {
	tests := []struct {
		name  string
		lab   string
		hints map[string]string
		want  string
	}{
		{"no hints", lab, map[string]string{"start/01-first/hints.yaml": "works: []\n"}, "checker/labs/start/01-first/hints.yaml: works: a check needs at least one hint"},
		{"check without hints", lab, map[string]string{"start/01-first/hints.yaml": "# nothing yet\n"}, "checker/labs/start/01-first/hints.yaml: works: a check needs at least one hint"},
		{"empty hint", lab, map[string]string{"start/01-first/hints.yaml": "works: [fine, \" \"]\n"}, "checker/labs/start/01-first/hints.yaml: works[1]: must not be empty"},
		{"hints for an unknown check", lab, map[string]string{"start/01-first/hints.yaml": hints + "wroks: [typo]\n"}, `checker/labs/start/01-first/hints.yaml: wroks: labs/start/01-first/lab.yaml has no check "wroks" (its checks: works)`},
		{"hints not a list", lab, map[string]string{"start/01-first/hints.yaml": "works: {a: b}\n"}, "checker/labs/start/01-first/hints.yaml: yaml: unmarshal errors:\n  line 1:"},
		{"missing hints file", lab, map[string]string{}, "checker/labs/start/01-first/hints.yaml: missing: every check of labs/start/01-first/lab.yaml needs at least one hint there"},
		{"hints without a lab", lab, map[string]string{"start/01-first/hints.yaml": hints, "start/02-gone/hints.yaml": hints}, "checker/labs/start/02-gone/hints.yaml: no lab has these hints: there is no labs/start/02-gone/lab.yaml"},
		{"hints left in lab.yaml", lab + "    hints: [try harder]\n", map[string]string{"start/01-first/hints.yaml": hints}, "labs/start/01-first/lab.yaml: checks[0].hints: hints do not belong in the learner's folder: move them to checker/labs/start/01-first/hints.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(map[string]string{"tracks.yaml": tracks, "start/00-intro.md": lesson}, map[string]string{"start/01-first/lab.yaml": tt.lab}, tt.hints)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestMalformedContentNamesFileAndField(t *testing.T) {
	tests := []struct {
		name    string
		lessons map[string]string
		labs    map[string]string
		want    string
	}{
		{"missing tracks.yaml", map[string]string{}, nil, "lessons/tracks.yaml: open tracks.yaml"},
		{"yaml syntax", map[string]string{"tracks.yaml": "tracks: [\n"}, nil, "lessons/tracks.yaml: yaml:"},
		{"typo in a lab key", nil, map[string]string{"start/01-first/lab.yaml": strings.Replace(lab, "points:", "pionts:", 1)}, "labs/start/01-first/lab.yaml: yaml: unmarshal errors:\n  line 9: field pionts not found"},
		{"zero points", nil, map[string]string{"start/01-first/lab.yaml": strings.Replace(lab, "points: 2", "points: 0", 1)}, "labs/start/01-first/lab.yaml: checks[0].points: must be at least 1"},
		{"bad duration", nil, map[string]string{"start/01-first/lab.yaml": strings.Replace(lab, "timeout: 10s", "timeout: soon", 1)}, `line 10: "soon" is not a duration`},
		{"bad memory", nil, map[string]string{"start/01-first/lab.yaml": strings.Replace(lab, "64MiB", "lots", 1)}, `line 11: "lots" is not a size`},
		{"duplicate check", nil, map[string]string{"start/01-first/lab.yaml": lab + strings.SplitN(lab, "checks:\n", 2)[1]}, `checks[1].id: duplicate check id "works"`},
		{"unknown service", nil, map[string]string{"start/01-first/lab.yaml": lab + "services: [cassandra]\n"}, `services[0]: unknown service "cassandra"`},
		{"section not in lesson", nil, map[string]string{"start/01-first/lab.yaml": strings.Replace(lab, "section: Section one", "section: Nowhere", 1)}, `checks[0].section: lesson start/00-intro has no section "Nowhere"`},
		{"unknown lesson", nil, map[string]string{"start/01-first/lab.yaml": strings.Replace(lab, "lesson: start/00-intro", "lesson: start/99", 1)}, `labs/start/01-first/lab.yaml: lesson: no lesson "start/99"`},
		{"badly named folder", nil, map[string]string{"start/first/lab.yaml": lab}, `labs/start/first/lab.yaml: folder "first" must be named NN-slug`},
		{"unknown track", nil, map[string]string{"kafka/01-first/lab.yaml": lab}, `labs/kafka/01-first/lab.yaml: folder is in unknown track "kafka"`},
		{"lesson without front matter", map[string]string{"start/00-intro.md": "# Intro\n"}, nil, "lessons/start/00-intro.md: missing front matter"},
		{"lesson id does not match file", map[string]string{"start/00-intro.md": strings.Replace(lesson, "id: start/00-intro", "id: start/intro", 1)}, nil, `lessons/start/00-intro.md: id: is "start/intro", but the file's place makes it "start/00-intro"`},
		{"lesson names a missing lab", map[string]string{"start/00-intro.md": strings.Replace(lesson, "labs: [start/01-first]", "labs: [start/07-nope]", 1)}, nil, `lessons/start/00-intro.md: labs[0]: no lab "start/07-nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := map[string]string{"tracks.yaml": tracks, "start/00-intro.md": lesson}
			lb := map[string]string{"start/01-first/lab.yaml": lab}
			if tt.lessons != nil {
				ls = tt.lessons
				if _, ok := ls["tracks.yaml"]; !ok && tt.name != "missing tracks.yaml" {
					ls["tracks.yaml"] = tracks
				}
			}
			if tt.labs != nil {
				lb = tt.labs
			}
			c, err := catalog.LoadWithHints(mapFS(ls), mapFS(lb), mapFS(map[string]string{"start/01-first/hints.yaml": hints, "kafka/01-first/hints.yaml": hints, "start/first/hints.yaml": hints}))
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	bad1 := strings.Replace(lab, "points: 2", "points: 0", 1)
	bad2 := strings.Replace(lab, "package: first", "package: First", 1)
	_, err := load(map[string]string{"tracks.yaml": tracks, "start/00-intro.md": lesson},
		map[string]string{"start/01-first/lab.yaml": bad1, "start/02-second/lab.yaml": bad2},
		map[string]string{"start/01-first/hints.yaml": hints, "start/02-second/hints.yaml": hints})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "labs/start/01-first/lab.yaml: checks[0].points")
	assert.Contains(t, err.Error(), `labs/start/02-second/lab.yaml: package: "First" is not a lower-case Go package name`)
	var ce *catalog.Error
	assert.True(t, errors.As(err, &ce))
}

func TestResolveLab(t *testing.T) {
	c, err := catalog.Load(lessons.FS, labs.FS)
	require.NoError(t, err)
	for _, q := range []string{"start/01-logs-to-metrics", "start/01", "01-logs-to-metrics", "logs-to-metrics", "labs/start/01-logs-to-metrics/", " start/01 "} {
		l, err := c.ResolveLab(q)
		if assert.NoError(t, err, q) {
			assert.Equal(t, "start/01-logs-to-metrics", l.ID)
		}
	}
	_, err = c.ResolveLab("log-to-metrics")
	var nf *catalog.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, []string{"start/01-logs-to-metrics"}, nf.Suggestions)
	assert.Contains(t, err.Error(), `did you mean "start/01-logs-to-metrics"?`)
	_, err = c.ResolveLab("zzzzzzzzzz")
	require.ErrorAs(t, err, &nf)
	assert.Empty(t, nf.Suggestions, "no far-fetched suggestions")
}

func TestResolveLesson(t *testing.T) {
	c, err := catalog.Load(lessons.FS, labs.FS)
	require.NoError(t, err)
	for _, q := range []string{"start/00-backend-to-data-engineering", "start/00", "backend-to-data-engineering", "00-backend-to-data-engineering", "lessons/start/00-backend-to-data-engineering.md"} {
		l, err := c.ResolveLesson(q)
		if assert.NoError(t, err, q) {
			assert.Equal(t, "start/00-backend-to-data-engineering", l.ID)
		}
	}
}

func TestAmbiguousShortID(t *testing.T) {
	second := strings.Replace(lab, "title: First", "title: Second", 1)
	c, err := load(map[string]string{"tracks.yaml": tracks + "  - id: other\n    title: Other\n", "start/00-intro.md": lesson},
		map[string]string{"start/01-first/lab.yaml": lab, "other/01-first/lab.yaml": second},
		map[string]string{"start/01-first/hints.yaml": hints, "other/01-first/hints.yaml": hints})
	require.NoError(t, err)
	_, err = c.ResolveLab("first")
	var amb *catalog.AmbiguousError
	require.ErrorAs(t, err, &amb)
	assert.ElementsMatch(t, []string{"start/01-first", "other/01-first"}, amb.Matches)
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"64MiB": 64 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10, "100": 100, "10B": 10} {
		got, err := catalog.ParseByteSize(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "MiB", "-1MiB", "1.5GiB", "64mb", "0"} {
		_, err := catalog.ParseByteSize(in)
		assert.Error(t, err, in)
	}
	assert.Equal(t, "40MiB", catalog.ByteSize(40<<20).String())
}
