// Package atomiccommit grades the lab "Publish a day atomically": it runs
// the learner's Publish against a real HDFS, pausing the process after
// every change it makes to the NameNode's namespace to list the output as
// a reader would, kills it in the middle of a run and runs it again, runs
// it twice over the same day, and reads what is finally published with its
// own client: the day must appear whole (with _SUCCESS) or not at all, hold
// exactly the input, and leave no staging data behind.
//
// Boundary table: every rule the lesson and lab.yaml state, the input that
// reaches its edge in every run whatever the seed (genDay places them),
// and the check that judges it.
//
//	rule                                          input                                      check
//	a day with no readings is published:          emptyDay: an empty input file              publish
//	  date=<day>/_SUCCESS alone
//	PartLines lines a part, no empty part at an   a device of exactly 2×PartLines readings   publish (and every
//	  exact multiple                                                                           check's final read)
//	the last part holds the rest                  a device of PartLines+1 readings: a last   publish
//	                                                part of one line
//	a device of a single reading                  a device of 1 reading                      publish
//	parts hold the input lines, in input order,   devices interleaved in time order          publish
//	  newline included
//	_SUCCESS in the day's folder, last            every day; the checker lists after each    all-or-nothing
//	                                                namespace change
//	staging under <out>/_temporary/<attempt>      a crash after create #7 (every day has     crash-rerun
//	                                                ≥ 8 files, so the crash always comes)
//	a re-run publishes once, removes all of       the crashed attempt's files                crash-rerun
//	  <out>/_temporary
//	a re-run replaces, never merges: fewer files  the corrected day: the 2-part device gone,  rerun-replaces
//	  than before, a part gone from a device        the PartLines+1 device down to PartLines
//	                                                (its part-00001 gone), one new device
//	a crash while staging keeps the old day       a crash after create #7 of the corrected   rerun-replaces
//	                                                day (it has ≥ 8 files too)
package atomiccommit

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/hdfs/05-atomic-commit.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"publish":        publish,
		"all-or-nothing": allOrNothing,
		"crash-rerun":    crashRerun,
		"rerun-replaces": rerunReplaces,
	},
}

const (
	// partLines is the lesson's PartLines.
	partLines = 200
	// crashAt is the create call the crash comes after: the 7th file of
	// at least 10 of a first day (dayCounts: 2+2+1+2+2 parts and
	// _SUCCESS) and 8 of a corrected one (1+1+2+2+1 parts and _SUCCESS).
	crashAt = 7
	// maxEntries bounds a listing of the learner's output.
	maxEntries = 2000
)

// layout is one complete version of the day: relative path under
// date=<day> → content (nil for _SUCCESS, whose content is free).
type layout map[string][]byte

// readings is one input file: its lines and the layout it must publish as.
type readings struct {
	name    string
	lines   []string
	devices []string
	want    layout
	// text is the input file's bytes, as Publish reads them.
	text []byte
}

func (r *readings) describe() string {
	return fmt.Sprintf("%d readings of %d devices: _SUCCESS and %d part files", len(r.lines), len(r.devices), len(r.want)-1)
}

type scenario struct {
	h    *grader.Harness
	c    *hdfs.Client
	rand *rand.Rand
	out  string
	day  string
	runs int
}

func newScenario(ctx context.Context, h *grader.Harness) (*scenario, error) {
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	h.Cleanup(func() { c.Close() })
	r := rand.New(rand.NewPCG(h.Seed(), 405))
	s := &scenario{h: h, c: c, rand: r, out: "/delab/" + h.Unique("commit") + "/readings",
		day: fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))}
	if err := s.healthy(ctx); err != nil {
		return nil, err
	}
	if err := c.MkdirAll(s.out, 0o755); err != nil {
		return nil, fmt.Errorf("grader creating %s: %w", s.out, err)
	}
	return s, nil
}

// generate makes a day of readings (genDay), or corrects from, and
// writes it to the local file name, where Publish reads it.
func (s *scenario) generate(name string, from *readings) (*readings, error) {
	r := genDay(s.rand, s.day, name, from)
	if err := os.WriteFile(s.h.Path(name), r.text, 0o644); err != nil {
		return nil, err
	}
	return r, nil
}

// emptyDay is a day without readings: its input file is empty, and it
// publishes as _SUCCESS alone.
func (s *scenario) emptyDay(name string) (*readings, error) {
	r := &readings{name: name, want: layout{"_SUCCESS": nil}}
	if err := os.WriteFile(s.h.Path(name), nil, 0o644); err != nil {
		return nil, err
	}
	return r, nil
}

