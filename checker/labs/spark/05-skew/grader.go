// Package skew grades the lab "Skewed joins": it writes orders (one
// customer holds half of them) and customers to HDFS, runs the learner's
// RegionReport over Spark Connect as a Spark user of its own, and judges
// the rows the harness captured against its own computation, and how
// evenly the tasks of the join's stage read their shuffle input, from the
// per-task metrics in Spark's REST API (checker/labs/spark/sparkcheck).
package skew

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/spark-connect-go/spark/sql"

	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
	"github.com/delab-dev/delab/checker/labs/spark/sparkcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// The balance rules. The harness runs the learner's session with
// shufflePartitions partitions and coalescing off, so the join's stage
// runs at least that many tasks unless the learner changed them. A
// balanced join's largest task reads at most maxRatio times the median
// task's records. Measured on delab's Spark over several seeds: AQE's
// skew join 1.01, salting 64 ways 1.07 to 1.17, 16 ways 1.50 to 1.75,
// the hot key alone 64 ways 1.38 to 1.54; the plain join 15.2 to 15.3,
// AQE off 15.2, salting 2 ways 7.4 to 13.9.
const (
	shufflePartitions = 16
	maxRatio          = 3.0
)

// Lab is the trusted grader for labs/spark/05-skew.
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
		"balanced": func(ctx context.Context, h *grader.Harness) error {
			r, err := run(ctx, h)
			if err != nil {
				return err
			}
			if err := judgeRows(r.truth, r.got); err != nil {
				var f *grader.Failure
				if errors.As(err, &f) {
					f.Message = "the report is wrong, and a balanced join must stay exact: " + f.Message
				}
				return err
			}
			return judgeBalance(ctx, h, r)
		},
	},
}

type inputs struct{ orders, customers string }

type runResult struct {
	truth map[string]regionTotal
	got   []regionTotal
	in    inputs
	user  string
}

func run(ctx context.Context, h *grader.Harness) (*runResult, error) {
	d := generate(h.Seed())
	dir := "/delab/" + h.Unique("skew")
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	for i, f := range d.orders {
		p := fmt.Sprintf("%s/orders/part-%02d.csv", dir, i)
		if err := hdfsclient.PutFile(c, p, f, 1, 128<<20); err != nil {
			return nil, fmt.Errorf("grader writing %s: %w", p, err)
		}
	}
	if err := hdfsclient.PutFile(c, dir+"/customers.csv", d.customers, 1, 128<<20); err != nil {
		return nil, fmt.Errorf("grader writing %s: %w", dir+"/customers.csv", err)
	}
	h.Cleanup(func() {
		if c, err := hdfsclient.Connect(h.Endpoints); err == nil {
			_ = c.RemoveAll(dir)
			c.Close()
		}
	})
	uri := endpoints.HDFSNameNodeURI + dir
	in := inputs{uri + "/orders", uri + "/customers.csv"}
	h.Logf("wrote %s: %d orders in %d files, %d of them (half) for customer %d; %d orders with no customer, %d for customers missing from the %d customers",
		uri, nOrders, nFiles, d.hotRows, d.hot, d.nullKeys, d.ghostRows, nCustomers+nQuiet)
	user := h.Unique("delab")
	h.Logf("running RegionReport(ctx, spark, orders, customers) over Spark Connect as Spark user %s", user)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{in.orders, in.customers}, Env: []string{"DELAB_SPARK_USER=" + user}})
	if err != nil {
		return nil, blame(ctx, h, err)
	}
	var got []regionTotal
	if err := grader.UnmarshalArtifact("result of RegionReport", res.Value, &got); err != nil {
		return nil, fmt.Errorf("decode the harness's capture of the result: %w", err)
	}
	h.Logf("RegionReport returned %d rows", len(got))
	return &runResult{truth: d.truth, got: got, in: in, user: user}, nil
}

// blame turns the learner's failure into a service error when Spark
// itself is not answering by then: a driver that died under the query,
// or that accepts no session, is nobody's fault. A query Spark refused
// (an analysis error, a missing column) leaves Spark healthy and stays
// the learner's failure, with Spark's own message.
func blame(ctx context.Context, h *grader.Harness, err error) error {
	var f *grader.Failure
	if !errors.As(err, &f) {
		return err
	}
	if serr := sparkAnswers(ctx, h.Endpoints); serr != nil {
		return fmt.Errorf("Spark is not answering (%v); this is a service problem, not your code's (the check saw: %s)", serr, f.Message)
	}
	return err
}

