// Package hdfsclient is delab's own host-side HDFS client: the one the
// HDFS service's readiness probe writes with and the one graders read the
// learner's files with. It sits apart from package services so that a
// grader using it does not import Docker's packages.
package hdfsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	pathpkg "path"
	"sort"
	"strconv"
	"time"

	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/endpoints"
)

// Options returns client options for a host-side client of a NameNode at
// nameNode whose DataNodes are reached through dataNodes (container
// transfer port → host address).
func Options(nameNode string, dataNodes map[int]string) hdfs.ClientOptions {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return hdfs.ClientOptions{
		Addresses: []string{nameNode},
		User:      "delab",
		DatanodeDialFunc: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, portStr, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			port, _ := strconv.Atoi(portStr)
			if host, ok := dataNodes[port]; ok {
				return dialer.DialContext(ctx, network, host)
			}
			return nil, fmt.Errorf("the NameNode sent DataNode address %s, which delab has no route to", addr)
		},
	}
}

// Connect returns a host-side client of the NameNode in e (graders use it).
func Connect(e endpoints.Endpoints) (*hdfs.Client, error) {
	return hdfs.NewClient(Options(e.HDFSNameNode, e.HDFSDataNodes))
}

// CloseFile closes an HDFS file being written, retrying with backoff while
// the NameNode reports that the last block is still being replicated (the
// client returns ErrReplicating; the Java client retries the same way).
// It gives the DataNodes up to closeBudget to report the block: a grader's
// own write must not fail a check because a loaded machine delayed a
// DataNode's block report (a proof run under load saw 25 s not suffice).
func CloseFile(w *hdfs.FileWriter) error {
	return closeWithin(w, closeBudget)
}

// closeBudget bounds how long CloseFile waits for a block report.
const closeBudget = 90 * time.Second

func closeWithin(w *hdfs.FileWriter, budget time.Duration) error {
	delay := 50 * time.Millisecond
	deadline := time.Now().Add(budget)
	for {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 2*time.Second)
	}
}

// putAttempts and putCloseBudget bound PutFile: a write whose last block
// the NameNode still calls unreplicated after putCloseBudget is written
// again from the start, up to putAttempts times. Twice a proof run saw one
// block stay "replication in progress" for the whole 90 s that CloseFile
// waits (under load, once right after a DataNode restart) while writes
// just before and after closed in milliseconds: a fresh block, often on
// another DataNode, is the way past it, not a longer wait.
const (
	putAttempts    = 3
	putCloseBudget = 30 * time.Second
)

// PutFile writes data to path on HDFS with the given replication and block
// size, creating parent directories. It is the grader's own write, so it tries hard: see putAttempts.
func PutFile(c *hdfs.Client, path string, data []byte, replication int, blockSize int64) error {
	if err := c.MkdirAll(pathpkg.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", pathpkg.Dir(path), err)
	}
	return rewriteWhileStuck(putAttempts, func(again bool) error {
		return putOnce(c, path, data, replication, blockSize, again)
	})
}

// rewriteWhileStuck calls put until it succeeds, fails otherwise than with
// an unconfirmed last block, or has been called attempts times; again is
// false only the first time.
func rewriteWhileStuck(attempts int, put func(again bool) error) error {
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		if err = put(attempt > 1); err == nil || !hdfs.IsErrReplicating(err) {
			return err
		}
	}
	return fmt.Errorf("%w (written %d times; each time the NameNode kept the last block unconfirmed for %s)", err, attempts, putCloseBudget)
}

// putOnce writes path once; again replaces the copy an earlier attempt
// left behind (its last block unconfirmed).
func putOnce(c *hdfs.Client, path string, data []byte, replication int, blockSize int64, again bool) error {
	if again {
		if err := c.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the unconfirmed %s: %w", path, err)
		}
	}
	w, err := c.CreateFile(path, replication, blockSize, 0o644)
	if err != nil {
		return err
	}
	// Not even an empty Write for an empty file: the client's Write
	// allocates a block, and an empty block is never reported complete.
	if len(data) > 0 {
		if _, err := w.Write(data); err != nil {
			w.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return closeWithin(w, putCloseBudget)
}

// NameNodeState is what the NameNode says about itself and its DataNodes
// (its JMX bean NameNodeInfo, read over HTTP).
type NameNodeState struct {
	// SafeMode is the NameNode's safe mode message, "" when it is out of
	// safe mode.
	SafeMode string
	// Live and Dead are the DataNodes it counts as live and as dead, by
	// "hostname:transferport".
	Live, Dead []string
}

// HasDataNode reports whether one of the DataNodes names transfer port
// port (every DataNode of delab's HDFS has its own).
func HasDataNode(nodes []string, port int) bool {
	for _, n := range nodes {
		if _, p, err := net.SplitHostPort(n); err == nil && p == strconv.Itoa(port) {
			return true
		}
	}
	return false
}

// ReadNameNodeState asks the NameNode at webUI ("http://host:port") for
// its state.
func ReadNameNodeState(ctx context.Context, webUI string) (*NameNodeState, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, webUI+"/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the NameNode for its state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ask the NameNode for its state: %s", resp.Status)
	}
	var doc struct {
		Beans []struct {
			Safemode  string
			LiveNodes string
			DeadNodes string
		} `json:"beans"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("ask the NameNode for its state: %w", err)
	}
	if len(doc.Beans) != 1 {
		return nil, fmt.Errorf("ask the NameNode for its state: %d NameNodeInfo beans", len(doc.Beans))
	}
	b := doc.Beans[0]
	st := &NameNodeState{SafeMode: b.Safemode}
	for _, f := range []struct {
		raw string
		out *[]string
	}{{b.LiveNodes, &st.Live}, {b.DeadNodes, &st.Dead}} {
		var nodes map[string]json.RawMessage
		if err := json.Unmarshal([]byte(f.raw), &nodes); err != nil {
			return nil, fmt.Errorf("ask the NameNode for its state: %w", err)
		}
		for n := range nodes {
			*f.out = append(*f.out, n)
		}
		sort.Strings(*f.out)
	}
	return st, nil
}
