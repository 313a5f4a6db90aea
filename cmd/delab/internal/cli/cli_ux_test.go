package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/progress"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

func TestCommandPrefixFollowsHowDelabWasStarted(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "delab")
	require.NoError(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	other := filepath.Join(dir, "elsewhere", "delab")
	require.NoError(t, os.MkdirAll(filepath.Dir(other), 0o755))
	require.NoError(t, os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755))
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }
	tests := []struct {
		name     string
		arg0     string
		lookPath func(string) (string, error)
		want     string
	}{
		{"go run, fresh build", "/tmp/go-build612336970/b001/exe/delab", notOnPath, "go run ./cmd/delab"},
		{"go run, cached build", "/home/ana/.cache/go-build/18/1836b5-d/delab", notOnPath, "go run ./cmd/delab"},
		{"on PATH", "delab", notOnPath, "delab"},
		{"by path, not on PATH", bin, notOnPath, bin},
		{"by path, PATH finds the same file", bin, func(string) (string, error) { return bin, nil }, "delab"},
		{"by path, PATH finds another delab", bin, func(string) (string, error) { return other, nil }, bin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, commandPrefixFor(tt.arg0, tt.lookPath))
		})
	}
}

// backticked returns every `...` span of s.
func backticked(s string) []string {
	parts := strings.Split(s, "`")
	var out []string
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

func TestPrintedCommandsRunAsTheLearnerStartedDelab(t *testing.T) {
	prefix := commandPrefix()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"dashboard, nothing read", nil, prefix + " read start/00"},
		{"hint", []string{"hint", "start/01"}, prefix + " hint start/01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, starterGo)
			require.Equal(t, ExitOK, e.run(tt.args...))
			out := strings.Join(strings.Fields(e.out.String()), " ") // undo wrapping
			assert.Contains(t, out, "`"+tt.want)
			for _, c := range backticked(out) {
				if strings.Contains(c, "delab ") {
					assert.True(t, strings.HasPrefix(c, prefix+" "), "%q does not start with %q", c, prefix)
				}
			}
		})
	}
}

func TestLessonCommandsAreRewrittenForTheInvocation(t *testing.T) {
	md := "Run `delab check start/01` now.\n\n```sh\ndelab check start/01\n$ delab hint start/01\n```\n\ndelab is the tool; `delab` alone is the dashboard.\n"
	got := runnableCommands(md, "go run ./cmd/delab")
	assert.Equal(t, "Run `go run ./cmd/delab check start/01` now.\n\n```sh\ngo run ./cmd/delab check start/01\n$ go run ./cmd/delab hint start/01\n```\n\ndelab is the tool; `delab` alone is the dashboard.\n", got)
	assert.Equal(t, md, runnableCommands(md, "delab"))
}

// watchSession runs watchRun in the background with keys typed through
// a pipe and a fake check whose results come from results, in order
// (the last one repeats).
type watchSession struct {
	out, errOut *syncBuffer
	keys        *io.PipeWriter
	runs        atomic.Int32
	checked     chan string
	done        chan error
	cancel      context.CancelFunc
}

func startWatch(t *testing.T, e *env, interactive, terminal bool, results ...error) *watchSession {
	t.Helper()
	ws := &watchSession{out: &syncBuffer{}, errOut: &syncBuffer{}, checked: make(chan string, 10), done: make(chan error, 1)}
	keysIn, keysOut := io.Pipe()
	ws.keys = keysOut
	ios := &IOStreams{In: keysIn, Out: ws.out, ErrOut: ws.errOut, IsTerminal: terminal, Width: 80}
	e.f.IO = ios
	require.NoError(t, os.MkdirAll(filepath.Join(e.repo, "labs/serialization/01-csv-to-arrow"), 0o755))
	ctx, cancel := context.WithCancel(context.Background())
	ws.cancel = cancel
	t.Cleanup(func() { cancel(); keysOut.Close() })
	go func() {
		ws.done <- watchRun(ctx, &WatchOptions{IO: ios, Factory: e.f, Lab: "start/01", Repo: func() string { return "" },
			Poll: true, Interval: 20 * time.Millisecond, Debounce: 20 * time.Millisecond, Interactive: interactive,
			Check: func(_ context.Context, lab *catalog.Lab) error {
				n := int(ws.runs.Add(1))
				ws.checked <- lab.ID
				return results[min(n, len(results))-1]
			}})
	}()
	return ws
}

