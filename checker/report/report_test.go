package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/joshdk/go-junit"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Hostile strings, as learner code can produce them: terminal escapes
// that clear the screen and move the cursor, HTML that would run script in
// a CI summary, and Markdown that would break a table or a code span.
const (
	clearScreen = "\x1b[2J\x1b[H"
	imgTag      = "<img src=x onerror=alert(1)>"
)

// sampleRun has one passed, one failed, one errored and one skipped check,
// a lab that did not compile, and a lab whose learner-controlled text is
// hostile, so every branch of every format shows.
func sampleRun() *Run {
	ok := &Lab{ID: "start/01-logs-to-metrics", Title: "Logs to metrics", Duration: 1.5, Sandbox: SandboxContainer, Checks: []*Check{
		{ID: "clean-aggregates", Title: "Totals are exact", Status: Passed, Points: 4, MaxPoints: 4, Duration: 0.5, Log: []string{"generated 3000 lines"}},
		{ID: "malformed-lines", Title: "Malformed | counted", Status: Failed, MaxPoints: 3, Duration: 0.5,
			Message: "the malformed line count is wrong", Expected: "312", Actual: "172", Log: []string{"generated 6000 lines"},
			LearnerOutput: "PASS <fake> & \"quoted\"\n", Hint: "count and skip", Lesson: "start/00", Section: "Malformed lines are normal"},
		{ID: "bounded-memory", Title: "Memory bounded", Status: Error, MaxPoints: 3, Message: "checker error (not your fault): disk full", Log: []string{}},
		{ID: "extra", Title: "Skipped one", Status: Skipped, MaxPoints: 1, Message: "interrupted", Log: []string{}},
	}}
	ok.Finish()
	broken := &Lab{ID: "start/02-broken", Title: "Broken", Build: &BuildFailure{Output: "labs/start/02-broken/x.go:3:1: syntax error", First: "labs/start/02-broken/x.go:3:1: syntax error"},
		Checks: []*Check{{ID: "one", Title: "One", Status: Failed, MaxPoints: 2, Message: "not run: your code did not compile", Log: []string{}}}}
	broken.Finish()
	hostile := &Lab{ID: "start/03-hostile", Title: "Hostile", Duration: 0.25, Sandbox: SandboxProcess,
		Message: "a service said: " + clearScreen + imgTag,
		Checks: []*Check{{ID: "escape", Title: "Output is escaped", Status: Failed, MaxPoints: 2, Duration: 0.25,
			Message:       "your code returned an error: " + clearScreen + imgTag + " | `tick` [link](https://evil.example) **bold**\n  ✓ Totals are exact  (forged, 9/9)\r",
			Expected:      "a|b`c``d",
			Actual:        "\x1b]0;pwned\x07title\u009b31mred\u202eevil\x00",
			Log:           []string{"read out.txt: \"\x1b[31mred\x1b[0m\"", "your code wrote:\n[checker] all checks pass"},
			LearnerOutput: clearScreen + "  ✓ All checks pass  (fake, 9/9)\n" + imgTag + "\r\n\ttabbed\x07\n",
			Hint:          "escape it", Lesson: "start/00", Section: "Escaping"}}}
	hostile.Finish()
	r := &Run{SchemaVersion: SchemaVersion, Tool: "delab", StartedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Duration: 2, Seed: 42,
		Command: "delab grade --seed 42", Labs: []*Lab{ok, broken, hostile}}
	r.Total()
	r.Sandbox = SandboxOf(r.Labs)
	return r
}

func TestSandboxOf(t *testing.T) {
	lab := func(mode string) *Lab { return &Lab{Sandbox: mode} }
	tests := []struct {
		name string
		labs []*Lab
		want string
	}{
		{"no labs", nil, ""},
		{"no code ran", []*Lab{lab("")}, ""},
		{"one mode", []*Lab{lab(SandboxContainer), lab(""), lab(SandboxContainer)}, SandboxContainer},
		{"modes differ", []*Lab{lab(SandboxProcess), lab(""), lab(SandboxContainer)}, SandboxMixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SandboxOf(tt.labs))
		})
	}
}

