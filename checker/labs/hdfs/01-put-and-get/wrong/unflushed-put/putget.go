// Package putget is a wrong solution of hdfs/01-put-and-get.
//
// Mistake: Put copies through a bufio.Writer and never flushes it, so the
// file on HDFS lacks the last buffered bytes (up to 4 KiB): an empty file
// passes, a file of exactly one block does not.
package putget

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// Put copies the local file at localPath to remotePath on HDFS, creating
// remotePath's parent directories, with the given block size (bytes) and
// replication factor.
func Put(client *hdfs.Client, localPath, remotePath string, blockSize int64, replication int) error {
	in, err := os.Open(localPath)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := client.MkdirAll(path.Dir(remotePath), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", path.Dir(remotePath), err)
	}
	w, err := client.CreateFile(remotePath, replication, blockSize, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(bufio.NewWriter(w), in); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", remotePath, err)
	}
	return closeFile(w)
}

// closeFile retries Close while the NameNode waits for the last block's
// replicas to be reported, as the Java client does.
func closeFile(w *hdfs.FileWriter) error {
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

// Get copies the HDFS file at remotePath to the local file localPath.
func Get(client *hdfs.Client, remotePath, localPath string) error {
	r, err := client.Open(remotePath)
	if err != nil {
		return err
	}
	defer r.Close()
	out, err := os.Create(localPath)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("read %s: %w", remotePath, err)
	}
	return out.Close()
}