func (ws *watchSession) press(t *testing.T, key string) {
	t.Helper()
	_, err := ws.keys.Write([]byte(key))
	require.NoError(t, err)
}

// waitFor waits until the output holds text, comparing with runs of white
// space as one space: the screen wraps long lines. It waits for the whole
// text, so a caller that asserts on a later line waits for that line.
func (ws *watchSession) waitFor(t *testing.T, text string) {
	t.Helper()
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	require.Eventually(t, func() bool { return strings.Contains(flat(ws.out.String()), flat(text)) }, 5*time.Second, 10*time.Millisecond,
		"waiting for %q in:\n%s", text, ws.out.String())
}

func (ws *watchSession) ended(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ws.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("watch did not end; output:\n%s", ws.out.String())
		return nil
	}
}

func TestWatchWithoutATerminalEndsWhenTheLabPasses(t *testing.T) {
	e := newEnv(t, starterGo)
	ws := startWatch(t, e, false, false, nil)
	require.NoError(t, ws.ended(t), "exit 0 once the lab passes")
	out := ws.out.String()
	assert.Regexp(t, `\nStart here: from backend to data engineering  \[-{10,30}\]  0/1 labs passed\n`, out)
	assert.Contains(t, out, "✓ start/01 passes. Next: serialization/01 — CSV to Arrow.")
	assert.NotContains(t, out, "\x1b[2J", "no screen clearing when not on a terminal")
	assert.NotContains(t, out, "q quit", "no keys without a terminal")
	assert.NotContains(t, out, "watch start/01", "watch does not suggest running watch")
}

func TestWatchOnATerminalClearsAndTakesKeys(t *testing.T) {
	e := newEnv(t, starterGo)
	ws := startWatch(t, e, true, true, errChecksFailed, nil)
	ws.waitFor(t, "h hint · q quit")
	out := ws.out.String()
	assert.True(t, strings.HasPrefix(out, clearScreen), "the screen is cleared before each check: %q", out)
	assert.Contains(t, out, "✗ start/01 is not there yet")
	assert.NotContains(t, out, "n next lab", "no moving on while failing")

	ws.press(t, "h")
	ws.waitFor(t, "Hint 1 of 3:")

	ws.press(t, "n") // ignored: the lab does not pass yet
	require.NoError(t, os.WriteFile(filepath.Join(e.repo, labDir, "metrics.go"), []byte("package logmetrics\n// saved\n"), 0o644))
	ws.waitFor(t, "n next lab · h hint · q quit")
	assert.Equal(t, "start/01-logs-to-metrics", <-ws.checked)
	assert.Equal(t, "start/01-logs-to-metrics", <-ws.checked)
	assert.Equal(t, 2, strings.Count(ws.out.String(), clearScreen), "cleared once per check")
	assert.Contains(t, ws.out.String(), "✓ start/01 passes. Next: serialization/01 — CSV to Arrow.")

	ws.press(t, "n")
	ws.waitFor(t, "Next: serialization/01-csv-to-arrow — CSV to Arrow")
	// The heading and the line under it are written one after the other:
	// wait for the line itself, not only the heading (flaky under load).
	ws.waitFor(t, "Read the lesson with `"+commandPrefix()+" read serialization/00`")
	assert.Equal(t, int32(2), ws.runs.Load(), "the next lab is checked on its first save, not at once")

	require.NoError(t, os.WriteFile(filepath.Join(e.repo, "labs/serialization/01-csv-to-arrow/convert.go"), []byte("package csvarrow\n"), 0o644))
	assert.Equal(t, "serialization/01-csv-to-arrow", <-ws.checked, "a save in the next lab checks the next lab")

	ws.press(t, "q")
	assert.NoError(t, ws.ended(t))
}

