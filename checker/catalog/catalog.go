// Package catalog loads and validates delab's course content: tracks,
// lessons (Markdown with YAML front matter) and labs (a folder with a
// lab.yaml, and the lab's hints in checker/labs/<track>/<NN-slug>/hints.yaml
// on the trusted side, out of the learner's sight). Content is data: adding a
// lab means adding files, and every problem in a file is reported with the
// file and the field, never a panic.
package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	checkerlabs "github.com/delab-dev/delab/checker/labs"
)

// Catalog is the whole validated course.
type Catalog struct {
	// Tracks in teaching order, each holding its lessons and labs in order.
	Tracks  []*Track
	lessons map[string]*Lesson
	labs    map[string]*Lab
}

// Track is one part of the curriculum, such as "kafka".
type Track struct {
	// ID is the folder name used under lessons/ and labs/.
	ID string `yaml:"id"`
	// Title is shown in the dashboard and lists.
	Title string `yaml:"title"`
	// Summary is one sentence on what the track teaches.
	Summary string `yaml:"summary"`
	// Lessons of this track ordered by their Order field.
	Lessons []*Lesson `yaml:"-"`
	// Labs of this track ordered by their number.
	Labs []*Lab `yaml:"-"`
}

// Service names a real system a lab needs started for grading.
type Service string

// The services a lab may ask for.
const (
	Kafka Service = "kafka"
	HDFS  Service = "hdfs"
	Spark Service = "spark"
)

// Services lists every service a lab may ask for. Package services has
// one Definition for each (its tests check that), which says how to start
// it.
var Services = []Service{Kafka, HDFS, Spark}

// Lesson is one Markdown lesson.
type Lesson struct {
	// ID is "<track>/<file name without .md>", e.g. "start/00-backend-to-data-engineering".
	ID string `yaml:"id"`
	// Title is the lesson's display title.
	Title string `yaml:"title"`
	// Track is the track id; it must match the folder the file is in.
	Track string `yaml:"track"`
	// Order sorts lessons within a track.
	Order int `yaml:"order"`
	// Minutes is the estimated reading time.
	Minutes int `yaml:"minutes"`
	// Prerequisites are lesson ids to read first.
	Prerequisites []string `yaml:"prerequisites"`
	// Labs are the ids of the labs this lesson leads into.
	Labs []string `yaml:"labs"`
	// Path is the file's path inside the content tree.
	Path string `yaml:"-"`
	// Body is the Markdown after the front matter.
	Body string `yaml:"-"`
	// Sections are the lesson's headings (## and ###), used to point hints at them.
	Sections []string `yaml:"-"`
}

// Lab is one graded exercise; its starter code lives beside lab.yaml.
type Lab struct {
	// ID is "<track>/<NN-slug>", derived from the folder.
	ID string `yaml:"-"`
	// Track is the track id (the parent folder).
	Track string `yaml:"-"`
	// Number is NN from the folder name.
	Number string `yaml:"-"`
	// Slug is the folder name without the number.
	Slug string `yaml:"-"`
	// Dir is the folder relative to the repository root, e.g. "labs/start/01-logs-to-metrics".
	Dir string `yaml:"-"`
	// Title is the display title.
	Title string `yaml:"title"`
	// Summary says in one or two sentences what the learner builds.
	Summary string `yaml:"summary"`
	// Lesson is the id of the lesson that teaches what the lab needs.
	Lesson string `yaml:"lesson"`
	// Package is the Go package name of the learner's code.
	Package string `yaml:"package"`
	// Entry names the files the learner edits, shown in instructions.
	Entry []string `yaml:"entry"`
	// Services are the real systems started for grading; empty for service-free labs.
	Services []Service `yaml:"services"`
	// Timeout bounds the whole lab, build included.
	Timeout Duration `yaml:"timeout"`
	// Checks are graded in order.
	Checks []*Check `yaml:"checks"`
}

