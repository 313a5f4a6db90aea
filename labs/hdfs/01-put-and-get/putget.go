// Package putget copies files between this machine and HDFS.
//
// Read the lesson first: delab read hdfs/00
// Check your work:       delab check hdfs/01
package putget

import (
	"errors"

	"github.com/colinmarc/hdfs/v2"
)

// Put copies the local file at localPath to remotePath on HDFS, creating
// remotePath's parent directories, with the given block size (bytes) and
// replication factor.
func Put(client *hdfs.Client, localPath, remotePath string, blockSize int64, replication int) error {
	// TODO: create the parent directories, create the file with the
	// requested layout, stream the local file into it and close it.
	return errors.New("Put is not implemented yet (lesson section \"Writing and reading from Go\")")
}

// Get copies the HDFS file at remotePath to the local file localPath.
func Get(client *hdfs.Client, remotePath, localPath string) error {
	// TODO: open the HDFS file and copy all of it into a new local file.
	return errors.New("Get is not implemented yet (lesson section \"Reading it back\")")
}
