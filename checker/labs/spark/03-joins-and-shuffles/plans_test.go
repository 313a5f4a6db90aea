package joins

import (
	"os"
	"testing"

	"github.com/delab-dev/delab/checker/labs/spark/sparkcheck"
)

// The plans are the final plans Spark 4.0.1 ran (from its REST API) for
// the report written several ways over an 11.1 MB site table, with AQE on.
func TestJudgesOnPlansSparkRan(t *testing.T) {
	in := inputs{"hdfs://hdfs:8020/x/events.csv", "hdfs://hdfs:8020/x/devices.csv", "hdfs://hdfs:8020/x/sites.csv"}
	for _, c := range []struct {
		plan                 string
		broadcast, exchanges bool // passes
	}{
		{"good", true, true},     // aggregate first, BROADCAST(t): one Exchange
		{"naive", true, false},   // sites shuffled into a join AQE broadcast too late
		{"preagg", true, false},  // aggregate first without the hint: the same
		{"cross", false, false},  // CROSS JOIN + OR filter: a nested loop join
		{"bcsites", false, true}, // BROADCAST(s): one Exchange, 11 MB broadcast
		{"merge", false, false},  // MERGE(d): devices shuffled
		{"off", false, false},    // threshold -1: every join sort-merge
		{"shj", false, false},    // SHUFFLE_HASH(d)
		{"repart", true, false},  // REPARTITION(8)
	} {
		b, err := os.ReadFile("testdata/plans/" + c.plan + ".plan")
		if err != nil {
			t.Fatal(err)
		}
		p, err := sparkcheck.ParsePlan(string(b))
		if err != nil {
			t.Fatalf("%s: %v", c.plan, err)
		}
		if got := judgeBroadcast(p, in) == nil; got != c.broadcast {
			t.Errorf("%s: broadcast passes %v, want %v (%v)", c.plan, got, c.broadcast, judgeBroadcast(p, in))
		}
		if got := judgeExchanges(p) == nil; got != c.exchanges {
			t.Errorf("%s: exchanges passes %v, want %v (%v)", c.plan, got, c.exchanges, judgeExchanges(p))
		}
	}
}
