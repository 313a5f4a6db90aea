// Package hdfsclient is delab's own host-side HDFS client: the one the
// HDFS service's readiness probe writes with and the one graders read the
// learner's files with. It sits apart from package services so that a
// grader using it does not import Docker's packages.
package hdfsclient

import (
	"context"
	"fmt"
	"net"
	pathpkg "path"
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
func CloseFile(w *hdfs.FileWriter) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || attempt == 8 {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// PutFile writes data to path on HDFS with the given replication and block
// size, creating parent directories and closing with CloseFile.
func PutFile(c *hdfs.Client, path string, data []byte, replication int, blockSize int64) error {
	if err := c.MkdirAll(pathpkg.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", pathpkg.Dir(path), err)
	}
	w, err := c.CreateFile(path, replication, blockSize, 0o644)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return CloseFile(w)
}