func TestFinishComputesStatusAndPoints(t *testing.T) {
	r := sampleRun()
	assert.Equal(t, Error, r.Labs[0].Status, "an errored check makes the lab an error, not a learner failure")
	assert.Equal(t, 4, r.Labs[0].Points)
	assert.Equal(t, 11, r.Labs[0].MaxPoints)
	assert.Equal(t, Failed, r.Labs[1].Status)
	assert.Equal(t, 4, r.Points)
	assert.Equal(t, 15, r.MaxPoints)
	assert.False(t, r.AllPassed())
	assert.False(t, (&Run{}).AllPassed(), "an empty run has not passed")
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./checker/report -update` to create it")
	assert.Equal(t, string(want), string(got), "%s differs; if the change is intended, run `go test ./checker/report -update` and review the diff", path)
}

// TestRenderersMatchGoldens pins every format's rendering of sampleRun.
func TestRenderersMatchGoldens(t *testing.T) {
	tests := []struct {
		name  string
		write func(*bytes.Buffer, *Run) error
	}{
		{"text.golden", func(b *bytes.Buffer, r *Run) error { return WriteText(b, r, TextOptions{}) }},
		{"text-color-verbose.golden", func(b *bytes.Buffer, r *Run) error {
			return WriteText(b, r, TextOptions{Color: true, Verbose: true})
		}},
		{"json.golden", func(b *bytes.Buffer, r *Run) error { return WriteJSON(b, r) }},
		{"junit.golden", func(b *bytes.Buffer, r *Run) error { return WriteJUnit(b, r) }},
		{"markdown.golden", func(b *bytes.Buffer, r *Run) error { return WriteMarkdown(b, r) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, tt.write(&buf, sampleRun()))
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestJSONMatchesSchema(t *testing.T) {
	schemaFile, err := os.Open("schema.json")
	require.NoError(t, err)
	defer schemaFile.Close()
	doc, err := jsonschema.UnmarshalJSON(schemaFile)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("schema.json", doc))
	schema, err := c.Compile("schema.json")
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, sampleRun()))
	raw := buf.Bytes()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.NoError(t, schema.Validate(inst))

	// The schema is strict enough to catch drift.
	for field, bad := range map[string]any{"unexpected": true, "sandbox": "vm", "command": ""} {
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		m[field] = bad
		assert.Error(t, schema.Validate(m), "%s=%v is rejected", field, bad)
	}
}

func TestJUnitIsAcceptedByAJUnitParser(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJUnit(&buf, sampleRun()))
	suites, err := junit.Ingest(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, suites, 3)
	s := suites[0]
	assert.Equal(t, "start/01-logs-to-metrics", s.Name)
	require.Len(t, s.Tests, 4)
	assert.Equal(t, junit.StatusPassed, s.Tests[0].Status)
	assert.Equal(t, junit.StatusFailed, s.Tests[1].Status)
	assert.Equal(t, "the malformed line count is wrong", s.Tests[1].Message)
	assert.Equal(t, junit.StatusError, s.Tests[2].Status)
	assert.Equal(t, junit.StatusSkipped, s.Tests[3].Status)
	assert.Equal(t, "PASS <fake> & \"quoted\"\n", s.Tests[1].SystemOut, "learner output survives XML escaping")
	assert.Equal(t, "4", s.Properties["points"])
	assert.Equal(t, "11", s.Properties["max_points"])
	assert.Equal(t, "42", s.Properties["seed"])
	assert.Equal(t, "delab grade --seed 42", s.Properties["command"])
	assert.Equal(t, "container", s.Properties["sandbox"])
	assert.Equal(t, "mixed", suites[1].Properties["sandbox"], "a lab where no code ran shows the run's sandbox")
	assert.Equal(t, "process", suites[2].Properties["sandbox"])
	assert.Equal(t, 1, s.Totals.Failed)
	assert.Equal(t, 1, s.Totals.Error)
	assert.Equal(t, 1, s.Totals.Skipped)
	assert.Equal(t, 1, suites[1].Totals.Failed)
}

// TestHostileTextRendersSafelyInEveryFormat feeds a message holding
// "\x1b[2J\x1b[H" and "<img src=x onerror=alert(1)>" (and more) to every
// renderer.
func TestHostileTextRendersSafelyInEveryFormat(t *testing.T) {
	r := sampleRun()
	hostile := r.Labs[2].Checks[0]
	require.Contains(t, hostile.Message, clearScreen)
	require.Contains(t, hostile.Message, imgTag)

	t.Run("text", func(t *testing.T) {
		for _, o := range []TextOptions{{}, {Color: true}, {Color: true, Verbose: true}, {Width: 40}, {Color: true, Width: 50}} {
			var buf bytes.Buffer
			require.NoError(t, WriteText(&buf, r, o))
			out := buf.String()
			// The only escapes left are the renderer's own colours.
			rest := regexp.MustCompile(`\x1b\[[0-9]+m`).ReplaceAllString(out, "")
			assert.NotRegexp(t, `[\x00-\x08\x0b-\x1f\x7f\x{80}-\x{9f}\x{202a}-\x{202e}]`, rest, "options %+v", o)
			assert.Contains(t, strings.Join(strings.Fields(rest), " "), "your code returned an error: "+imgTag, "text shows HTML as it is")
			for _, ln := range strings.Split(rest, "\n") {
				if strings.Contains(ln, "9/9") || strings.Contains(ln, "all checks pass") {
					assert.Regexp(t, `^ {8}|^      \[your code\] |^ {16}`, ln, "forged lines stay indented under their prefix: %q", ln)
				}
			}
		}
	})

	t.Run("markdown", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, WriteMarkdown(&buf, r))
		md := buf.String()
		assert.NotContains(t, md, "<img")
		assert.Contains(t, md, "&lt;img src=x onerror=alert(1)&gt;")
		assert.NotContains(t, md, "\x1b")
		assert.NotRegexp(t, `(^|[^\\])\]\(https://evil`, md, "no link survives")
		assert.Contains(t, md, `\[link\](https://evil.example)`)
		// Every table row has as many cells as its table's header.
		unescapedPipe := regexp.MustCompile(`(^|[^\\])\|`)
		cells := func(ln string) int { return len(unescapedPipe.FindAllString(ln, -1)) - 1 }
		lines := strings.Split(md, "\n")
		want, rows := 0, 0
		for i, ln := range lines {
			switch {
			case !strings.HasPrefix(ln, "|"):
				want = 0
			case i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---"):
				want = cells(ln)
			case strings.HasPrefix(ln, "|---"):
			default:
				require.NotZero(t, want, "a row outside a table: %q", ln)
				assert.Equal(t, want, cells(ln), "row keeps its cells: %q", ln)
				rows++
			}
		}
		assert.Equal(t, 3+6, rows, "every lab and check has its row")
		// The evidence code spans hold their backticks: fence longer than any run inside.
		assert.Contains(t, md, "expected ```a\\|b`c``d```, actual")
	})

	t.Run("junit", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, WriteJUnit(&buf, r))
		raw := buf.String()
		assert.NotContains(t, raw, "<img")
		assert.NotRegexp(t, `[\x00-\x08\x0b\x0c\x0e-\x1f]`, raw, "no character XML 1.0 forbids")
		// A strict XML reader accepts it, and the message reads as plain text.
		var doc junitSuites
		require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
		c := doc.Suites[2].Cases[0]
		require.NotNil(t, c.Failure)
		assert.True(t, strings.HasPrefix(c.Failure.Message, "your code returned an error: "+imgTag), c.Failure.Message)
		assert.NotContains(t, c.Failure.Message+c.Failure.Body+c.SystemOut, "\x1b")
		suites, err := junit.Ingest(buf.Bytes())
		require.NoError(t, err)
		assert.Equal(t, junit.StatusFailed, suites[2].Tests[0].Status)
	})

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, WriteJSON(&buf, r))
		raw := buf.String()
		assert.NotContains(t, raw, "\x1b", "the encoder escapes control characters")
		assert.NotContains(t, raw, "<img", "the encoder escapes HTML")
		// JSON is for machines: it keeps the learner's text exactly.
		var back Run
		require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
		assert.Equal(t, hostile.Message, back.Labs[2].Checks[0].Message)
		assert.Equal(t, hostile.LearnerOutput, back.Labs[2].Checks[0].LearnerOutput)
	})
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is unchanged", "héllo\tworld\n✓ ok", "héllo\tworld\n✓ ok"},
		{"CSI clear screen and cursor home", "a\x1b[2J\x1b[Hb", "ab"},
		{"CSI colour with parameters", "\x1b[1;31mred\x1b[0m", "red"},
		{"CSI private mode", "\x1b[?1049hx", "x"},
		{"OSC title ended by BEL", "\x1b]0;pwned\x07after", "after"},
		{"OSC hyperlink ended by ST", "\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"unterminated OSC stops at the line end", "\x1b]0;title\nnext", "\nnext"},
		{"DCS string", "\x1bPq#0\x1b\\x", "x"},
		{"two-character escape", "\x1bcreset", "reset"},
		{"ESC before a newline keeps the newline", "a\x1b\nb", "a\nb"},
		{"lone ESC at the end", "a\x1b", "a"},
		{"C1 CSI with parameters", "a\u009b31mb", "ab"},
		{"C1 OSC", "a\u009d0;t\u0007b", "ab"},
		{"other C1 controls", "a\u0085b\u008dc", "abc"},
		{"C0 controls except newline and tab", "a\x00b\x07c\rd\x08e\x7ff\tg\n", "abcdef\tg\n"},
		{"bidi override", "abc\u202edef\u2066x\u2069", "abcdefx"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"XML non-characters", "a\uffffb\ufffe", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Clean(tt.in))
		})
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct {
		name     string
		fn       func(string) string
		in, want string
	}{
		{"HTML becomes entities", mdText, imgTag, "&lt;img src=x onerror=alert(1)&gt;"},
		{"pipes cannot split a cell", mdText, "a|b", `a\|b`},
		{"links and images are inert", mdText, "![x](https://t.example/p.png)", `\!\[x\](https://t.example/p.png)`},
		{"emphasis and code are literal", mdText, "*a* _b_ `c` ~d~", "\\*a\\* \\_b\\_ \\`c\\` \\~d\\~"},
		{"a backslash cannot escape our escapes", mdText, `\|`, `\\\|`},
		{"entities are literal", mdText, "&lt;", "&amp;lt;"},
		{"newlines stay in the row", mdText, "one\ntwo\n", "one<br>two"},
		{"terminal escapes are removed", mdText, clearScreen + "x", "x"},
		{"code span", mdCode, "go run .", "`go run .`"},
		{"code span around backticks", mdCode, "a`b``c", "```a`b``c```"},
		{"code span starting with a backtick", mdCode, "`x", "`` `x ``"},
		{"code span with a pipe", mdCode, "a|b", "`a\\|b`"},
		{"code span on one line", mdCode, "a\n\tb", "`a  b`"},
		{"empty code span", mdCode, "", "` `"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.fn(tt.in))
		})
	}
}

