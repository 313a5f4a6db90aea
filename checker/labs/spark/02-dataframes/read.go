package dataframes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/labs/serialization/parquetcheck"
)

// Bounds on what the checker reads of the learner's output: a correct
// report is a few dozen files of a few KiB.
const (
	listLimit     = 2_000
	fileLimit     = 16 << 20
	totalLimit    = 64 << 20
	parquetMemory = 64 << 20
)

// columns are the report's data columns and their Arrow types, as Spark
// writes long and double. day is not one of them: it is in the folder name.
var columns = []struct {
	name string
	typ  arrow.DataType
}{
	{"site", arrow.BinaryTypes.String},
	{"events", arrow.PrimitiveTypes.Int64},
	{"readings", arrow.PrimitiveTypes.Int64},
	{"min_reading", arrow.PrimitiveTypes.Float64},
	{"max_reading", arrow.PrimitiveTypes.Float64},
	{"mean_reading", arrow.PrimitiveTypes.Float64},
}

var dayDir = regexp.MustCompile(`^day=(\d{4}-\d{2}-\d{2})$`)

// part is one Parquet file of the report.
type part struct {
	day  string // from its folder's name
	path string
	data []byte
}

// listing is what the checker found under the output folder.
type listing struct {
	success bool
	days    []string // day= folders, sorted
	parts   []part
}

// hidden says whether Spark and Hadoop readers skip a file of this name.
func hidden(name string) bool { return strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") }

// readDir lists at most listLimit entries of dir.
func readDir(c *hdfs.Client, dir string) ([]os.FileInfo, error) {
	f, err := c.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	infos, err := f.Readdir(listLimit + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(infos) > listLimit {
		return nil, grader.Failf("%s holds more than %d entries: the report is a few folders of one or a few files", dir, listLimit)
	}
	return infos, nil
}

// list reads the layout of out and the bytes of every part file in it.
func list(c *hdfs.Client, out string) (*listing, error) {
	if _, err := c.Stat(out); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, grader.Failf("DailyReport returned nil, but %s does not exist: write the report there", out)
		}
		return nil, fmt.Errorf("grader's HDFS client: stat %s: %w", out, err)
	}
	top, err := readDir(c, out)
	if err != nil {
		return nil, listErr(out, err)
	}
	l := &listing{}
	total := int64(0)
	for _, fi := range top {
		name := fi.Name()
		switch {
		case name == "_SUCCESS" && !fi.IsDir():
			l.success = true
		case hidden(name):
		case !fi.IsDir():
			return nil, grader.Failf("%s/%s is a file beside the day folders: the report's rows belong in day=YYYY-MM-DD folders only", out, name)
		case !dayDir.MatchString(name):
			return nil, grader.Failf("%s/%s is not a day=YYYY-MM-DD folder: partition the report by a column named day", out, name)
		default:
			day := dayDir.FindStringSubmatch(name)[1]
			if _, err := time.Parse(time.DateOnly, day); err != nil {
				return nil, grader.Failf("%s/%s is not a calendar day", out, name)
			}
			l.days = append(l.days, day)
			dir := out + "/" + name
			inner, err := readDir(c, dir)
			if err != nil {
				return nil, listErr(dir, err)
			}
			n := 0
			for _, f := range inner {
				switch {
				case hidden(f.Name()):
				case f.IsDir():
					return nil, grader.Failf("%s/%s is a folder: the report is partitioned by day only", dir, f.Name())
				case !strings.HasSuffix(f.Name(), ".parquet"):
					return nil, grader.Failf("%s/%s is not a .parquet file", dir, f.Name())
				default:
					if f.Size() > fileLimit {
						return nil, grader.Unreadable("report file "+dir+"/"+f.Name(), "it is %d bytes, and the checker reads report files of at most %d", f.Size(), fileLimit)
					}
					if total += f.Size(); total > totalLimit {
						return nil, grader.Failf("the report's files hold more than %d bytes: a correct report is a few KiB", totalLimit)
					}
					data, err := c.ReadFile(dir + "/" + f.Name())
					if err != nil {
						return nil, fmt.Errorf("grader's HDFS client: read %s/%s: %w", dir, f.Name(), err)
					}
					l.parts = append(l.parts, part{day: day, path: dir + "/" + f.Name(), data: data})
					n++
				}
			}
			if n == 0 {
				return nil, grader.Failf("%s holds no .parquet file", dir)
			}
		}
	}
	sort.Strings(l.days)
	return l, nil
}

func listErr(dir string, err error) error {
	var f *grader.Failure
	if errors.As(err, &f) {
		return err
	}
	return fmt.Errorf("grader's HDFS client: list %s: %w", dir, err)
}

