package sparkcheck

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// NodeMetrics are the SQL metrics of one operator of an execution as the
// REST API lists them (/sql/<id>?details=true): "Scan parquet" with
// "number of files read" = "7", "size of files read" = "1178.2 KiB", and
// so on. The REST API numbers these nodes its own way, not as the plan's
// "(N)" ids.
type NodeMetrics struct {
	NodeID   int           `json:"nodeId"`
	NodeName string        `json:"nodeName"`
	Metrics  []MetricValue `json:"metrics"`
}

// MetricValue is one metric as Spark formats it.
type MetricValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Value returns the metric's formatted value and whether it is there.
func (n NodeMetrics) Value(name string) (string, bool) {
	for _, m := range n.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return "", false
}

// Count returns a count metric ("5,454" is 5454) and whether it is there
// and a number.
func (n NodeMetrics) Count(name string) (int64, bool) {
	v, ok := n.Value(name)
	if !ok {
		return 0, false
	}
	c, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(v), ",", ""), 10, 64)
	return c, err == nil
}

// ExecutionMetrics reads the SQL metrics of every operator of one
// execution.
func (c *Client) ExecutionMetrics(ctx context.Context, id int64) ([]NodeMetrics, error) {
	app, err := c.App(ctx)
	if err != nil {
		return nil, err
	}
	var e struct {
		Nodes []NodeMetrics `json:"nodes"`
	}
	err = c.get(ctx, fmt.Sprintf("/applications/%s/sql/%d?details=true&planDescription=false", app, id), &e)
	return e.Nodes, err
}

// StageInput is what the stages of some jobs read from their input files
// (Hadoop's input metrics: the bytes the readers actually fetched, after
// Parquet skipped the row groups and columns it did not need).
type StageInput struct {
	Bytes, Records int64
	Stages         int
}

// JobsInput adds up the input metrics of every stage attempt that ran for
// the jobs (skipped stages read nothing).
func (c *Client) JobsInput(ctx context.Context, jobIDs []int64) (StageInput, error) {
	app, err := c.App(ctx)
	if err != nil {
		return StageInput{}, err
	}
	var in StageInput
	seen := map[int]bool{}
	for _, j := range jobIDs {
		var job struct {
			StageIDs []int `json:"stageIds"`
		}
		if err := c.get(ctx, fmt.Sprintf("/applications/%s/jobs/%d", app, j), &job); err != nil {
			return StageInput{}, err
		}
		for _, s := range job.StageIDs {
			if seen[s] {
				continue
			}
			seen[s] = true
			var attempts []stageAttempt
			if err := c.get(ctx, fmt.Sprintf("/applications/%s/stages/%d", app, s), &attempts); err != nil {
				return StageInput{}, err
			}
			in.add(attempts)
		}
	}
	return in, nil
}

// stageAttempt is one attempt of a stage as /stages/<id> lists it.
type stageAttempt struct {
	Status       string `json:"status"`
	InputBytes   int64  `json:"inputBytes"`
	InputRecords int64  `json:"inputRecords"`
}

func (in *StageInput) add(attempts []stageAttempt) {
	for _, a := range attempts {
		if a.Status == "SKIPPED" {
			continue
		}
		in.Bytes += a.InputBytes
		in.Records += a.InputRecords
		in.Stages++
	}
}