// Check is one graded property of a lab.
type Check struct {
	// ID is kebab-case and unique within the lab; the grader implements a function for it.
	ID string `yaml:"id"`
	// Title says what the check proves, as a statement.
	Title string `yaml:"title"`
	// Points awarded when the check passes.
	Points int `yaml:"points"`
	// Timeout bounds each run of the learner's code in this check.
	Timeout Duration `yaml:"timeout"`
	// Memory is the resident-memory limit for the learner's process, e.g. "64MiB".
	Memory ByteSize `yaml:"memory"`
	// Section is the heading of the lesson section to reread when the check fails.
	Section string `yaml:"section"`
	// Hints in increasing detail; the first is shown on failure, `delab hint`
	// reveals more. They come from the trusted checker/labs/<lab>/hints.yaml,
	// never from lab.yaml, which sits in the learner's folder.
	Hints []string `yaml:"-"`
}

// MaxPoints is the sum of the lab's check points.
func (l *Lab) MaxPoints() int {
	n := 0
	for _, c := range l.Checks {
		n += c.Points
	}
	return n
}

// Check returns the check with the given id, or nil.
func (l *Lab) Check(id string) *Check {
	for _, c := range l.Checks {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// Labs returns every lab in course order.
func (c *Catalog) Labs() []*Lab {
	var out []*Lab
	for _, t := range c.Tracks {
		out = append(out, t.Labs...)
	}
	return out
}

// Lessons returns every lesson in course order.
func (c *Catalog) Lessons() []*Lesson {
	var out []*Lesson
	for _, t := range c.Tracks {
		out = append(out, t.Lessons...)
	}
	return out
}

// Lab returns the lab with exactly this id, or nil.
func (c *Catalog) Lab(id string) *Lab { return c.labs[id] }

// Lesson returns the lesson with exactly this id, or nil.
func (c *Catalog) Lesson(id string) *Lesson { return c.lessons[id] }

// Track returns the track with this id, or nil.
func (c *Catalog) Track(id string) *Track {
	for _, t := range c.Tracks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Error is a problem in one content file.
type Error struct {
	File  string // path inside the content tree
	Field string // dotted field path, empty when the whole file is at fault
	Err   error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.File, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	idPart    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	labFolder = regexp.MustCompile(`^([0-9]{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$`)
	heading   = regexp.MustCompile(`(?m)^#{2,3}\s+(.+?)\s*#*\s*$`)
	goIdent   = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
)

// Load reads tracks.yaml and lessons from lessons (a tree rooted at the
// lessons/ folder), every lab.yaml from labs (rooted at labs/), and each
// lab's hints from the copy of checker/labs/*/*/hints.yaml compiled into
// the binary. It returns all problems found, joined, so an author fixes
// them in one pass.
func Load(lessons, labs fs.FS) (*Catalog, error) {
	return LoadWithHints(lessons, labs, checkerlabs.Hints)
}

// LoadWithHints is Load with the hints read from hints, a tree rooted like
// checker/labs/ that holds <track>/<NN-slug>/hints.yaml for every lab.
func LoadWithHints(lessons, labs, hints fs.FS) (*Catalog, error) {
	c := &Catalog{lessons: map[string]*Lesson{}, labs: map[string]*Lab{}}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	tracks, err := loadTracks(lessons)
	if err != nil {
		return nil, err
	}
	c.Tracks = tracks
	trackByID := map[string]*Track{}
	for _, t := range tracks {
		trackByID[t.ID] = t
	}

	lessonFiles, _ := fs.Glob(lessons, "*/*.md")
	for _, p := range lessonFiles {
		l, err := loadLesson(lessons, p)
		if err != nil {
			add(err)
			continue
		}
		t := trackByID[l.Track]
		if t == nil {
			add(&Error{File: "lessons/" + p, Field: "track", Err: fmt.Errorf("unknown track %q (tracks.yaml lists %s)", l.Track, trackIDs(tracks))})
			continue
		}
		c.lessons[l.ID] = l
		t.Lessons = append(t.Lessons, l)
	}

	labFiles, _ := fs.Glob(labs, "*/*/lab.yaml")
	labDirs := map[string]bool{}
	for _, p := range labFiles {
		labDirs[path.Dir(p)] = true
		l, err := loadLab(labs, p)
		if err != nil {
			add(err)
			continue
		}
		if err := loadHints(hints, l); err != nil {
			add(err)
			continue
		}
		t := trackByID[l.Track]
		if t == nil {
			add(&Error{File: "labs/" + p, Err: fmt.Errorf("folder is in unknown track %q (tracks.yaml lists %s)", l.Track, trackIDs(tracks))})
			continue
		}
		c.labs[l.ID] = l
		t.Labs = append(t.Labs, l)
	}

	hintFiles, _ := fs.Glob(hints, "*/*/hints.yaml")
	for _, p := range hintFiles {
		if !labDirs[path.Dir(p)] {
			add(&Error{File: hintsRoot + p, Err: fmt.Errorf("no lab has these hints: there is no labs/%s/lab.yaml", path.Dir(p))})
		}
	}

	// Cross-references are checked once everything is loaded.
	for _, l := range c.Labs() {
		file := "labs/" + l.ID + "/lab.yaml"
		lesson := c.lessons[l.Lesson]
		if lesson == nil {
			add(&Error{File: file, Field: "lesson", Err: fmt.Errorf("no lesson %q", l.Lesson)})
			continue
		}
		for i, ch := range l.Checks {
			if !slices.Contains(lesson.Sections, ch.Section) {
				add(&Error{File: file, Field: fmt.Sprintf("checks[%d].section", i),
					Err: fmt.Errorf("lesson %s has no section %q (it has: %s)", lesson.ID, ch.Section, strings.Join(lesson.Sections, "; "))})
			}
		}
	}
	for _, l := range c.Lessons() {
		for i, id := range l.Labs {
			if c.labs[id] == nil {
				add(&Error{File: "lessons/" + l.Path, Field: fmt.Sprintf("labs[%d]", i), Err: fmt.Errorf("no lab %q", id)})
			}
		}
		for i, id := range l.Prerequisites {
			if c.lessons[id] == nil {
				add(&Error{File: "lessons/" + l.Path, Field: fmt.Sprintf("prerequisites[%d]", i), Err: fmt.Errorf("no lesson %q", id)})
			}
		}
	}

	for _, t := range c.Tracks {
		sort.SliceStable(t.Lessons, func(i, j int) bool { return t.Lessons[i].Order < t.Lessons[j].Order })
		sort.Slice(t.Labs, func(i, j int) bool { return t.Labs[i].ID < t.Labs[j].ID })
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func loadTracks(lessons fs.FS) ([]*Track, error) {
	const file = "lessons/tracks.yaml"
	data, err := fs.ReadFile(lessons, "tracks.yaml")
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	var doc struct {
		Tracks []*Track `yaml:"tracks"`
	}
	if err := decodeStrict(data, &doc); err != nil {
		return nil, &Error{File: file, Err: err}
	}
	if len(doc.Tracks) == 0 {
		return nil, &Error{File: file, Field: "tracks", Err: errors.New("must list at least one track")}
	}
	seen := map[string]bool{}
	for i, t := range doc.Tracks {
		field := fmt.Sprintf("tracks[%d]", i)
		switch {
		case !idPart.MatchString(t.ID):
			return nil, &Error{File: file, Field: field + ".id", Err: fmt.Errorf("%q is not a kebab-case id", t.ID)}
		case seen[t.ID]:
			return nil, &Error{File: file, Field: field + ".id", Err: fmt.Errorf("duplicate track %q", t.ID)}
		case strings.TrimSpace(t.Title) == "":
			return nil, &Error{File: file, Field: field + ".title", Err: errors.New("must not be empty")}
		}
		seen[t.ID] = true
	}
	return doc.Tracks, nil
}

func loadLesson(fsys fs.FS, p string) (*Lesson, error) {
	file := "lessons/" + p
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	front, body, err := splitFrontMatter(data)
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	l := &Lesson{}
	if err := decodeStrict(front, l); err != nil {
		return nil, &Error{File: file, Field: "front matter", Err: err}
	}
	track := path.Dir(p)
	wantID := track + "/" + strings.TrimSuffix(path.Base(p), ".md")
	switch {
	case l.ID != wantID:
		return nil, &Error{File: file, Field: "id", Err: fmt.Errorf("is %q, but the file's place makes it %q", l.ID, wantID)}
	case l.Track != track:
		return nil, &Error{File: file, Field: "track", Err: fmt.Errorf("is %q, but the file is in folder %q", l.Track, track)}
	case strings.TrimSpace(l.Title) == "":
		return nil, &Error{File: file, Field: "title", Err: errors.New("must not be empty")}
	case l.Minutes <= 0:
		return nil, &Error{File: file, Field: "minutes", Err: errors.New("must be a positive estimate of reading time")}
	}
	l.Path = p
	l.Body = string(body)
	for _, m := range heading.FindAllStringSubmatch(l.Body, -1) {
		l.Sections = append(l.Sections, m[1])
	}
	return l, nil
}

func loadLab(fsys fs.FS, p string) (*Lab, error) {
	file := "labs/" + p
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	if err := noHintsIn(data, path.Dir(p)); err != nil {
		return nil, &Error{File: file, Field: err.field, Err: err}
	}
	l := &Lab{}
	if err := decodeStrict(data, l); err != nil {
		return nil, &Error{File: file, Err: err}
	}
	dir := path.Dir(p)
	l.Track = path.Dir(dir)
	m := labFolder.FindStringSubmatch(path.Base(dir))
	if m == nil {
		return nil, &Error{File: file, Err: fmt.Errorf("folder %q must be named NN-slug, e.g. 01-logs-to-metrics", path.Base(dir))}
	}
	l.Number, l.Slug = m[1], m[2]
	l.ID = dir
	l.Dir = "labs/" + dir
	fail := func(field string, format string, args ...any) error {
		return &Error{File: file, Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case strings.TrimSpace(l.Title) == "":
		return nil, fail("title", "must not be empty")
	case l.Lesson == "":
		return nil, fail("lesson", "must name the lesson that teaches this lab")
	case !goIdent.MatchString(l.Package):
		return nil, fail("package", "%q is not a lower-case Go package name", l.Package)
	case l.Timeout <= 0:
		return nil, fail("timeout", "must be a positive duration such as 2m")
	case len(l.Checks) == 0:
		return nil, fail("checks", "a lab needs at least one check")
	}
	for i, s := range l.Services {
		if !slices.Contains(Services, s) {
			known := make([]string, len(Services))
			for j, k := range Services {
				known[j] = string(k)
			}
			slices.Sort(known)
			return nil, fail(fmt.Sprintf("services[%d]", i), "unknown service %q (known: %s)", s, strings.Join(known, ", "))
		}
	}
	seen := map[string]bool{}
	for i, c := range l.Checks {
		f := fmt.Sprintf("checks[%d]", i)
		switch {
		case c == nil:
			return nil, fail(f, "is empty")
		case !idPart.MatchString(c.ID):
			return nil, fail(f+".id", "%q is not a kebab-case id", c.ID)
		case seen[c.ID]:
			return nil, fail(f+".id", "duplicate check id %q", c.ID)
		case strings.TrimSpace(c.Title) == "":
			return nil, fail(f+".title", "must not be empty")
		case c.Points < 1:
			return nil, fail(f+".points", "must be at least 1")
		case c.Timeout <= 0:
			return nil, fail(f+".timeout", "must be a positive duration such as 30s")
		case c.Memory <= 0:
			return nil, fail(f+".memory", "must be a size such as 256MiB")
		case c.Section == "":
			return nil, fail(f+".section", "must name the lesson section to reread")
		}
		seen[c.ID] = true
	}
	return l, nil
}

// hintsRoot is where hint files live in the repository.
const hintsRoot = "checker/labs/"

// hintsInLabError says lab.yaml, which the learner can read, holds hints.
type hintsInLabError struct {
	field, lab string
}

func (e *hintsInLabError) Error() string {
	return fmt.Sprintf("hints do not belong in the learner's folder: move them to %s%s/hints.yaml", hintsRoot, e.lab)
}

// noHintsIn rejects a lab.yaml whose checks still carry hints, with a
// message that says where they go instead of a bare "unknown field".
func noHintsIn(data []byte, lab string) *hintsInLabError {
	var doc struct {
		Checks []struct {
			Hints yaml.Node `yaml:"hints"`
		} `yaml:"checks"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil // decodeStrict reports the syntax error
	}
	for i, c := range doc.Checks {
		if c.Hints.Kind != 0 {
			return &hintsInLabError{field: fmt.Sprintf("checks[%d].hints", i), lab: lab}
		}
	}
	return nil
}

// loadHints fills every check's Hints from <lab id>/hints.yaml in fsys:
// each check needs at least one hint, and every key names a check.
func loadHints(fsys fs.FS, l *Lab) error {
	file := hintsRoot + l.ID + "/hints.yaml"
	data, err := fs.ReadFile(fsys, l.ID+"/hints.yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{File: file, Err: fmt.Errorf("missing: every check of labs/%s/lab.yaml needs at least one hint there", l.ID)}
	}
	if err != nil {
		return &Error{File: file, Err: err}
	}
	var byCheck map[string][]string
	if err := decodeStrict(data, &byCheck); err != nil && !errors.Is(err, io.EOF) {
		return &Error{File: file, Err: err}
	}
	ids := make([]string, len(l.Checks))
	for i, c := range l.Checks {
		ids[i] = c.ID
	}
	keys := make([]string, 0, len(byCheck))
	for k := range byCheck {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if l.Check(k) == nil {
			return &Error{File: file, Field: k, Err: fmt.Errorf("labs/%s/lab.yaml has no check %q (its checks: %s)", l.ID, k, strings.Join(ids, ", "))}
		}
	}
	for _, c := range l.Checks {
		hs := byCheck[c.ID]
		if len(hs) == 0 {
			return &Error{File: file, Field: c.ID, Err: errors.New("a check needs at least one hint")}
		}
		for j, h := range hs {
			if strings.TrimSpace(h) == "" {
				return &Error{File: file, Field: fmt.Sprintf("%s[%d]", c.ID, j), Err: errors.New("must not be empty")}
			}
		}
		c.Hints = hs
	}
	return nil
}

// splitFrontMatter separates a "---" delimited YAML header from the body.
func splitFrontMatter(data []byte) (front, body []byte, err error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, nil, errors.New("missing front matter: the file must start with a line \"---\"")
	}
	rest := data[4:]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		return nil, nil, errors.New("front matter is not closed by a line \"---\"")
	}
	return rest[:end+1], rest[end+5:], nil
}

// decodeStrict rejects unknown fields so a typo in a key is an error, not a silent default.
func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

func trackIDs(ts []*Track) string {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, ", ")
}

// Duration is a time.Duration written in YAML as "30s" or "2m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ByteSize is a size written in YAML as "64MiB", "1GiB" or a plain byte count.
type ByteSize int64

// UnmarshalYAML parses sizes with KiB, MiB or GiB suffixes.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses "512KiB", "64MiB", "1GiB" or a plain number of bytes.
func ParseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var n int64
			if _, err := fmt.Sscanf(num, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != num {
				break
			}
			return n * u.mult, nil
		}
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("%q is not a size such as 64MiB", s)
}

// String renders the size in the largest whole binary unit.
func (b ByteSize) String() string {
	switch {
	case b%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", b>>30)
	case b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	case b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return fmt.Sprintf("%dB", int64(b))
}
