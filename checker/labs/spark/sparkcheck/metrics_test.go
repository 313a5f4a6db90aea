package sparkcheck

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/layout-scan.json is what Spark 4.0.1's REST API answered for a
// one-week, one-device query over a day-partitioned Parquet layout
// (/sql/<id>?details=true).
func TestNodeMetricsReadsScanMetrics(t *testing.T) {
	b, err := os.ReadFile("testdata/layout-scan.json")
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Nodes []NodeMetrics `json:"nodes"`
		Plan  string        `json:"planDescription"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	var scans []NodeMetrics
	for _, n := range e.Nodes {
		if strings.HasPrefix(n.NodeName, "Scan") {
			scans = append(scans, n)
		}
	}
	if len(scans) != 1 {
		t.Fatalf("%d scans", len(scans))
	}
	s := scans[0]
	for name, want := range map[string]int64{"number of files read": 7, "number of output rows": 5454, "number of partitions read": 7} {
		if got, ok := s.Count(name); !ok || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, ok, want)
		}
	}
	if v, _ := s.Value("size of files read"); v != "1178.2 KiB" {
		t.Errorf("size of files read = %q", v)
	}
	if _, ok := s.Count("size of files read"); ok {
		t.Error("a size is not a count")
	}
	p, err := ParsePlan(e.Plan)
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Root.Find(func(n *Node) bool { return n.Name == "Scan" }); len(n) != 1 || !strings.Contains(n[0].Details, "PartitionFilters: [isnotnull(day") {
		t.Errorf("scan details: %v", n)
	}
}

func TestStageInputSkipsSkippedStages(t *testing.T) {
	var in StageInput
	in.add([]stageAttempt{{Status: "COMPLETE", InputBytes: 59611, InputRecords: 5454}})
	in.add([]stageAttempt{{Status: "SKIPPED", InputBytes: 1 << 20}})
	in.add([]stageAttempt{{Status: "COMPLETE"}})
	if in != (StageInput{Bytes: 59611, Records: 5454, Stages: 2}) {
		t.Errorf("%+v", in)
	}
}
