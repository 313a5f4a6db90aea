// Package blocks writes a file to HDFS, reports where its blocks live,
// and reads it back, also when a DataNode has died.
//
// Read the lesson first: delab read hdfs/01
// Check your work:       delab check hdfs/02
package blocks

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/colinmarc/hdfs/v2"
)

// Cluster is how your code reaches the lab's HDFS; delab fills it in.
type Cluster struct {
	// NameNode is the NameNode's RPC address, "host:port".
	NameNode string
	// WebHDFS is the NameNode's HTTP address, "http://host:port": its
	// REST API answers under /webhdfs/v1.
	WebHDFS string
	// DialDataNode connects to a DataNode at the address the NameNode
	// gives for it ("172.18.0.2:9876"), from wherever your code runs.
	DialDataNode func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Block is one block of a file, as the NameNode sees it now.
type Block struct {
	// Offset is where the block starts in the file; Length its size in
	// bytes.
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	// DataNodes are the transfer addresses ("ip:port") of the DataNodes
	// that hold a live replica of the block, in any order.
	DataNodes []string `json:"datanodes"`
	// UnderReplicated is true when fewer DataNodes hold it than the
	// file's replication factor asks for.
	UnderReplicated bool `json:"under_replicated"`
}

// Connect returns a client of the NameNode whose connections to DataNodes
// go through c.DialDataNode, to whichever DataNode the client asks for.
func Connect(c Cluster) (*hdfs.Client, error) {
	// TODO: hdfs.NewClient with the NameNode's address, the user "delab"
	// and c.DialDataNode as the DatanodeDialFunc.
	return nil, errors.New("Connect is not implemented yet (lesson section \"Reading: the client goes to the DataNodes\")")
}

// Write stores everything data holds at path, creating its parent
// directories, with the given block size (bytes) and replication.
func Write(c Cluster, path string, data io.Reader, blockSize int64, replication int) error {
	// TODO: connect, create the parent directories, create the file with
	// the block size and replication asked for, copy data in and close it.
	return errors.New("Write is not implemented yet (lesson section \"Choosing the layout when you write\")")
}

// Report asks the NameNode (WebHDFS) for the blocks of the file at path,
// in file order: where each starts, how long it is, which DataNodes hold a
// live replica, and whether that is fewer than the file's replication.
func Report(c Cluster, path string) ([]Block, error) {
	// TODO: GETFILESTATUS for the file's replication, GETFILEBLOCKLOCATIONS
	// for its blocks; one Block per block location.
	return nil, errors.New("Report is not implemented yet (lesson section \"Asking the NameNode where the blocks are\")")
}

// Read copies every byte of the file at path to w. The client asks the
// NameNode where each block lives and reads it from one of the DataNodes
// holding it, trying the next one when a DataNode does not answer.
func Read(c Cluster, path string, w io.Writer) error {
	// TODO: connect, open the file and copy all of it to w.
	return errors.New("Read is not implemented yet (lesson section \"Reading: the client goes to the DataNodes\")")
}
