// Package sparkcheck reads what Spark actually ran from its REST API (the
// UI port, under /api/v1), for graders that judge plans rather than
// printed output: the SQL executions of one run of the learner's code,
// found by the Spark Connect user id the harness connected with, and their
// final physical plans parsed into trees.
//
// How a run's executions are found (measured on Spark 4.0.1): every job
// that Spark Connect starts carries the tag
// "SparkConnect_OperationTag_User_<user_id>_Session_<id>_Operation_<id>"
// and the tag "spark-session-<id>-execution-root-id-<N>", where N is the
// SQL execution it belongs to. The jobs list (/applications/<app>/jobs)
// shows both, so the user id that the harness puts in the connection
// string (sc://host:port/;user_id=<id>) selects that run's executions and
// nobody else's, even while another check runs on the same Spark.
package sparkcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds every response read from the REST API.
const maxBody = 32 << 20

// UserTagPrefix starts the job tag Spark Connect gives every job of a user.
const UserTagPrefix = "SparkConnect_OperationTag_User_"

// Client reads one Spark application's REST API.
type Client struct {
	// UI is the Spark UI's base URL, e.g. "http://127.0.0.1:4040".
	UI   string
	HTTP *http.Client
	app  string
}

// New returns a client for the Spark UI at ui.
func New(ui string) *Client {
	return &Client{UI: strings.TrimRight(ui, "/"), HTTP: &http.Client{Timeout: 20 * time.Second}}
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.UI+"/api/v1"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("spark REST API %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("spark REST API %s: %w", path, err)
	}
	if len(body) > maxBody {
		return fmt.Errorf("spark REST API %s: answer larger than %d bytes", path, maxBody)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("spark REST API %s: %s: %.200s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("spark REST API %s: %w", path, err)
	}
	return nil
}

// App returns the id of the (single) application the UI serves.
func (c *Client) App(ctx context.Context) (string, error) {
	if c.app != "" {
		return c.app, nil
	}
	var apps []struct{ ID string }
	if err := c.get(ctx, "/applications", &apps); err != nil {
		return "", err
	}
	if len(apps) == 0 {
		return "", fmt.Errorf("spark REST API lists no application")
	}
	c.app = apps[0].ID
	return c.app, nil
}

// Job is one job as the REST API lists it.
type Job struct {
	JobID  int      `json:"jobId"`
	Status string   `json:"status"`
	Tags   []string `json:"jobTags"`
}

// Jobs lists the application's jobs (as many as the UI retains).
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	app, err := c.App(ctx)
	if err != nil {
		return nil, err
	}
	var jobs []Job
	err = c.get(ctx, "/applications/"+app+"/jobs", &jobs)
	return jobs, err
}

var rootID = regexp.MustCompile(`-execution-root-id-(\d+)$`)

// UserExecutionIDs returns the SQL execution ids of the jobs that the
// Spark Connect user ran, in increasing order.
func UserExecutionIDs(jobs []Job, user string) []int64 {
	seen := map[int64]bool{}
	prefix := UserTagPrefix + user + "_Session_"
	for _, j := range jobs {
		mine := false
		for _, t := range j.Tags {
			if strings.HasPrefix(t, prefix) {
				mine = true
			}
		}
		if !mine {
			continue
		}
		for _, t := range j.Tags {
			if m := rootID.FindStringSubmatch(t); m != nil {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				seen[id] = true
			}
		}
	}
	var ids []int64
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Execution is one SQL execution with its plan.
type Execution struct {
	ID            int64   `json:"id"`
	Status        string  `json:"status"`
	Description   string  `json:"description"`
	Plan          string  `json:"planDescription"`
	SuccessJobIDs []int64 `json:"successJobIds"`
	FailedJobIDs  []int64 `json:"failedJobIds"`
	RunningJobIDs []int64 `json:"runningJobIds"`
}

// Execution reads one SQL execution with its plan description.
func (c *Client) Execution(ctx context.Context, id int64) (Execution, error) {
	app, err := c.App(ctx)
	if err != nil {
		return Execution{}, err
	}
	var e Execution
	err = c.get(ctx, fmt.Sprintf("/applications/%s/sql/%d?details=true&planDescription=true", app, id), &e)
	return e, err
}

// UserExecutions returns the finished SQL executions of the user's jobs.
// Spark's listener records an execution's end shortly after the client
// has its answer, so it asks again, for up to wait, while any is running.
func (c *Client) UserExecutions(ctx context.Context, user string, wait time.Duration) ([]Execution, error) {
	deadline := time.Now().Add(wait)
	for {
		jobs, err := c.Jobs(ctx)
		if err != nil {
			return nil, err
		}
		var out []Execution
		done := true
		for _, id := range UserExecutionIDs(jobs, user) {
			e, err := c.Execution(ctx, id)
			if err != nil {
				return nil, err
			}
			if e.Status == "RUNNING" || len(e.RunningJobIDs) > 0 {
				done = false
			}
			out = append(out, e)
		}
		if done || time.Now().After(deadline) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}