func TestWatchInRawModeRestoresTheTerminal(t *testing.T) {
	e := newEnv(t, starterGo)
	ios := &IOStreams{In: strings.NewReader("q"), Out: &syncBuffer{}, ErrOut: &syncBuffer{}, IsTerminal: true, Width: 80}
	e.f.IO = ios
	var restored atomic.Bool
	err := watchRun(context.Background(), &WatchOptions{IO: ios, Factory: e.f, Lab: "start/01", Repo: func() string { return "" },
		Poll: true, Interval: 20 * time.Millisecond, Debounce: 20 * time.Millisecond, Interactive: true,
		RawMode: func() (func(), error) { return func() { restored.Store(true) }, nil },
		Check:   func(context.Context, *catalog.Lab) error { return errChecksFailed }})
	require.NoError(t, err, "q quits")
	assert.True(t, restored.Load(), "the terminal is switched back")
	out := ios.Out.(*syncBuffer).String()
	assert.Contains(t, out, "\r\n", "lines end in CR LF in raw mode")
	assert.NotRegexp(t, "[^\r]\n", out)
}

func TestHintStartsAfterTheOneTheReportShowed(t *testing.T) {
	e := newEnv(t, starterGo)
	require.Equal(t, ExitChecksFail, e.run("check", "start/01"))
	require.Contains(t, e.out.String(), "hint: Keep a map from device id", "the report shows hint 1")

	require.Equal(t, ExitOK, e.run("hint", "start/01"))
	assert.Contains(t, e.out.String(), "Hint 2 of 3: Compare your DeviceStats")
	assert.NotContains(t, e.out.String(), "Keep a map from device id", "hint 1 is not repeated")
}

func TestResetAsksBeforeReplacingChangedFiles(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		canPrompt bool
		answer    string
		wantCode  int
		wantReset bool
		wantOut   string
		wantErr   string
	}{
		{name: "no terminal, no --yes", wantCode: ExitError, wantErr: "you changed metrics.go in labs/start/01-logs-to-metrics"},
		{name: "no terminal, --yes", args: []string{"--yes"}, wantCode: ExitOK, wantReset: true, wantOut: "Restored the starter code"},
		{name: "terminal, y", canPrompt: true, answer: "y\n", wantCode: ExitOK, wantReset: true, wantErr: "[y/N]"},
		{name: "terminal, Enter", canPrompt: true, answer: "\n", wantCode: ExitOK, wantOut: "Nothing was changed.", wantErr: "[y/N]"},
		{name: "terminal, no", canPrompt: true, answer: "no\n", wantCode: ExitOK, wantOut: "Nothing was changed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, solution)
			e.f.IO.In = strings.NewReader(tt.answer)
			cmd := NewCmdReset(e.f, func() string { return "" }, func(o *ResetOptions) error {
				o.CanPrompt = tt.canPrompt
				return resetRun(o)
			})
			cmd.SetArgs(append([]string{"start/01"}, tt.args...))
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			e.out.Reset()
			e.err.Reset()
			var code int
			if err := cmd.Execute(); err != nil {
				var ec *exitCodeError
				require.ErrorAs(t, err, &ec)
				code = ec.code
				e.err.WriteString(err.Error())
			}
			assert.Equal(t, tt.wantCode, code)
			assert.Contains(t, e.out.String(), tt.wantOut)
			assert.Contains(t, e.err.String(), tt.wantErr)
			got, _ := os.ReadFile(filepath.Join(e.repo, labDir, "metrics.go"))
			starter, _ := os.ReadFile(starterGo)
			assert.Equal(t, tt.wantReset, string(got) == string(starter), "starter restored")
			backups, _ := filepath.Glob(filepath.Join(e.home, "backups", "start", "01-logs-to-metrics", "*"))
			assert.Equal(t, tt.wantReset, len(backups) == 1, "a backup exactly when files were replaced")
		})
	}
}

