// Package joins grades the lab "Joins and shuffles": it writes three CSV
// files to HDFS whose answer it knows (many events, a small device table,
// a site table larger than Spark's broadcast threshold), runs the
// learner's SiteReport over Spark Connect as a Spark user of its own, and
// judges the rows the harness captured and the final physical plan Spark
// ran, read from Spark's REST API (checker/labs/spark/sparkcheck).
package joins

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
	"github.com/delab-dev/delab/checker/labs/spark/sparkcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// minExchanges is the fewest shuffles the report needs, as the lesson
// derives it: one, to bring each site's events together for the
// aggregate. The devices and the per-site aggregate are broadcast; the
// site table is streamed where it lies, never shuffled.
const minExchanges = 1

// Lab is the trusted grader for labs/spark/03-joins-and-shuffles.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"report": func(ctx context.Context, h *grader.Harness) error {
			r, err := run(ctx, h)
			if err != nil {
				return err
			}
			return judgeRows(r.truth, r.got)
		},
		"broadcast": func(ctx context.Context, h *grader.Harness) error {
			r, err := run(ctx, h)
			if err != nil {
				return err
			}
			p, err := r.plan(ctx, h)
			if err != nil {
				return err
			}
			return judgeBroadcast(p, r.in)
		},
		"exchanges": func(ctx context.Context, h *grader.Harness) error {
			r, err := run(ctx, h)
			if err != nil {
				return err
			}
			p, err := r.plan(ctx, h)
			if err != nil {
				return err
			}
			return judgeExchanges(p)
		},
	},
}