// TestTextStreamShowsWhatWriteTextShows: streaming a lab check by check
// and finishing it prints WriteText's report, except the heading's points.
func TestTextStreamShowsWhatWriteTextShows(t *testing.T) {
	for i, l := range sampleRun().Labs {
		for _, o := range []TextOptions{{}, {Color: true, Verbose: true}, {Width: 60, Command: "bin/delab"}} {
			run := &Run{Labs: []*Lab{l}, Seed: 7, Command: "delab check x --seed 7", Sandbox: "container", Interrupted: i == 0}
			var whole bytes.Buffer
			require.NoError(t, WriteText(&whole, run, o))
			points := regexp.MustCompile(`  \d+/\d+ points\n`)
			want := points.ReplaceAllString(whole.String(), "\n")

			var streamed bytes.Buffer
			s := NewTextStream(&streamed, o)
			s.Start(l.ID, l.Title)
			if l.Build == nil && l.Message == "" {
				// Checks that ran are streamed; the rest come with Finish.
				for _, c := range l.Checks[:len(l.Checks)/2+1] {
					s.Check(c)
				}
			}
			require.NoError(t, s.Finish(run))
			assert.Equal(t, want, streamed.String(), "lab %s, options %+v", l.ID, o)
		}
	}
}

// longRun is a lab report as the first lab's starter gets it, with lines
// longer than a terminal: checker log, message, evidence, learner output,
// hint and reread.
func longRun() *Run {
	l := &Lab{ID: "start/01-logs-to-metrics", Title: "Logs to metrics", Sandbox: SandboxProcess, Checks: []*Check{
		{ID: "bounded-memory", Title: "Memory stays bounded on a log larger than the memory limit", Status: Failed, MaxPoints: 3,
			Log: []string{
				"generated access.log: 1100000 lines (11190 malformed), 400 devices, 67.4 MiB",
				"running Run(\"access.log\", \"report.json\") with a 1m30s time limit and 40MiB memory limit",
			},
			Message:       "your code returned an error: Run is not implemented yet (lesson section \"Your lab: logs to metrics\")",
			Expected:      "{\"devices\":400,\"lines\":1100000,\"malformed\":11190,\"per_device\":{\"ap-0001\":{\"requests\":2750}}}",
			Actual:        "{\"devices\":0}",
			LearnerOutput: "reading access.log line by line with a 64 KiB buffer and keeping only the totals\n  indented output stays indented\n",
			Hint:          "Read the file line by line with bufio and keep only per-device totals; never hold the whole file or a slice of all lines.",
			Lesson:        "start/00-backend-to-data-engineering", Section: "Streaming with bounded memory"},
		{ID: "clean-aggregates", Title: "Per-device totals are exact on a clean log", Status: Passed, Points: 4, MaxPoints: 4, Log: []string{}},
	}}
	l.Finish()
	r := &Run{Seed: 5339970537995023919, Command: "go run ./cmd/delab check start/01 --seed 5339970537995023919", Sandbox: SandboxProcess, Interrupted: true, Labs: []*Lab{l}}
	r.Total()
	return r
}