func TestResetOfAnUnchangedLabAsksNothingAndClearsItsStatus(t *testing.T) {
	e := newEnv(t, starterGo)
	recordFailedCheck(t, e) // as `delab check start/01` of the starter would
	require.Equal(t, ExitOK, e.run())
	require.Contains(t, e.out.String(), "failing")

	require.Equal(t, ExitOK, e.run("reset", "start/01"), e.err.String())
	assert.Contains(t, e.out.String(), "the lab is not started again")
	assert.NotContains(t, e.out.String(), "previous files", "nothing to back up")
	require.Equal(t, ExitOK, e.run())
	assert.Regexp(t, `start/01\S* +Logs to metrics +not started +0/10\n`, e.out.String())
	assert.NotContains(t, e.out.String(), "checked")
}

func TestListAndDashboardFitTheWidth(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		width    int
		want     []string
		wantNot  []string
		maxWidth int
	}{
		{"dashboard, 80 columns", nil, 80,
			[]string{"  ✗ start/01          Logs to metrics", "Kafka: the log at the centre of streaming  needs Docker (kafka)"},
			[]string{"start/01-logs-to-metrics  ", "checked"}, 80},
		{"dashboard, 60 columns", nil, 60,
			[]string{"  · serialization/02  Parquet with pruni…  not started  0/11"}, nil, 60},
		{"dashboard, 130 columns", nil, 130,
			[]string{"  ✗ start/01-logs-to-metrics ", "checked just now"}, nil, 130},
		{"list, 80 columns", []string{"list"}, 80,
			[]string{"  ✗ lab    start/01          Logs to metrics (10 points)", "    lesson kafka/02          Producer guarantees: no loss, no duplicates, still\n                             fast (30 min)"},
			nil, 80},
		{"list, 120 columns", []string{"list"}, 120,
			[]string{"    lesson kafka/02          Producer guarantees: no loss, no duplicates, still fast (30 min)\n"}, nil, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, starterGo)
			recordFailedCheck(t, e) // as `delab check start/01` of the starter would
			e.f.IO.Width = tt.width
			require.Equal(t, ExitOK, e.run(tt.args...))
			out := e.out.String()
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, out, w)
			}
			for _, ln := range strings.Split(out, "\n") {
				assert.LessOrEqual(t, visibleWidth(ln), tt.maxWidth, "too wide: %q", ln)
			}
		})
	}
}

func TestWrapTextKeepsCommandsWhole(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		col    int
		width  int
		indent string
		want   string
	}{
		{"fits", "one two", 0, 20, "", "one two"},
		{"breaks at spaces", "one two three four", 0, 10, "  ", "one two\n  three\n  four"},
		{"command stays whole", "run `delab check start/01` now", 0, 12, "", "run\n`delab check start/01`\nnow"},
		{"starts mid-line", "alpha beta", 5, 12, "     ", "alpha\n     beta"},
		{"colour takes no room", "\x1b[1mNext:\x1b[0m go on", 0, 11, "", "\x1b[1mNext:\x1b[0m go on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, wrapFrom(tt.text, tt.col, tt.width, tt.indent))
		})
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"chekc"}, []string{`unknown command "chekc"; did you mean "check"?`, "`" + commandPrefix() + " --help`"}},
		{[]string{"wtach", "start/01"}, []string{`did you mean "watch"?`}},
		{[]string{"check"}, []string{"check needs a lab, e.g. `" + commandPrefix() + " check start/01`. The labs:", "  ✗ start/01          Logs to metrics", "  · kafka/06          Windows, watermarks and alerts"}},
		{[]string{"watch"}, []string{"watch needs a lab"}},
		{[]string{"hint"}, []string{"hint needs a lab"}},
		{[]string{"reset"}, []string{"reset needs a lab"}},
		{[]string{"check", "start/01", "kafka/01"}, []string{"check takes one lab, not 2"}},
	}
	e := newEnv(t, starterGo)
	recordFailedCheck(t, e) // as `delab check start/01` of the starter would
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			assert.Equal(t, ExitError, e.run(tt.args...))
			for _, w := range tt.want {
				assert.Contains(t, e.err.String(), w)
			}
		})
	}
}