// siteTotal is one row of the report.
type siteTotal struct {
	SiteID   int64  `json:"site_id"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	Readings int64  `json:"readings"`
	Total    int64  `json:"total"`
}

// Sizes. The site table must stay above Spark's default broadcast
// threshold (spark.sql.autoBroadcastJoinThreshold, 10 MiB), which Spark
// compares with the CSV file's size: sites.csv is 11.1 MB whatever the
// seed (fixed-width names and regions, ids 0..nSites-1).
const (
	nSites        = 330_000
	nDevices      = 30
	nGhostDevices = 6 // ids in the events but not in the device table
	nEvents       = 20_000
	nHotSites     = 30
	threshold     = 10 << 20
)

var kinds = []string{"sensor", "gateway", "camera"}

type dataset struct {
	events, devices, sites []byte
	truth                  map[int64]siteTotal
}

// generate builds the three files and the answer. Every run has: events
// from sensors (counted), from other kinds (dropped by the kind filter),
// from devices missing from the device table (dropped by the inner join),
// and events at sites missing from the site table (dropped too).
func generate(seed uint64) dataset {
	r := rand.New(rand.NewPCG(seed, 3))
	var d dataset
	kindOf := map[string]string{}
	var dv bytes.Buffer
	dv.WriteString("device_id,kind\n")
	for i := 0; i < nDevices; i++ {
		k := kinds[r.IntN(len(kinds))]
		if i < len(kinds) {
			k = kinds[i] // every kind is there
		}
		id := fmt.Sprintf("dev-%03d", i)
		kindOf[id] = k
		fmt.Fprintf(&dv, "%s,%s\n", id, k)
	}
	d.devices = dv.Bytes()

	names := map[int64]siteTotal{}
	var sv bytes.Buffer
	sv.Grow(11_200_000)
	sv.WriteString("site_id,name,region\n")
	for i := int64(0); i < nSites; i++ {
		s := siteTotal{SiteID: i, Name: fmt.Sprintf("site-%06d-%04x", i, r.IntN(1<<16)), Region: fmt.Sprintf("region-%02d", r.IntN(12))}
		names[i] = s
		fmt.Fprintf(&sv, "%d,%s,%s\n", i, s.Name, s.Region)
	}
	d.sites = sv.Bytes()

	hot := make([]int64, nHotSites)
	for i := range hot {
		hot[i] = int64(r.IntN(nSites))
	}
	d.truth = map[int64]siteTotal{}
	var ev bytes.Buffer
	ev.WriteString("device_id,site_id,reading\n")
	for i := 0; i < nEvents; i++ {
		dev := fmt.Sprintf("dev-%03d", r.IntN(nDevices+nGhostDevices))
		site := hot[r.IntN(len(hot))]
		if i%50 == 7 {
			site = nSites + int64(r.IntN(1000)) // not in the site table
		}
		reading := int64(r.IntN(1000))
		fmt.Fprintf(&ev, "%s,%d,%d\n", dev, site, reading)
		s, known := names[site]
		if kindOf[dev] != "sensor" || !known {
			continue
		}
		if t, ok := d.truth[site]; ok {
			s = t
		}
		s.Readings++
		s.Total += reading
		d.truth[site] = s
	}
	d.events = ev.Bytes()
	return d
}

type inputs struct{ events, devices, sites string }

type runResult struct {
	truth map[int64]siteTotal
	got   []siteTotal
	in    inputs
	user  string
}

func run(ctx context.Context, h *grader.Harness) (*runResult, error) {
	d := generate(h.Seed())
	if len(d.sites) <= threshold {
		return nil, fmt.Errorf("grader bug: sites.csv is %d bytes, not above the %d-byte broadcast threshold", len(d.sites), threshold)
	}
	dir := "/delab/" + h.Unique("joins")
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	files := []struct {
		name string
		data []byte
	}{{"events.csv", d.events}, {"devices.csv", d.devices}, {"sites.csv", d.sites}}
	for _, f := range files {
		if err := hdfsclient.PutFile(c, dir+"/"+f.name, f.data, 1, 128<<20); err != nil {
			return nil, fmt.Errorf("grader writing %s: %w", dir+"/"+f.name, err)
		}
	}
	// 11 MB per check: a warm HDFS should not keep every check's copy.
	h.Cleanup(func() {
		if c, err := hdfsclient.Connect(h.Endpoints); err == nil {
			_ = c.RemoveAll(dir)
			c.Close()
		}
	})
	uri := endpoints.HDFSNameNodeURI + dir
	in := inputs{uri + "/events.csv", uri + "/devices.csv", uri + "/sites.csv"}
	h.Logf("wrote %s: %d events, %d devices (%d bytes), %d sites (%d bytes, above the 10 MiB broadcast threshold)",
		uri, nEvents, nDevices, len(d.devices), nSites, len(d.sites))
	user := h.Unique("delab")
	h.Logf("running SiteReport(ctx, spark, events, devices, sites) over Spark Connect as Spark user %s", user)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{in.events, in.devices, in.sites}, Env: []string{"DELAB_SPARK_USER=" + user}})
	if err != nil {
		return nil, err
	}
	var got []siteTotal
	if err := grader.UnmarshalArtifact("result of SiteReport", res.Value, &got); err != nil {
		return nil, fmt.Errorf("decode the harness's capture of the result: %w", err)
	}
	h.Logf("SiteReport returned %d rows", len(got))
	return &runResult{truth: d.truth, got: got, in: in, user: user}, nil
}

func judgeRows(truth map[int64]siteTotal, got []siteTotal) error {
	seen := map[int64]bool{}
	for _, g := range got {
		w, ok := truth[g.SiteID]
		if !ok {
			return grader.Mismatch(fmt.Sprintf("the report has site %d, which has no sensor reading at a known site", g.SiteID), "only sites with at least one reading from a device of kind sensor", asJSON(g))
		}
		if seen[g.SiteID] {
			return grader.Mismatch(fmt.Sprintf("site %d appears twice", g.SiteID), "one row per site", asJSON(g))
		}
		seen[g.SiteID] = true
		if g != w {
			return grader.Mismatch(fmt.Sprintf("site %d's row is wrong", g.SiteID), asJSON(w), asJSON(g))
		}
	}
	if len(got) != len(truth) {
		var missing []int64
		for id := range truth {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
		return grader.Mismatch(fmt.Sprintf("the report misses %d of the %d sites with sensor readings, e.g. site %d", len(missing), len(truth), missing[0]),
			fmt.Sprintf("%d rows", len(truth)), fmt.Sprintf("%d rows", len(got)))
	}
	return nil
}

// plan finds the final plan of this run's query: the last SQL execution
// that Spark ran for this run's Spark user and that scanned all three
// files. Spark's listener records jobs and executions a little after the
// client has its rows, so it asks again for up to 15 s while it finds no
// such execution, or finds it still running.
func (r *runResult) plan(ctx context.Context, h *grader.Harness) (*sparkcheck.Plan, error) {
	sc := sparkcheck.New(h.Endpoints.SparkUI)
	deadline := time.Now().Add(15 * time.Second)
	for {
		execs, err := sc.UserExecutions(ctx, r.user, 15*time.Second)
		if err != nil {
			return nil, fmt.Errorf("grader reading Spark's REST API: %w", err)
		}
		var chosen *sparkcheck.Plan
		var last sparkcheck.Execution
		for _, e := range execs {
			p, err := sparkcheck.ParsePlan(e.Plan)
			if err != nil {
				continue
			}
			if scans(p, r.in.events) == nil || scans(p, r.in.devices) == nil || scans(p, r.in.sites) == nil {
				continue
			}
			chosen, last = p, e
		}
		if chosen != nil && last.Status != "RUNNING" {
			h.Logf("Spark's REST API lists %d SQL executions with jobs tagged for user %s", len(execs), r.user)
			if last.Status != "COMPLETED" {
				return nil, grader.Failf("Spark's execution %d of your query ended %s, not COMPLETED", last.ID, last.Status)
			}
			kind := "final adaptive plan"
			if !chosen.Final {
				kind = "plan (not adaptive)"
			}
			h.Logf("judging SQL execution %d, its %s:\n%s", last.ID, kind, chosen.Tree())
			return chosen, nil
		}
		if time.Now().After(deadline) {
			if len(execs) == 0 {
				return nil, grader.Failf("Spark's REST API lists no query run by the session the checker handed to SiteReport (Spark user %s): run the report through that session", r.user)
			}
			return nil, grader.Failf("none of the %d queries your run sent to Spark read the events, the devices and the sites in one plan: join them in one query and collect its rows", len(execs))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// scans returns the file scans of the plan that read path.
func scans(p *sparkcheck.Plan, path string) []*sparkcheck.Node {
	return p.Root.Find(func(n *sparkcheck.Node) bool {
		return strings.HasPrefix(n.Name, "Scan") && strings.Contains(n.Location(), path)
	})
}

// upToJoin walks from a scan to the first join above it, and tells
// whether the way passed a BroadcastExchange and a shuffle Exchange (AQE
// can broadcast a side at run time after it was shuffled).
func upToJoin(n *sparkcheck.Node) (join *sparkcheck.Node, broadcast, shuffled bool) {
	for p := n.Parent; p != nil; p = p.Parent {
		switch {
		case p.Name == "BroadcastExchange":
			broadcast = true
		case p.Name == "Exchange":
			shuffled = true
		case sparkcheck.IsJoin(p):
			return p, broadcast, shuffled
		}
	}
	return nil, broadcast, shuffled
}

func judgeBroadcast(p *sparkcheck.Plan, in inputs) error {
	for _, n := range p.Nodes() {
		if n.Name == "BroadcastNestedLoopJoin" || n.Name == "CartesianProduct" {
			return grader.Mismatch(fmt.Sprintf("Spark ran %s: a join without equal keys, every row against every row", n.Line()),
				"only hash joins (join ON a.key = b.key)", n.Line())
		}
	}
	for _, s := range scans(p, in.devices) {
		j, bc, shuffled := upToJoin(s)
		switch {
		case j == nil:
			return grader.Failf("the device table (%s) reaches no join in the plan Spark ran", s.Line())
		case !bc || j.Name != "BroadcastHashJoin":
			return grader.Mismatch("the device table was not broadcast: Spark shuffled it into its join", "BroadcastHashJoin with the devices under a BroadcastExchange", j.Line())
		case shuffled:
			return grader.Mismatch("the device table was shuffled before it was broadcast (AQE turned a shuffled join into a broadcast at run time)", "the devices broadcast straight from their scan", "an Exchange between "+s.Line()+" and "+j.Line())
		}
	}
	for _, s := range scans(p, in.sites) {
		if _, bc, _ := upToJoin(s); bc {
			return grader.Mismatch("the site table (11 MB, above the broadcast threshold) was broadcast: every executor holds all of it", "the site table streamed, the small side broadcast to it", "a BroadcastExchange over "+s.Line())
		}
	}
	return nil
}

func judgeExchanges(p *sparkcheck.Plan) error {
	ex := p.Named("Exchange")
	if len(ex) <= minExchanges {
		return nil
	}
	sort.Slice(ex, func(i, j int) bool { return ex[i].ID < ex[j].ID })
	var what []string
	for _, e := range ex {
		what = append(what, fmt.Sprintf("%s: %s", e.Line(), arguments(e)))
	}
	return grader.Mismatch(fmt.Sprintf("Spark shuffled the data %d times: %s", len(ex), strings.Join(what, "; ")),
		fmt.Sprintf("at most %d Exchange", minExchanges), fmt.Sprintf("%d", len(ex)))
}

// arguments is an Exchange's partitioning, without Spark's expression ids.
func arguments(n *sparkcheck.Node) string {
	for _, l := range strings.Split(n.Details, "\n") {
		if a, ok := strings.CutPrefix(l, "Arguments: "); ok {
			a, _, _ = strings.Cut(a, ", ENSURE_REQUIREMENTS")
			a, _, _ = strings.Cut(a, ", REPARTITION")
			return strip(a)
		}
	}
	return "?"
}

// strip removes the expression ids (#123) and statistics that change from
// run to run.
func strip(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '#' {
			for i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				i++
			}
			if i+1 < len(s) && s[i+1] == 'L' {
				i++ // a long's suffix: site_id#12L
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