// readPart reads every row of one part file with the checker's own
// Parquet reader, within its memory budget.
func readPart(p part) (arrow.Table, error) {
	what := "report file " + p.path
	if err := parquetcheck.CheckParquetFooter(bytes.NewReader(p.data), int64(len(p.data))); err != nil {
		return nil, grader.Unreadable(what, "%v", err)
	}
	var tbl arrow.Table
	err := grader.ReadArtifact(what, func() error {
		pf, err := file.NewParquetReader(bytes.NewReader(p.data), file.WithReadProps(parquet.NewReaderProperties(grader.NewBudget(parquetMemory))))
		if err != nil {
			return grader.Unreadable(what, "it is not a Parquet file: %v", err)
		}
		defer pf.Close()
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, grader.NewBudget(parquetMemory))
		if err != nil {
			return grader.Unreadable(what, "%v", err)
		}
		tbl, err = fr.ReadTable(context.Background())
		if err != nil {
			return grader.Unreadable(what, "%v", err)
		}
		return nil
	})
	return tbl, err
}

// schemaProblem says what is wrong with a part file's columns, "" if
// nothing is.
func schemaProblem(s *arrow.Schema) string {
	if len(s.FieldIndices("day")) > 0 {
		return "it has a column named day: the day is in the folder name (day=YYYY-MM-DD), and Spark's partitioned write leaves it out of the files; a reader would see it twice"
	}
	want := map[string]arrow.DataType{}
	for _, c := range columns {
		want[c.name] = c.typ
		idx := s.FieldIndices(c.name)
		if len(idx) == 0 {
			return "it has no column " + c.name
		}
		if got := s.Field(idx[0]).Type; !arrow.TypeEqual(got, c.typ) {
			return fmt.Sprintf("its column %s is %s, not %s", c.name, got, c.typ)
		}
	}
	for _, f := range s.Fields() {
		if _, ok := want[f.Name]; !ok {
			return "it has a column " + f.Name + " that the report does not have"
		}
	}
	return ""
}

// row is one row as the learner's files hold it.
type row struct {
	key
	stats
	minNull, maxNull, meanNull bool
	mean                       float64
	file                       string
}

// rows reads every row of the report, the day from each file's folder.
func rows(l *listing) ([]row, error) {
	var out []row
	for _, p := range l.parts {
		tbl, err := readPart(p)
		if err != nil {
			return nil, err
		}
		got, err := tableRows(tbl, p)
		tbl.Release()
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func tableRows(tbl arrow.Table, p part) ([]row, error) {
	s := tbl.Schema()
	col := func(name string) (arrow.Array, error) {
		idx := s.FieldIndices(name)
		if len(idx) == 0 {
			return nil, grader.Failf("%s has no column %s", p.path, name)
		}
		c := tbl.Column(idx[0]).Data()
		if len(c.Chunks()) == 0 {
			return nil, nil
		}
		return array.Concatenate(c.Chunks(), grader.NewBudget(parquetMemory))
	}
	arrays := map[string]arrow.Array{}
	for _, c := range columns {
		a, err := col(c.name)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, nil
		}
		defer a.Release()
		if !arrow.TypeEqual(a.DataType(), c.typ) {
			return nil, grader.Failf("%s: column %s is %s, not %s", p.path, c.name, a.DataType(), c.typ)
		}
		arrays[c.name] = a
	}
	site := arrays["site"].(*array.String)
	events, readings := arrays["events"].(*array.Int64), arrays["readings"].(*array.Int64)
	mins, maxs, means := arrays["min_reading"].(*array.Float64), arrays["max_reading"].(*array.Float64), arrays["mean_reading"].(*array.Float64)
	out := make([]row, site.Len())
	for i := range out {
		if site.IsNull(i) || events.IsNull(i) || readings.IsNull(i) {
			return nil, grader.Failf("%s: row %d has a null site, events or readings", p.path, i)
		}
		out[i] = row{key: key{site.Value(i), p.day}, file: p.path}
		out[i].events, out[i].readings = events.Value(i), readings.Value(i)
		out[i].minNull, out[i].maxNull, out[i].meanNull = mins.IsNull(i), maxs.IsNull(i), means.IsNull(i)
		out[i].min, out[i].max, out[i].mean = mins.Value(i), maxs.Value(i), means.Value(i)
	}
	return out, nil
}

// shortPath drops the run's folder from a path, for messages.
func shortPath(out, p string) string {
	return path.Join(path.Base(out), strings.TrimPrefix(p, out+"/"))
}
