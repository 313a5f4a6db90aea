package skew

import (
	"os"
	"testing"

	"github.com/delab-dev/delab/checker/labs/spark/sparkcheck"
)

// The plan is what Spark 4.0.1's REST API gave for the plain join with
// AQE's skew thresholds lowered (measured): the final plan names the join
// "SortMergeJoin(skew=true)", which sparkcheck.IsJoin alone does not know.
func TestTopJoinFindsTheSkewSplitJoin(t *testing.T) {
	b, err := os.ReadFile("testdata/plans/aqe-skew.plan")
	if err != nil {
		t.Fatal(err)
	}
	p, err := sparkcheck.ParsePlan(string(b))
	if err != nil {
		t.Fatal(err)
	}
	dir := "hdfs://hdfs:8020/explore/1796089468791601357"
	j := topJoin(p, inputs{dir + "/orders", dir + "/customers.csv"})
	if j == nil {
		t.Fatalf("no join of the orders and the customers in\n%s", p.Tree())
	}
	if j.Name != "SortMergeJoin(skew=true)" || joinName(j) != "SortMergeJoin" || j.ID != 13 {
		t.Errorf("join %s (name %q)", j.Line(), joinName(j))
	}
	if j := topJoin(p, inputs{dir + "/orders", dir + "/other.csv"}); j != nil {
		t.Errorf("a join of a table the plan does not read: %s", j.Line())
	}
}