// sparkAnswers opens a Spark Connect session of the checker's own and
// runs one query in it, and asks the REST API for the application.
func sparkAnswers(ctx context.Context, e endpoints.Endpoints) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := sparkcheck.New(e.SparkUI).App(ctx); err != nil {
		return err
	}
	s, err := sql.NewSessionBuilder().Remote(e.SparkConnect).Build(ctx)
	if err != nil {
		return fmt.Errorf("open a Spark Connect session: %w", err)
	}
	defer s.Stop()
	df, err := s.Sql(ctx, "SELECT 1")
	if err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	if _, err := df.Collect(ctx); err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	return nil
}

func judgeRows(truth map[string]regionTotal, got []regionTotal) error {
	seen := map[string]bool{}
	for _, g := range got {
		w, ok := truth[g.Region]
		if !ok {
			why := "a region with no order of a known customer"
			if g.Region == quietRegion {
				why = "the region whose customers never ordered"
			}
			return grader.Mismatch(fmt.Sprintf("the report has region %q, %s", g.Region, why), "only regions with at least one order joined to its customer", asJSON(g))
		}
		if seen[g.Region] {
			return grader.Mismatch(fmt.Sprintf("region %q appears twice", g.Region), "one row per region", asJSON(g))
		}
		seen[g.Region] = true
		if g != w {
			return grader.Mismatch(fmt.Sprintf("region %q's row is wrong", g.Region), asJSON(w), asJSON(g))
		}
	}
	if len(got) != len(truth) {
		var missing []string
		for r := range truth {
			if !seen[r] {
				missing = append(missing, r)
			}
		}
		sort.Strings(missing)
		return grader.Mismatch(fmt.Sprintf("the report misses %d of the %d regions with orders, e.g. %q", len(missing), len(truth), missing[0]),
			fmt.Sprintf("%d rows", len(truth)), fmt.Sprintf("%d rows", len(got)))
	}
	return nil
}

