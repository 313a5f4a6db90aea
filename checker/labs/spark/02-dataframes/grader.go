// Package dataframes grades the lab "A daily report with DataFrames": it
// writes sensor events as Parquet to HDFS with its own client, runs the
// learner's DailyReport (a DataFrame pipeline over Spark Connect) in a
// process whose memory limit is far below the events' size, and reads the
// partitioned Parquet the learner's Spark job wrote with its own reader,
// comparing every row and value with its own computation.
package dataframes

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/spark/02-dataframes.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"layout":   layout,
		"values":   values,
		"in-spark": inSpark,
	},
}

const (
	// smallEvents is the layout and values checks' input: every boundary
	// case among enough events that each row has hundreds.
	smallEvents = 20_000
	// bigEvents is the in-spark check's input: about 45 MiB of Parquet,
	// about 50 MiB as Arrow columns in Go even for the three columns the
	// report needs, and about 1 GiB as Go rows (Collect), against a 48 MiB
	// limit; the reference's process (Spark Connect client, gRPC, Arrow)
	// peaks at about 26 MiB.
	bigEvents = 2_000_000
)

// report is one run of DailyReport and what it left.
type report struct {
	ds      *dataset
	in, out string
	c       *hdfs.Client
	uri     func(string) string
	listing *listing
	listErr error
}

// run writes a dataset of n events under a fresh folder, runs the
// learner's DailyReport on it and lists what it wrote.
func run(ctx context.Context, h *grader.Harness, n int) (*report, error) {
	ds, err := generate(h.Seed(), n)
	if err != nil {
		return nil, fmt.Errorf("generate the events: %w", err)
	}
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	base := "/delab/" + h.Unique("report")
	h.Cleanup(func() { _ = c.RemoveAll(base); c.Close() })
	r := &report{ds: ds, in: base + "/events", out: base + "/report", c: c}
	size := 0
	for i, data := range ds.files {
		file := fmt.Sprintf("%s/part-%d.parquet", r.in, i)
		if err := hdfsclient.PutFile(c, file, data, 1, 128<<20); err != nil {
			return nil, fmt.Errorf("grader writing %s: %w", file, err)
		}
		size += len(data)
	}
	inURI, outURI := endpoints.HDFSNameNodeURI+r.in, endpoints.HDFSNameNodeURI+r.out
	h.Logf("wrote %s: %d events in %d Parquet files (%.1f MiB), over %d sites and %d days", inURI, ds.events, len(ds.files), float64(size)/(1<<20), len(sites), reportDays+1)
	h.Logf("running DailyReport(ctx, spark, %q, %q) over Spark Connect, memory limit %s", inURI, outURI, mib(int64(h.Check.Memory)))
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{inURI, outURI}})
	if err != nil {
		var f *grader.Failure
		if errors.As(err, &f) && strings.Contains(f.Message, "memory") {
			said, _, _ := strings.Cut(f.Message, "; stream")
			return nil, grader.Failf("%s. The events were coming into your Go process: %d events are at least %d MiB as Arrow columns and far more as Go rows (Collect), against its limit of %s. The work belongs in Spark: Filter, GroupBy/Agg and the partitioned write run in its executors, which read and write HDFS themselves; DailyReport only sends the plan and brings back nothing",
				said, ds.events, ds.events*24>>20, mib(int64(h.Check.Memory)))
		}
		return nil, err
	}
	h.Logf("DailyReport returned nil; its process peaked at %s resident (limit %s)", mib(res.PeakRSS+(1<<20)-1), mib(int64(h.Check.Memory)))
	r.listing, r.listErr = list(c, r.out)
	return r, nil
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// layout: the report is day=YYYY-MM-DD folders of Parquet files without a
// day column, one folder per day with kept events, and a _SUCCESS file.
func layout(ctx context.Context, h *grader.Harness) error {
	r, err := run(ctx, h, smallEvents)
	if err != nil {
		return err
	}
	if r.listErr != nil {
		return r.listErr
	}
	l := r.listing
	h.Logf("listed %s: %d day folders, %d part files", r.out, len(l.days), len(l.parts))
	if strings.Join(l.days, ",") != strings.Join(r.ds.days, ",") {
		return grader.Mismatch(fmt.Sprintf("the day folders are not one per UTC day with kept events (%s has only out-of-range readings, so no folder)", r.ds.deadDay),
			dayList(r.ds.days), dayList(l.days))
	}
	for _, p := range l.parts {
		tbl, err := readPart(p)
		if err != nil {
			return err
		}
		problem := schemaProblem(tbl.Schema())
		var have []string
		for _, f := range tbl.Schema().Fields() {
			have = append(have, f.Name+" "+f.Type.String())
		}
		tbl.Release()
		if problem != "" {
			return grader.Mismatch(fmt.Sprintf("%s: %s", shortPath(r.out, p.path), problem), columnList(), strings.Join(have, ", "))
		}
	}
	h.Logf("read every part file's schema with the checker's Parquet reader: %s, no day column", columnList())
	if !l.success {
		return grader.Failf("%s has no _SUCCESS file: Spark writes it when the whole job has committed, so a reader knows the folder is complete", r.out)
	}
	h.Logf("%s/_SUCCESS is there: the job committed", r.out)
	return nil
}

