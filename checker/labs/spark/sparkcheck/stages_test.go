package sparkcheck

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

func load(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// The files are what Spark 4.0.1's REST API answered (measured) for a
// sort-merge join of 320,000 orders, half of them one customer's, to
// 20,200 customers with 16 shuffle partitions: once as is (skewed-*),
// once with AQE's skew-join handling on lowered thresholds (aqe-skew-*),
// which split the hot partition into 16 tasks: 31 in all.
func TestSpreadOfRecordedJoinStages(t *testing.T) {
	for _, c := range []struct {
		file         string
		tasks        int
		total, max   int64
		median       float64
		ratioAtLeast float64
		ratioAtMost  float64
	}{
		{"skewed-tasks.json", 16, 338536, 171057, 11275, 15, 15.3},
		{"aqe-skew-tasks.json", 31, 357181, 11892, 11810, 1.0, 1.01},
	} {
		var tasks []Task
		load(t, c.file, &tasks)
		s := SpreadOf(tasks)
		if len(s.Records) != c.tasks || s.Total != c.total || s.Max != c.max || s.Median != c.median {
			t.Errorf("%s: %d tasks, total %d, max %d, median %v; want %d, %d, %d, %v", c.file, len(s.Records), s.Total, s.Max, s.Median, c.tasks, c.total, c.max, c.median)
		}
		if r := s.Ratio(); r < c.ratioAtLeast || r > c.ratioAtMost {
			t.Errorf("%s: ratio %.3f, want within [%v, %v]", c.file, r, c.ratioAtLeast, c.ratioAtMost)
		}
	}
}

func TestSpreadCountsOnlySuccessfulAttempts(t *testing.T) {
	var tasks []Task
	load(t, "skewed-tasks.json", &tasks)
	failed := tasks[0]
	failed.Status, failed.Attempt = "FAILED", 1
	s := SpreadOf(append(tasks, failed))
	if len(s.Records) != 16 || s.Total != 338536 {
		t.Errorf("a failed attempt was counted: %d tasks, total %d", len(s.Records), s.Total)
	}
	if (Spread{}).Ratio() != 0 || SpreadOf(nil).Max != 0 {
		t.Error("an empty stage has no ratio")
	}
}

func TestStagesOfRecordedJobs(t *testing.T) {
	var job struct {
		StageIDs []int `json:"stageIds"`
	}
	load(t, "aqe-skew-job.json", &job)
	if !reflect.DeepEqual(job.StageIDs, []int{25, 26, 27}) {
		t.Errorf("stage ids %v", job.StageIDs)
	}
	var ran, skipped []Stage
	load(t, "aqe-skew-stage.json", &ran)
	load(t, "skipped-stage.json", &skipped)
	got := Completed(append(append([]Stage{}, skipped...), ran...))
	if len(got) != 1 || got[0].StageID != 27 || got[0].NumTasks != 31 || got[0].ShuffleReadRecords != 357181 {
		t.Fatalf("completed stages %+v", got)
	}
	final := Stage{StageID: 31, Status: "COMPLETE", ShuffleReadRecords: 372}
	scan := Stage{StageID: 23, Status: "COMPLETE"}
	if s, ok := MostShuffleRead([]Stage{scan, got[0], final}); !ok || s.StageID != 27 {
		t.Errorf("MostShuffleRead = %+v, %v; want stage 27", s, ok)
	}
	if _, ok := MostShuffleRead([]Stage{scan}); ok {
		t.Error("a stage that read no shuffle was chosen")
	}
}