// execution finds this run's query: the last SQL execution of this run's
// Spark user whose plan joins the orders to the customers. Spark's
// listener records executions a little after the client has its rows, so
// it asks again for up to 15 s while it finds none, or finds it running.
func (r *runResult) execution(ctx context.Context, h *grader.Harness, sc *sparkcheck.Client) (sparkcheck.Execution, *sparkcheck.Plan, *sparkcheck.Node, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		execs, err := sc.UserExecutions(ctx, r.user, 15*time.Second)
		if err != nil {
			return sparkcheck.Execution{}, nil, nil, fmt.Errorf("grader reading Spark's REST API: %w", err)
		}
		var last sparkcheck.Execution
		var plan *sparkcheck.Plan
		var join *sparkcheck.Node
		for _, e := range execs {
			p, err := sparkcheck.ParsePlan(e.Plan)
			if err != nil {
				continue
			}
			if j := topJoin(p, r.in); j != nil {
				last, plan, join = e, p, j
			}
		}
		if join != nil && last.Status != "RUNNING" {
			h.Logf("Spark's REST API lists %d SQL executions with jobs tagged for user %s", len(execs), r.user)
			if last.Status != "COMPLETED" {
				return last, nil, nil, grader.Failf("Spark's execution %d of your query ended %s, not COMPLETED", last.ID, last.Status)
			}
			return last, plan, join, nil
		}
		if time.Now().After(deadline) {
			if len(execs) == 0 {
				return last, nil, nil, grader.Failf("Spark's REST API lists no query run by the session the checker handed to RegionReport (Spark user %s): run the report through that session", r.user)
			}
			return last, nil, nil, grader.Failf("none of the %d queries your run sent to Spark joins the orders to the customers: join them in one query and collect its rows", len(execs))
		}
		select {
		case <-ctx.Done():
			return last, nil, nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// topJoin returns the highest join of the plan with a scan of the orders
// below one child and a scan of the customers below another: the join of
// the two tables (a salting query may join a side to a small table of
// hot keys first; those joins sit below it).
func topJoin(p *sparkcheck.Plan, in inputs) *sparkcheck.Node {
	for _, n := range p.Nodes() { // parents first
		if !isJoin(n) || len(n.Children) < 2 {
			continue
		}
		var orders, customers []bool
		for _, c := range n.Children {
			orders = append(orders, scans(c, in.orders))
			customers = append(customers, scans(c, in.customers))
		}
		for i := range n.Children {
			for j := range n.Children {
				if i != j && orders[i] && customers[j] {
					return n
				}
			}
		}
	}
	return nil
}

// joinName is a join's operator without AQE's mark: the final plan
// names a join whose skewed partitions were split
// "SortMergeJoin(skew=true)".
func joinName(n *sparkcheck.Node) string {
	name, _, _ := strings.Cut(n.Name, "(")
	return name
}

func isJoin(n *sparkcheck.Node) bool {
	c := *n
	c.Name = joinName(n)
	return sparkcheck.IsJoin(&c)
}

func scans(n *sparkcheck.Node, path string) bool {
	return len(n.Find(func(x *sparkcheck.Node) bool {
		return strings.HasPrefix(x.Name, "Scan") && strings.Contains(x.Location(), path)
	})) > 0
}

func judgeBalance(ctx context.Context, h *grader.Harness, r *runResult) error {
	sc := sparkcheck.New(h.Endpoints.SparkUI)
	e, plan, join, err := r.execution(ctx, h, sc)
	if err != nil {
		return err
	}
	kind := "final adaptive plan"
	if !plan.Final {
		kind = "plan (not adaptive)"
	}
	h.Logf("judging SQL execution %d; in its %s the orders meet the customers in %s", e.ID, kind, join.Line())
	if name := joinName(join); name != "SortMergeJoin" && name != "ShuffledHashJoin" {
		return grader.Mismatch(fmt.Sprintf("Spark joined the orders to the customers with %s, not a shuffled join: the customer table stands for one too large to broadcast, and the lab's session turns broadcasts off for that reason", join.Line()),
			"SortMergeJoin or ShuffledHashJoin, with the skew handled", join.Line())
	}
	stages, err := sc.CompletedStages(ctx, e.SuccessJobIDs)
	if err != nil {
		return fmt.Errorf("grader reading Spark's REST API: %w", err)
	}
	st, ok := sparkcheck.MostShuffleRead(stages)
	if !ok {
		return grader.Failf("no stage of execution %d read shuffled data, yet its plan has %s", e.ID, join.Line())
	}
	tasks, err := sc.Tasks(ctx, st.StageID, st.AttemptID)
	if err != nil {
		return fmt.Errorf("grader reading Spark's REST API: %w", err)
	}
	s := sparkcheck.SpreadOf(tasks)
	h.Logf("the join's stage (the stage of execution %d that read the most shuffled rows): %d tasks read %d rows; largest task %d rows, median task %.0f rows: %.2f× the median",
		e.ID, len(s.Records), s.Total, s.Max, s.Median, s.Ratio())
	if len(s.Records) < shufflePartitions {
		return grader.Mismatch(fmt.Sprintf("the join's stage ran %d tasks, fewer than the session's %d shuffle partitions: partitions were merged (coalescing turned back on, or fewer shuffle partitions), so a few tasks do all the work", len(s.Records), shufflePartitions),
			fmt.Sprintf("at least %d tasks", shufflePartitions), fmt.Sprintf("%d tasks: %s", len(s.Records), records(s)))
	}
	if s.Median == 0 {
		return grader.Mismatch(fmt.Sprintf("the join is skewed: half of its stage's %d tasks read no rows at all, while the largest read %d", len(s.Records), s.Max),
			fmt.Sprintf("largest task at most %.0f× the median", maxRatio), records(s))
	}
	if s.Ratio() > maxRatio {
		return grader.Mismatch(fmt.Sprintf("the join is skewed: its largest task read %d rows, %.1f× the median task's %.0f (the hot customer's orders still land in too few tasks)", s.Max, s.Ratio(), s.Median),
			fmt.Sprintf("largest task at most %.0f× the median", maxRatio), records(s))
	}
	return nil
}

// records lists the tasks' shuffle records, largest first, shortened.
func records(s sparkcheck.Spread) string {
	var b strings.Builder
	b.WriteString("rows read per task, largest first: ")
	for i, n := range s.Records {
		if i == 8 {
			fmt.Fprintf(&b, " … (%d more)", len(s.Records)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", n)
	}
	return b.String()
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
