// Package firstsql grades the lab "First SQL query": it writes a CSV file
// to HDFS whose answer it knows, runs the learner's query through the real
// Spark Thrift Server, and compares the rows the harness captured.
package firstsql

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/spark/01-first-sql.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"site-stats": func(ctx context.Context, h *grader.Harness) error {
			truth, got, err := run(ctx, h)
			if err != nil {
				return err
			}
			for _, g := range got {
				w, ok := truth[g.Site]
				if !ok {
					return grader.Mismatch(fmt.Sprintf("the answer has a site %q that is not in the file", g.Site), "one of the file's sites", g.Site)
				}
				if g != w {
					return grader.Mismatch("site "+g.Site+"'s numbers are wrong", asJSON(w), asJSON(g))
				}
			}
			if len(got) == 0 {
				return grader.Failf("BusiestSites returned no rows")
			}
			return nil
		},
		"busiest-three": func(ctx context.Context, h *grader.Harness) error {
			truth, got, err := run(ctx, h)
			if err != nil {
				return err
			}
			want := top3(truth)
			if names(got) != names(want) {
				return grader.Mismatch("these are not the three busiest sites, busiest first", names(want), names(got))
			}
			return nil
		},
	},
}

type siteStats struct {
	Site     string `json:"site"`
	Readings int64  `json:"readings"`
	Peak     int64  `json:"peak"`
}

// generate returns a CSV (with header) and the true stats per site. Every
// site has a distinct count, and readings span 0..1499 so that comparing
// them as text gives a different peak than comparing numbers.
func generate(seed uint64) ([]byte, map[string]siteStats) {
	r := rand.New(rand.NewPCG(seed, 13))
	sites := []string{"airport", "bank", "campus", "depot", "expo", "ferry", "garage", "harbour", "iris-tower", "junction"}
	r.Shuffle(len(sites), func(i, j int) { sites[i], sites[j] = sites[j], sites[i] })
	type row struct {
		site, device string
		reading      int64
	}
	var rows []row
	truth := map[string]siteStats{}
	for i, s := range sites {
		n := 150 + 37*i + r.IntN(20)
		st := siteStats{Site: s}
		for k := 0; k < n; k++ {
			v := int64(r.IntN(1500))
			rows = append(rows, row{s, fmt.Sprintf("%s-ap%02d", s, r.IntN(20)), v})
			st.Readings++
			st.Peak = max(st.Peak, v)
		}
		truth[s] = st
	}
	r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	var b bytes.Buffer
	b.WriteString("site,device,reading\n")
	for _, x := range rows {
		fmt.Fprintf(&b, "%s,%s,%d\n", x.site, x.device, x.reading)
	}
	return b.Bytes(), truth
}

func run(ctx context.Context, h *grader.Harness) (map[string]siteStats, []siteStats, error) {
	data, truth := generate(h.Seed())
	dir := "/delab/" + h.Unique("sql")
	file := dir + "/readings.csv"
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return nil, nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	if err := hdfsclient.PutFile(c, file, data, 1, 128<<20); err != nil {
		return nil, nil, fmt.Errorf("grader writing %s: %w", file, err)
	}
	uri := endpoints.HDFSNameNodeURI + file
	h.Logf("wrote %s: %d rows over %d sites, with a header line", uri, strings.Count(string(data), "\n")-1, len(truth))
	h.Logf("running BusiestSites(ctx, conn, %q) against the Spark Thrift Server", uri)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{uri}})
	if err != nil {
		return nil, nil, err
	}
	var got []siteStats
	if err := grader.UnmarshalArtifact("result of BusiestSites", res.Value, &got); err != nil {
		return nil, nil, fmt.Errorf("decode the harness's capture of the result: %w", err)
	}
	h.Logf("BusiestSites returned %s", asJSON(got))
	return truth, got, nil
}

func top3(truth map[string]siteStats) []siteStats {
	var all []siteStats
	for _, s := range truth {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Readings != all[j].Readings {
			return all[i].Readings > all[j].Readings
		}
		return all[i].Site < all[j].Site
	})
	return all[:3]
}

func names(s []siteStats) string {
	var out []string
	for _, x := range s {
		out = append(out, x.Site)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