func TestCheckOutPathBeforeGrading(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	locked := filepath.Join(dir, "locked")
	require.NoError(t, os.Mkdir(locked, 0o500))
	tests := []struct {
		name    string
		path    string
		wantErr string
		skip    bool
	}{
		{name: "new file in a folder", path: filepath.Join(dir, "r.json")},
		{name: "existing file", path: file},
		{name: "missing folder", path: "/missing/dir/r.json", wantErr: "the folder /missing/dir does not exist; create it first (mkdir -p /missing/dir)"},
		{name: "a file as the folder", path: filepath.Join(file, "r.json"), wantErr: "is a file, not a folder"},
		{name: "a folder", path: dir, wantErr: "is a folder; name a file in it"},
		{name: "folder without write permission", path: filepath.Join(locked, "r.json"), wantErr: "cannot write in " + locked, skip: os.Geteuid() == 0},
		{name: "empty", path: "", wantErr: "--out needs a file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("root may write anywhere")
			}
			err := checkOutPath(tt.path)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				entries, _ := os.ReadDir(dir)
				assert.Len(t, entries, 2, "the probe file is removed")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestDoctorAsksTheEngineFirst(t *testing.T) {
	tests := []struct {
		name       string
		dockerHost string
		engineErr  error
		wantErr    bool
		want       []string
		wantNot    []string
	}{
		{name: "engine answers", want: []string{"✓ Docker engine Docker Engine 28.1 (API 1.49) at unix:///var/run/docker.sock", "✓ Docker resources Docker Engine 28.1 on Linux, 2 CPUs", "All set"}},
		{name: "bogus DOCKER_HOST", dockerHost: "tcp://127.0.0.1:1", engineErr: errors.New("no answer from tcp://127.0.0.1:1: connection refused"), wantErr: true,
			want:    []string{"✗ Docker engine no answer from tcp://127.0.0.1:1", "DOCKER_HOST is tcp://127.0.0.1:1 and no engine answers there", "unset DOCKER_HOST"},
			wantNot: []string{"Docker resources", "All set"}},
		{name: "no permission", engineErr: errors.New("dial unix /var/run/docker.sock: connect: permission denied"), wantErr: true,
			want: []string{"✗ Docker engine", "usermod -aG docker"}},
		{name: "no engine", engineErr: errors.New("no answer from unix:///var/run/docker.sock"), wantErr: true,
			want: []string{"install Docker", "Images, memory and disk are checked once Docker answers."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tt.dockerHost)
			e := newEnv(t, starterGo)
			diagnosed := false
			err := doctorRun(context.Background(), &DoctorOptions{IO: e.f.IO, Factory: e.f,
				Engine: func(context.Context) (string, error) {
					if tt.engineErr != nil {
						return "", tt.engineErr
					}
					return "Docker Engine 28.1 (API 1.49) at unix:///var/run/docker.sock", nil
				},
				Diagnose: func(context.Context, services.Images) []services.Finding {
					diagnosed = true
					return []services.Finding{{Check: "Docker engine", OK: true, Detail: "Docker Engine 28.1 on Linux, 2 CPUs"}}
				}})
			if tt.wantErr {
				assert.Equal(t, errChecksFailed, err)
				assert.False(t, diagnosed, "nothing else is checked against an engine that does not answer")
			} else {
				assert.NoError(t, err)
			}
			out := strings.Join(strings.Fields(e.out.String()), " ") // undo wrapping
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, out, w)
			}
		})
	}
}

func TestDockerEngineHonoursDockerHost(t *testing.T) {
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	_, err := dockerEngine(context.Background())
	require.Error(t, err, "a DOCKER_HOST where nothing listens is a failure, whatever else answers")
	assert.Contains(t, err.Error(), "tcp://127.0.0.1:1")
}

