package sparkcheck

import (
	"context"
	"fmt"
	"sort"
)

// Stage is one attempt of a stage as the REST API lists it
// (/applications/<app>/stages/<id>).
type Stage struct {
	StageID            int    `json:"stageId"`
	AttemptID          int    `json:"attemptId"`
	Status             string `json:"status"`
	Name               string `json:"name"`
	NumTasks           int    `json:"numTasks"`
	ShuffleReadRecords int64  `json:"shuffleReadRecords"`
	ShuffleReadBytes   int64  `json:"shuffleReadBytes"`
	ShuffleWriteBytes  int64  `json:"shuffleWriteBytes"`
}

// Task is one task of a stage attempt, with the metrics graders judge.
type Task struct {
	TaskID      int64  `json:"taskId"`
	Index       int    `json:"index"`
	Attempt     int    `json:"attempt"`
	PartitionID int    `json:"partitionId"`
	Status      string `json:"status"`
	Duration    int64  `json:"duration"`
	Metrics     struct {
		ShuffleRead struct {
			RecordsRead    int64 `json:"recordsRead"`
			LocalBytesRead int64 `json:"localBytesRead"`
		} `json:"shuffleReadMetrics"`
	} `json:"taskMetrics"`
}

// RecordsRead is the shuffle records the task read.
func (t Task) RecordsRead() int64 { return t.Metrics.ShuffleRead.RecordsRead }

// maxTasks bounds the tasks read of one stage attempt.
const maxTasks = 5000

// JobStageIDs returns the ids of the stages of one job (those that ran
// and those that were skipped because an earlier job had run them).
func (c *Client) JobStageIDs(ctx context.Context, job int64) ([]int, error) {
	app, err := c.App(ctx)
	if err != nil {
		return nil, err
	}
	var j struct {
		StageIDs []int `json:"stageIds"`
	}
	err = c.get(ctx, fmt.Sprintf("/applications/%s/jobs/%d", app, job), &j)
	return j.StageIDs, err
}

// StageAttempts returns every attempt of one stage, without its tasks.
func (c *Client) StageAttempts(ctx context.Context, stage int) ([]Stage, error) {
	app, err := c.App(ctx)
	if err != nil {
		return nil, err
	}
	var s []Stage
	err = c.get(ctx, fmt.Sprintf("/applications/%s/stages/%d?details=false", app, stage), &s)
	return s, err
}

// Tasks returns the tasks of one stage attempt (at most maxTasks).
func (c *Client) Tasks(ctx context.Context, stage, attempt int) ([]Task, error) {
	app, err := c.App(ctx)
	if err != nil {
		return nil, err
	}
	var t []Task
	err = c.get(ctx, fmt.Sprintf("/applications/%s/stages/%d/%d/taskList?length=%d", app, stage, attempt, maxTasks), &t)
	return t, err
}

// CompletedStages returns the completed stage attempts of the jobs, each
// once (a stage that a job skipped because another job ran it is listed
// by that other job), in stage id order.
func (c *Client) CompletedStages(ctx context.Context, jobs []int64) ([]Stage, error) {
	seen := map[int]bool{}
	var out []Stage
	for _, j := range jobs {
		ids, err := c.JobStageIDs(ctx, j)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			attempts, err := c.StageAttempts(ctx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, Completed(attempts)...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StageID < out[j].StageID })
	return out, nil
}

// Completed keeps the attempts whose status is COMPLETE (not SKIPPED,
// FAILED, ACTIVE or PENDING).
func Completed(attempts []Stage) []Stage {
	var out []Stage
	for _, a := range attempts {
		if a.Status == "COMPLETE" {
			out = append(out, a)
		}
	}
	return out
}

// MostShuffleRead returns the stage that read the most shuffle records,
// and false when none read any.
func MostShuffleRead(stages []Stage) (Stage, bool) {
	var best Stage
	found := false
	for _, s := range stages {
		if s.ShuffleReadRecords > 0 && (!found || s.ShuffleReadRecords > best.ShuffleReadRecords) {
			best, found = s, true
		}
	}
	return best, found
}

// Spread summarises how evenly the tasks of one stage read their shuffle
// input: the successful tasks' records, largest first.
type Spread struct {
	// Records are the successful tasks' shuffle records read, largest first.
	Records []int64
	// Total is their sum.
	Total int64
	// Max and Median are the largest and the median task's records (the
	// mean of the middle two for an even count).
	Max    int64
	Median float64
}

// Ratio is Max over Median (0 when the median is 0).
func (s Spread) Ratio() float64 {
	if s.Median == 0 {
		return 0
	}
	return float64(s.Max) / s.Median
}

// SpreadOf summarises the successful tasks' shuffle reads. A task retried
// or run speculatively counts once: only its successful attempt.
func SpreadOf(tasks []Task) Spread {
	var s Spread
	for _, t := range tasks {
		if t.Status != "SUCCESS" {
			continue
		}
		s.Records = append(s.Records, t.RecordsRead())
		s.Total += t.RecordsRead()
	}
	sort.Slice(s.Records, func(i, j int) bool { return s.Records[i] > s.Records[j] })
	n := len(s.Records)
	if n == 0 {
		return s
	}
	s.Max = s.Records[0]
	if n%2 == 1 {
		s.Median = float64(s.Records[n/2])
	} else {
		s.Median = float64(s.Records[n/2-1]+s.Records[n/2]) / 2
	}
	return s
}