func dayList(days []string) string {
	var out []string
	for _, d := range days {
		out = append(out, "day="+d)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func columnList() string {
	var out []string
	for _, c := range columns {
		out = append(out, c.name+" "+c.typ.String())
	}
	return strings.Join(out, ", ")
}

// values: every row and value of the report, against the checker's own
// computation, with every boundary case present.
func values(ctx context.Context, h *grader.Harness) error {
	r, err := run(ctx, h, smallEvents)
	if err != nil {
		return err
	}
	return judgeRows(h, r)
}

// inSpark: the same report from 2,000,000 events, by a process far too
// small to hold them.
func inSpark(ctx context.Context, h *grader.Harness) error {
	r, err := run(ctx, h, bigEvents)
	if err != nil {
		return err
	}
	return judgeRows(h, r)
}

func judgeRows(h *grader.Harness, r *report) error {
	if r.listErr != nil {
		return r.listErr
	}
	got, err := rows(r.listing)
	if err != nil {
		return err
	}
	h.Logf("read %d rows from %d part files with the checker's Parquet reader", len(got), len(r.listing.parts))
	ds := r.ds
	sort.SliceStable(got, func(i, j int) bool { return less(got[i].key, got[j].key) })
	seen := map[key]row{}
	for _, g := range got {
		if prev, dup := seen[g.key]; dup {
			return grader.Failf("%s has two rows (in %s and %s): one row per site and day", g.key, shortPath(r.out, prev.file), shortPath(r.out, g.file))
		}
		seen[g.key] = g
	}
	// The rows the lesson's rules decide come first: a failure there names
	// the rule.
	for _, b := range ds.boundaries {
		var k key
		switch {
		case b.absent && b.row.site == "":
			for _, g := range got {
				if g.day == b.row.day {
					return unexpected(g, b.rule+" (the checker put "+b.input+" there)")
				}
			}
			continue
		case b.absent:
			if g, ok := seen[b.row]; ok {
				return unexpected(g, b.rule+" (the checker put "+b.input+" there)")
			}
			continue
		default:
			k = b.row
		}
		if err := judgeRow(ds, seen, k, b.rule+" (the checker put "+b.input+" there)"); err != nil {
			return err
		}
	}
	for _, g := range got {
		if _, ok := ds.truth[g.key]; !ok {
			return unexpected(g, "no event of that site and day is kept")
		}
	}
	keys := make([]key, 0, len(ds.truth))
	for k := range ds.truth {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	for _, k := range keys {
		if err := judgeRow(ds, seen, k, ""); err != nil {
			return err
		}
	}
	h.Logf("all %d rows (site, day) match the checker's own report: events, readings, min and max exactly, mean within %g", len(ds.truth), meanTolerance)
	for _, b := range ds.boundaries {
		h.Logf("  rule held: %s", b.rule)
	}
	return nil
}

func less(a, b key) bool {
	if a.day != b.day {
		return a.day < b.day
	}
	return a.site < b.site
}

// judgeRow compares the learner's row k with the checker's; rule, if not
// empty, is the lesson's rule that row exercises.
func judgeRow(ds *dataset, seen map[key]row, k key, rule string) error {
	want := ds.truth[k]
	expected := describe(row{key: k, stats: want, minNull: want.readings == 0, maxNull: want.readings == 0, meanNull: want.readings == 0, mean: want.mean()})
	g, ok := seen[k]
	if !ok {
		msg := fmt.Sprintf("the report has no row for %s", k)
		if rule != "" {
			msg += ": " + rule
		}
		return grader.Mismatch(msg, expected, "no row")
	}
	if problem := compare(want, g); problem != "" {
		msg := fmt.Sprintf("%s: %s", k, problem)
		if rule != "" {
			msg += "; the rule this row tests: " + rule
		}
		return grader.Mismatch(msg, expected, describe(g))
	}
	return nil
}

func unexpected(g row, why string) error {
	return grader.Mismatch(fmt.Sprintf("the report has a row for %s, but it should not: %s", g.key, why), "no row", describe(g))
}

// compare says what differs between the checker's row and the learner's.
func compare(want stats, got row) string {
	if got.events != want.events {
		return fmt.Sprintf("events is %d, the checker counts %d kept events (null readings count, out-of-range ones do not)", got.events, want.events)
	}
	if got.readings != want.readings {
		return fmt.Sprintf("readings is %d, the checker counts %d non-null readings", got.readings, want.readings)
	}
	if want.readings == 0 {
		if !got.minNull || !got.maxNull || !got.meanNull {
			return "with no non-null reading, min_reading, max_reading and mean_reading are null"
		}
		return ""
	}
	switch {
	case got.minNull || got.min != want.min:
		return "min_reading is wrong"
	case got.maxNull || got.max != want.max:
		return "max_reading is wrong"
	case got.meanNull || math.Abs(got.mean-want.mean()) > meanTolerance*math.Max(1, math.Abs(want.mean())):
		return fmt.Sprintf("mean_reading is wrong (compared within %g, relative)", meanTolerance)
	}
	return ""
}

func describe(r row) string {
	f := func(null bool, v float64) string {
		if null {
			return "null"
		}
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("site=%s day=%s events=%d readings=%d min_reading=%s max_reading=%s mean_reading=%s",
		r.site, r.day, r.events, r.readings, f(r.minNull, r.min), f(r.maxNull, r.max), f(r.meanNull, r.mean))
}