func TestReadMarksALessonOnlyOnATerminal(t *testing.T) {
	tests := []struct {
		name       string
		terminal   bool
		color      bool
		noPager    bool
		wantRead   bool
		wantPaged  bool
		wantNotOut []string
	}{
		{name: "piped", wantNotOut: []string{"## ", "**"}},
		{name: "terminal, paged", terminal: true, color: true, wantRead: true, wantPaged: true},
		{name: "terminal, --no-pager", terminal: true, color: true, noPager: true, wantRead: true, wantNotOut: []string{"## ", "**"}},
		{name: "terminal, NO_COLOR", terminal: true, noPager: true, wantRead: true, wantNotOut: []string{"## ", "**", "\x1b["}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, starterGo)
			e.f.IO.IsTerminal, e.f.IO.Color = tt.terminal, tt.color
			paged := ""
			require.NoError(t, readRun(&ReadOptions{IO: e.f.IO, Factory: e.f, Lesson: "start/00", NoPager: tt.noPager,
				Pager: func(s string) error { paged = s; return nil }}))
			assert.Equal(t, tt.wantPaged, paged != "")
			out := e.out.String() + paged
			assert.Contains(t, ansiEscape.ReplaceAllString(out, ""), "What a data engineer does")
			for _, w := range tt.wantNotOut {
				assert.NotContains(t, out, w)
			}
			_, p, err := e.f.loadProgress()
			require.NoError(t, err)
			_, read := p.Lessons["start/00-backend-to-data-engineering"]
			assert.Equal(t, tt.wantRead, read)
		})
	}
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestShellCompletion(t *testing.T) {
	tests := []struct {
		args    []string
		want    []string
		wantNot []string
	}{
		{[]string{"__complete", "ch"}, []string{"check\tGrade your code for one lab", ":4"}, nil},
		{[]string{"__complete", "check", ""}, []string{"start/01\tLogs to metrics", "kafka/06\tWindows, watermarks and alerts", ":4"}, nil},
		{[]string{"__complete", "watch", "ser"}, []string{"serialization/01\tCSV to Arrow"}, []string{"start/01"}},
		{[]string{"__complete", "check", "start/01", ""}, nil, []string{"start/01", "kafka/"}},
		{[]string{"__complete", "read", "kafka/0"}, []string{"kafka/00\tKafka, first contact"}, []string{"kafka/01\tFirst produce"}},
		{[]string{"__complete", "hint", "start/01", "--check", "b"}, []string{"bounded-memory\tMemory stays bounded"}, []string{"clean-aggregates"}},
		{[]string{"__complete", "grade", "--lab", "spark"}, []string{"spark/01\tFirst SQL query"}, nil},
		{[]string{"__complete", "up", ""}, []string{"kafka", "hdfs", "spark"}, nil},
		{[]string{"completion", "bash"}, []string{"# bash completion V2 for delab", "__complete"}, nil},
		{[]string{"completion", "zsh"}, []string{"#compdef delab"}, nil},
		{[]string{"completion", "fish"}, []string{"complete -c delab"}, nil},
	}
	e := newEnv(t, starterGo)
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			require.Equal(t, ExitOK, e.run(tt.args...), e.err.String())
			for _, w := range tt.want {
				assert.Contains(t, e.out.String(), w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, e.out.String(), w)
			}
		})
	}
	assert.Equal(t, ExitError, e.run("completion", "tcsh"))
	assert.Contains(t, e.err.String(), `invalid argument "tcsh"`)
}

// recordFailedCheck records in e's progress what a check of the untouched
// start/01 starter records (every check failed, just now), without the
// seconds a real check takes.
func recordFailedCheck(t *testing.T, e *env) {
	t.Helper()
	s, err := e.f.Progress()
	require.NoError(t, err)
	_, lab, err := e.f.resolveLab("start/01")
	require.NoError(t, err)
	res := &report.Lab{ID: lab.ID, Title: lab.Title, Status: report.Failed, MaxPoints: lab.MaxPoints()}
	for _, c := range lab.Checks {
		res.Checks = append(res.Checks, &report.Check{ID: c.ID, Title: c.Title, Status: report.Failed, MaxPoints: c.Points, Hint: c.Hints[0]})
	}
	_, err = s.Update(func(p *progress.Progress) { p.Record(res, e.f.Now()) })
	require.NoError(t, err)
}