// dayCounts are the readings per device of a first day, in a seeded
// order: exactly two parts' worth, one more than a part, a single
// reading, and two of 230 to 680.
func dayCounts(r *rand.Rand) []int {
	counts := []int{2 * partLines, partLines + 1, 1, 230 + r.IntN(451), 230 + r.IntN(451)}
	r.Shuffle(len(counts), func(i, j int) { counts[i], counts[j] = counts[j], counts[i] })
	return counts
}

// genDay makes a day of readings of five devices, as many a device as
// dayCounts says, in time order; from, when given, is corrected instead:
// a tenth of its readings get new watts, its device of 2×PartLines
// readings is dropped, its device of PartLines+1 loses its last reading
// (and so its last part), and a new device, meter-41, has 1 to 199.
func genDay(rnd *rand.Rand, dayText, name string, from *readings) *readings {
	type reading struct {
		device string
		sec    int
		watts  int
	}
	var all []reading
	if from == nil {
		var ids []int
		for used := map[int]bool{}; len(ids) < 5; {
			if id := 1 + rnd.IntN(40); !used[id] {
				used[id] = true
				ids = append(ids, id)
			}
		}
		for k, n := range dayCounts(rnd) {
			d := fmt.Sprintf("meter-%02d", ids[k])
			for range n {
				all = append(all, reading{d, rnd.IntN(86400), 100 + rnd.IntN(2900)})
			}
		}
	} else {
		perDevice := map[string]int{}
		for _, l := range from.lines {
			perDevice[l[:strings.IndexByte(l, ',')]]++
		}
		var drop, shrink string
		for _, d := range from.devices {
			switch perDevice[d] {
			case 2 * partLines:
				drop = d
			case partLines + 1:
				shrink = d
			}
		}
		seen := map[string]int{}
		for _, l := range from.lines {
			f := strings.Split(strings.TrimSuffix(l, "\n"), ",")
			seen[f[0]]++
			if f[0] == drop || (f[0] == shrink && seen[f[0]] == perDevice[f[0]]) {
				continue
			}
			t, _ := time.Parse(time.RFC3339, f[1])
			w, _ := strconv.Atoi(f[2])
			if rnd.IntN(10) == 0 {
				w = 100 + rnd.IntN(2900)
			}
			all = append(all, reading{f[0], t.Hour()*3600 + t.Minute()*60 + t.Second(), w})
		}
		for range 1 + rnd.IntN(partLines-1) {
			all = append(all, reading{"meter-41", rnd.IntN(86400), 100 + rnd.IntN(2900)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].sec != all[j].sec {
			return all[i].sec < all[j].sec
		}
		return all[i].device < all[j].device
	})
	day, _ := time.Parse("2006-01-02", dayText)
	r := &readings{name: name, want: layout{"_SUCCESS": nil}}
	byDevice := map[string][]string{}
	var text strings.Builder
	for _, x := range all {
		l := fmt.Sprintf("%s,%s,%d\n", x.device, day.Add(time.Duration(x.sec)*time.Second).Format(time.RFC3339), x.watts)
		r.lines = append(r.lines, l)
		text.WriteString(l)
		if byDevice[x.device] == nil {
			r.devices = append(r.devices, x.device)
		}
		byDevice[x.device] = append(byDevice[x.device], l)
	}
	for d, lines := range byDevice {
		for p := 0; p*partLines < len(lines); p++ {
			r.want[fmt.Sprintf("device=%s/part-%05d", d, p)] = []byte(strings.Join(lines[p*partLines:min(len(lines), (p+1)*partLines)], ""))
		}
	}
	r.text = []byte(text.String())
	return r
}

// healthy asks the NameNode (JMX) whether it is out of safe mode with all
// its DataNodes live: a problem there is the service's, not the learner's.
func (s *scenario) healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.h.Endpoints.HDFSWebUI+"/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the NameNode's web UI does not answer: %w", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Beans []struct {
			FSState          string
			NumLiveDataNodes int
		} `json:"beans"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || len(doc.Beans) == 0 {
		return fmt.Errorf("the NameNode's JMX state could not be read (%s): %v", resp.Status, err)
	}
	st := doc.Beans[0]
	if st.FSState != "Operational" {
		return fmt.Errorf("the NameNode is in safe mode (FSState %q): a service problem, not your code's", st.FSState)
	}
	if want := len(s.h.Endpoints.HDFSDataNodes); st.NumLiveDataNodes < want {
		return fmt.Errorf("only %d of the %d DataNodes are live: a service problem, not your code's", st.NumLiveDataNodes, want)
	}
	return nil
}

// blame turns a failed run into a service error when the service is what
// failed.
func (s *scenario) blame(ctx context.Context, err error) error {
	var f *grader.Failure
	if errors.As(err, &f) {
		if herr := s.healthy(ctx); herr != nil {
			return fmt.Errorf("your Publish failed (%v), and %w", err, herr)
		}
	}
	return err
}

// entry is one file of a listing.
type entry struct {
	size int64
	dir  bool
}

// walk lists root recursively (bounded): relative path → entry.
func (s *scenario) walk(root string) (map[string]entry, error) {
	out := map[string]entry{}
	var visit func(dir, rel string, depth int) error
	visit = func(dir, rel string, depth int) error {
		infos, err := s.c.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, fi := range infos {
			if len(out) >= maxEntries {
				return grader.Failf("%s holds more than %d files and folders: far more than a day's output", s.show(root), maxEntries)
			}
			r := fi.Name()
			if rel != "" {
				r = rel + "/" + fi.Name()
			}
			out[r] = entry{size: fi.Size(), dir: fi.IsDir()}
			if fi.IsDir() && depth < 6 {
				if err := visit(dir+"/"+fi.Name(), r, depth+1); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
		}
		return nil
	}
	return out, visit(root, "", 0)
}

// files keeps the files of a listing.
func files(l map[string]entry) map[string]int64 {
	out := map[string]int64{}
	for p, e := range l {
		if !e.dir {
			out[p] = e.size
		}
	}
	return out
}

// diff says how the files seen differ from a version, "" when they match:
// first a missing _SUCCESS or file, then a file the version lacks, then a
// size.
func diff(seen map[string]int64, want layout) string {
	if _, ok := seen["_SUCCESS"]; !ok {
		return "no _SUCCESS"
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			return k + " is missing"
		}
	}
	var extra []string
	for k := range seen {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return fmt.Sprintf("%s is there, which the day does not have", extra[0])
	}
	for _, k := range keys {
		if size := seen[k]; k != "_SUCCESS" && size != int64(len(want[k])) {
			return fmt.Sprintf("%s holds %d bytes, where the day's has %d", k, size, len(want[k]))
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func summary(seen map[string]int64) string {
	others, bytes := 0, int64(0)
	folders := map[string]bool{}
	for p, size := range seen {
		if p == "_SUCCESS" {
			continue
		}
		others++
		bytes += size
		if dir, _, ok := strings.Cut(p, "/"); ok {
			folders[dir] = true
		}
	}
	success := "no _SUCCESS"
	if _, ok := seen["_SUCCESS"]; ok {
		success = "_SUCCESS"
	}
	return fmt.Sprintf("%s, %s (%d bytes) in %s", success, plural(others, "other file", "other files"), bytes, plural(len(folders), "folder", "folders"))
}

// show names a path for the learner: <out> for the output folder, and the
// attempt folder under _temporary elided (its name is the learner's).
func (s *scenario) show(p string) string {
	rel, ok := strings.CutPrefix(p, s.out)
	if !ok {
		return p
	}
	if rest, ok := strings.CutPrefix(rel, "/_temporary/"); ok {
		if _, tail, ok := strings.Cut(rest, "/"); ok {
			return "<out>/_temporary/…/" + tail
		}
		return "<out>/_temporary/<attempt>"
	}
	return "<out>" + rel
}

var verbs = map[string]string{"create": "created", "complete": "closed (complete)", "mkdirs": "made the folder", "rename": "renamed",
	"rename2": "renamed", "delete": "deleted", "append": "opened for append", "truncate": "truncated", "concat": "concatenated into"}

func (s *scenario) change(what string) string {
	method, path, _ := strings.Cut(what, " ")
	v := verbs[method]
	if v == "" {
		v = "called " + method + " on"
	}
	return v + " " + s.show(path)
}

// look lists the day as a reader would, while the learner's process is
// paused after a change (what): the day must be absent or one of the
// complete versions allowed.
func (s *scenario) look(what string, current *readings, allowed ...*readings) error {
	dayDir := s.out + "/date=" + s.day
	if _, err := s.c.Stat(dayDir); os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("grader listing %s: %w", dayDir, err)
	}
	l, err := s.walk(dayDir)
	if err != nil {
		var f *grader.Failure
		if errors.As(err, &f) || os.IsNotExist(err) {
			return err
		}
		return fmt.Errorf("grader listing %s: %w", dayDir, err)
	}
	seen := files(l)
	for _, v := range allowed {
		if diff(seen, v.want) == "" {
			return nil
		}
	}
	half, expected := "the day half published", "no "+s.show(dayDir)+" yet, or the whole day: "+current.describe()
	if len(allowed) > 1 {
		half = "neither the day published before nor the corrected one, whole; compared with the corrected day"
		expected = "the day published before, whole, or none for a moment, or the whole corrected day: " + current.describe()
	}
	return grader.Mismatch(fmt.Sprintf("right after your process %s, a reader listing %s saw %s: %s",
		s.change(what), s.show(dayDir), half, diff(seen, current.want)), expected, summary(seen))
}

// run runs Publish on in. With watch, the process pauses after each
// namespace change and look judges the output then; with crash, it stops
// dead after its crashAt-th create and is killed. It reports whether the
// crash came.
func (s *scenario) run(ctx context.Context, in *readings, crash int, watch bool, allowed ...*readings) (bool, error) {
	if err := s.healthy(ctx); err != nil {
		return false, err
	}
	s.runs++
	signals := s.h.Path(fmt.Sprintf("signals-%d", s.runs))
	if err := os.MkdirAll(signals, 0o777); err != nil {
		return false, err
	}
	_ = os.Chmod(signals, 0o777)
	w := "0"
	if watch {
		w = "1"
	}
	p := s.h.Start(ctx, grader.RunOptions{Args: []string{"publish", s.h.Path(in.name), s.out, s.day, strconv.Itoa(crash), w, signals}})
	for k := 1; ; {
		marker := filepath.Join(signals, "pause-"+strconv.Itoa(k))
		if data, err := os.ReadFile(marker); err == nil {
			what := string(data)
			crashed := strings.HasPrefix(what, "crash ")
			what = strings.TrimPrefix(what, "crash ")
			if err := s.look(what, in, allowed...); err != nil {
				p.Stop()
				return crashed, err
			}
			if crashed {
				s.h.Logf("your process stopped dead right after it %s, its create #%d", s.change(what), crash)
				err := s.staged(allowed)
				p.Stop()
				s.h.Logf("killed it there (SIGKILL)")
				return true, err
			}
			if err := os.WriteFile(filepath.Join(signals, "resume-"+strconv.Itoa(k)), nil, 0o644); err != nil {
				return false, err
			}
			k++
			continue
		}
		select {
		case <-p.Done():
			if _, err := p.Wait(); err != nil {
				return false, s.blame(ctx, err)
			}
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(3 * time.Millisecond):
		}
	}
}

// staged checks, at the crash, that the attempt was being staged where
// the lesson says, under <out>/_temporary, and, when a day was published
// before the run (allowed holds it first), that it is still there: a
// crash while staging must not take the published day away.
func (s *scenario) staged(allowed []*readings) error {
	l, err := s.walk(s.out + "/_temporary")
	if err != nil && !os.IsNotExist(err) {
		var f *grader.Failure
		if errors.As(err, &f) {
			return err
		}
		return fmt.Errorf("grader listing %s/_temporary: %w", s.out, err)
	}
	n := len(files(l))
	if n == 0 {
		return grader.Failf("at the crash, %d files created, %s held no file: the lesson's protocol stages an attempt there, where the next attempt (and the checker) find what a crash left", crashAt, s.show(s.out+"/_temporary"))
	}
	dayDir := s.out + "/date=" + s.day
	if len(allowed) < 2 {
		s.h.Logf("%s then held the killed attempt's %d files; %s did not exist", s.show(s.out+"/_temporary"), n, s.show(dayDir))
		return nil
	}
	if _, err := s.c.Stat(dayDir); os.IsNotExist(err) {
		return grader.Failf("at the crash, %d files into staging the corrected day, %s was gone: the day published before must stay in place until the new one is complete, or a crash leaves readers with no day at all", crashAt, s.show(dayDir))
	} else if err != nil {
		return fmt.Errorf("grader listing %s: %w", dayDir, err)
	}
	s.h.Logf("%s then held the killed attempt's %d files; %s still held the day published before, whole", s.show(s.out+"/_temporary"), n, s.show(dayDir))
	return nil
}

func digest(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:6])
}

// final reads what Publish left, after it returned nil: exactly the
// layout of in, every byte, and nothing staged.
func (s *scenario) final(in *readings) error {
	dayDir := s.out + "/date=" + s.day
	l, err := s.walk(dayDir)
	if os.IsNotExist(err) {
		return grader.Failf("Publish returned nil, but %s does not exist", s.show(dayDir))
	}
	if err != nil {
		var f *grader.Failure
		if errors.As(err, &f) {
			return err
		}
		return fmt.Errorf("grader listing %s: %w", dayDir, err)
	}
	seen := files(l)
	if d := diff(seen, in.want); d != "" {
		return grader.Mismatch(fmt.Sprintf("after Publish returned, %s is not the day's layout: %s", s.show(dayDir), d), in.describe(), summary(seen))
	}
	var keys []string
	for k := range in.want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// diff has checked every size: what is read is bounded by the input.
	total := 0
	for _, k := range keys {
		if k == "_SUCCESS" {
			continue
		}
		got, err := s.c.ReadFile(dayDir + "/" + k)
		if err != nil {
			return grader.Failf("%s could not be read: %v", s.show(dayDir+"/"+k), err)
		}
		if want := in.want[k]; string(got) != string(want) {
			return grader.Mismatch(fmt.Sprintf("%s does not hold the next %d readings of its device, in input order", s.show(dayDir+"/"+k), strings.Count(string(want), "\n")),
				fmt.Sprintf("%d lines, sha256 %s…, first %q", strings.Count(string(want), "\n"), digest(want), firstLine(want)),
				fmt.Sprintf("%d lines, sha256 %s…, first %q", strings.Count(string(got), "\n"), digest(got), firstLine(got)))
		}
		total += len(got)
	}
	s.h.Logf("read %s back: _SUCCESS and %d part files holding each of the %d readings once, %d bytes, as the input has them", s.show(dayDir), len(keys)-1, len(in.lines), total)
	top, err := s.c.ReadDir(s.out)
	if err != nil {
		return fmt.Errorf("grader listing %s: %w", s.out, err)
	}
	for _, fi := range top {
		switch fi.Name() {
		case "date=" + s.day:
		case "_temporary":
			left, err := s.walk(s.out + "/_temporary")
			if err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("grader listing %s/_temporary: %w", s.out, err)
			}
			if len(left) > 0 {
				// The example shown is the deepest path, a file if any.
				nfiles, example := 0, ""
				for p, e := range left {
					if !e.dir {
						nfiles++
					}
					if example == "" || (!e.dir && left[example].dir) || (e.dir == left[example].dir && (len(p) > len(example) || len(p) == len(example) && p < example)) {
						example = p
					}
				}
				return grader.Mismatch("Publish returned nil, but staging data is left in "+s.show(s.out+"/_temporary"),
					"nothing (an empty _temporary, or none)", fmt.Sprintf("%s and %s, among them %s", plural(nfiles, "file", "files"),
						plural(len(left)-nfiles, "folder", "folders"), s.show(s.out+"/_temporary/"+example)))
			}
		default:
			return grader.Mismatch("Publish returned nil, but "+s.show(s.out)+" holds something else than the day and _temporary", "date="+s.day+" (and an empty _temporary)", fi.Name())
		}
	}
	s.h.Logf("%s holds nothing else: no staging data left", s.show(s.out))
	return nil
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(string(b), "\n")
	return l
}

func publish(ctx context.Context, h *grader.Harness) error {
	e, err := newScenario(ctx, h)
	if err != nil {
		return err
	}
	empty, err := e.emptyDay("empty.csv")
	if err != nil {
		return err
	}
	h.Logf("wrote empty.csv: no readings of %s, a day with nothing measured; <out> is %s", e.day, e.out)
	h.Logf("running Publish(client, \"empty.csv\", <out>, %q)", e.day)
	if _, err := e.run(ctx, empty, 0, false); err != nil {
		return err
	}
	if err := e.final(empty); err != nil {
		var f *grader.Failure
		if errors.As(err, &f) {
			f.Message = "a day with no readings: " + f.Message
		}
		return err
	}
	s, err := newScenario(ctx, h)
	if err != nil {
		return err
	}
	a, err := s.generate("readings.csv", nil)
	if err != nil {
		return err
	}
	h.Logf("wrote readings.csv: %s of %s; <out> is %s", a.describe(), s.day, s.out)
	h.Logf("running Publish(client, \"readings.csv\", <out>, %q)", s.day)
	if _, err := s.run(ctx, a, 0, false); err != nil {
		return err
	}
	return s.final(a)
}

func allOrNothing(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(ctx, h)
	if err != nil {
		return err
	}
	a, err := s.generate("readings.csv", nil)
	if err != nil {
		return err
	}
	h.Logf("wrote readings.csv: %s of %s; <out> is %s", a.describe(), s.day, s.out)
	h.Logf("running Publish(client, \"readings.csv\", <out>, %q), pausing it after each change it makes to the namespace to list %s as a reader would", s.day, s.show(s.out+"/date="+s.day))
	if _, err := s.run(ctx, a, 0, true, a); err != nil {
		return err
	}
	h.Logf("at every pause the day was absent or whole")
	return s.final(a)
}

func crashRerun(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(ctx, h)
	if err != nil {
		return err
	}
	a, err := s.generate("readings.csv", nil)
	if err != nil {
		return err
	}
	h.Logf("wrote readings.csv: %s of %s; <out> is %s", a.describe(), s.day, s.out)
	h.Logf("running Publish(client, \"readings.csv\", <out>, %q), pausing it after each namespace change to list the day, and crashing it after its create #%d", s.day, crashAt)
	crashed, err := s.run(ctx, a, crashAt, true, a)
	if err != nil {
		return err
	}
	if !crashed {
		if err := s.final(a); err != nil {
			return err
		}
		return grader.Failf("Publish returned before its create #%d, though the day has %d files", crashAt, len(a.want))
	}
	h.Logf("running Publish again on the same input, as a scheduler retries a failed job")
	if _, err := s.run(ctx, a, 0, true, a); err != nil {
		return err
	}
	h.Logf("at every pause of both runs the day was absent or whole")
	return s.final(a)
}

func rerunReplaces(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(ctx, h)
	if err != nil {
		return err
	}
	a, err := s.generate("readings.csv", nil)
	if err != nil {
		return err
	}
	h.Logf("wrote readings.csv: %s of %s; <out> is %s", a.describe(), s.day, s.out)
	h.Logf("running Publish(client, \"readings.csv\", <out>, %q), pausing it after each namespace change to list the day", s.day)
	if _, err := s.run(ctx, a, 0, true, a); err != nil {
		return err
	}
	if err := s.final(a); err != nil {
		return err
	}
	b, err := s.generate("corrected.csv", a)
	if err != nil {
		return err
	}
	h.Logf("wrote corrected.csv, the same day corrected: %d readings with new watts, %s; %s", changed(a, b), devicesChanged(a, b), b.describe())
	h.Logf("running Publish(client, \"corrected.csv\", <out>, %q) over the published day, pausing it as before, and crashing it after its create #%d", s.day, crashAt)
	crashed, err := s.run(ctx, b, crashAt, true, a, b)
	if err != nil {
		return err
	}
	if crashed {
		h.Logf("running Publish(client, \"corrected.csv\", <out>, %q) again, as a scheduler retries a failed job", s.day)
		if _, err := s.run(ctx, b, 0, true, a, b); err != nil {
			return err
		}
	}
	h.Logf("at every pause the day was absent, the first version whole, or the corrected one whole")
	return s.final(b)
}

// changed counts the readings of a whose watts b corrected.
func changed(a, b *readings) int {
	key := func(l string) string { return l[:strings.LastIndexByte(l, ',')] }
	in := map[string]string{}
	for _, l := range a.lines {
		in[key(l)] = l
	}
	n := 0
	for _, l := range b.lines {
		if old, ok := in[key(l)]; ok && old != l {
			n++
		}
	}
	return n
}

// devicesChanged says which devices of a are gone in b, which lost a part,
// and which are new.
func devicesChanged(a, b *readings) string {
	parts := func(r *readings) map[string]int {
		n := map[string]int{}
		for k := range r.want {
			if d, _, ok := strings.Cut(k, "/"); ok {
				n[strings.TrimPrefix(d, "device=")]++
			}
		}
		return n
	}
	pa, pb := parts(a), parts(b)
	var out []string
	for _, d := range a.devices {
		switch {
		case pb[d] == 0:
			out = append(out, d+" gone")
		case pb[d] < pa[d]:
			out = append(out, fmt.Sprintf("%s down from %d parts to %d", d, pa[d], pb[d]))
		}
	}
	for _, d := range b.devices {
		if pa[d] == 0 {
			out = append(out, d+" new")
		}
	}
	return fmt.Sprintf("%s: %d files where the day published has %d", strings.Join(out, ", "), len(b.want), len(a.want))
}