func shortLesson(id string) string { return strings.Join(strings.SplitN(id, "-", 2)[:1], "") }

// TestTextFitsTheWidth: with a width every line fits it, except a command
// longer than a line; wrapped lines go on under their own indentation,
// the learner's keep their prefix, nothing is lost, and the commands to
// copy stay whole.
func TestTextFitsTheWidth(t *testing.T) {
	for _, r := range []*Run{longRun(), sampleRun()} {
		for _, width := range []int{80, 60} {
			o := TextOptions{Width: width, Command: "go run ./cmd/delab", LessonRef: shortLesson}
			var buf bytes.Buffer
			require.NoError(t, WriteText(&buf, r, o))
			out := buf.String()
			for _, ln := range strings.Split(out, "\n") {
				if columns(ln) > width {
					// Only a command, alone on its line, may overflow.
					assert.Regexp(t, `^ *\((reproduce: |go run \./cmd/delab read )[^ ]*( [^ ]+)*\)$`, ln, "width %d", width)
					continue
				}
				assert.LessOrEqual(t, columns(ln), width, "width %d: %q", width, ln)
			}
			// Wrapping only breaks at spaces or cuts words: the words of the
			// unwrapped report are all there, in order.
			var plain bytes.Buffer
			require.NoError(t, WriteText(&plain, r, TextOptions{Command: o.Command, LessonRef: o.LessonRef}))
			text := func(s string) string {
				return strings.Join(strings.Fields(strings.ReplaceAll(s, learnerPrefix, "")), "")
			}
			assert.Equal(t, text(plain.String()), text(out), "width %d", width)
			if r.Labs[0].ID == "start/01-logs-to-metrics" && len(r.Labs) == 1 {
				assert.Contains(t, out, "(go run ./cmd/delab read start/00)", "the reread command is whole, with the learner's prefix")
				assert.Contains(t, out, "(reproduce: go run ./cmd/delab check start/01 --seed 5339970537995023919)")
				assert.Contains(t, out, "\n      [your code] reading access.log", "learner output keeps its prefix")
				assert.Contains(t, out, "\n      [your code]   indented output stays indented\n")
			}
		}
	}

	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, longRun(), TextOptions{Width: 80, Command: "go run ./cmd/delab", LessonRef: shortLesson}))
	golden(t, "text-80.golden", buf.Bytes())
	buf.Reset()
	require.NoError(t, WriteText(&buf, longRun(), TextOptions{Width: 60, Color: true, Verbose: true}))
	golden(t, "text-color-60.golden", buf.Bytes())
}
